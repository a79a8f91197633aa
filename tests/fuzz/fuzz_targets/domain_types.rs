//! Each domain-type parser (src/directory): any text. A value that parses
//! must parse again to itself from its own text (no parser accepts what it
//! then prints differently), and nothing may panic.
#![no_main]

use hallpass::directory::{
    DiscordGuildId, DiscordUserId, Grade, Login, PersonName, Role, SchoolId, TenantName, Title,
    UserId,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(login) = Login::parse(text) {
        assert_eq!(Login::parse(login.as_str()).ok().as_ref(), Some(&login));
    }
    if let Ok(name) = PersonName::parse(text) {
        assert_eq!(PersonName::parse(name.as_str()).ok().as_ref(), Some(&name));
    }
    if let Ok(title) = Title::parse(text) {
        assert_eq!(Title::parse(title.as_str()).ok().as_ref(), Some(&title));
    }
    if let Ok(tenant) = TenantName::parse(text) {
        assert_eq!(
            TenantName::parse(tenant.as_str()).ok().as_ref(),
            Some(&tenant)
        );
    }
    if let Ok(grade) = Grade::parse(text) {
        assert_eq!(Grade::parse(&grade.code()).ok(), Some(grade));
    }
    if let Ok(role) = Role::parse(text) {
        assert_eq!(Role::parse(role.as_str()).ok(), Some(role));
    }
    let _ = UserId::parse(text);
    let _ = SchoolId::parse(text);
    let _ = DiscordUserId::parse(text);
    let _ = DiscordGuildId::parse(text);
});
