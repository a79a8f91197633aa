//! The Zendesk webhook body: any bytes as the trigger's JSON, then the
//! decision and the ticket number read from it.
#![no_main]

use hallpass::support::TriggerPayload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = serde_json::from_slice::<TriggerPayload>(data) {
        let _ = payload.decision();
        let _ = payload.ticket_id_number();
        let _ = payload.tag_list().count();
    }
});
