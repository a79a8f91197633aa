//! Interaction JSON into command options: any bytes as the body of
//! POST /interactions, after the signature (which the fuzzer cannot forge).
#![no_main]

use hallpass::discord::{Incoming, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Incoming::Request(envelope)) = parse(data) {
        // What the handlers are given must be printable and well formed.
        let _ = format!("{:?}", envelope.request);
    }
});
