//! The entries of the index's sorted lists (see [`Entry`]).

use crate::directory::Role;

/// A list's entry: the person's slot and role, and the first bytes of the
/// list's key. A search reads the lists alone until it has its candidates:
/// following every slot to its person (and on to the person's texts) was
/// two cache misses per step of each binary search and per entry walked,
/// most of a keystroke's search time (perf: `partition_point`'s loads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// The slot in the low 30 bits, the role in the top two.
    slot_role: u32,
    /// The key's first bytes, zero-padded: order agrees with the key's
    /// wherever two heads differ.
    pub head: [u8; HEAD],
}

pub(super) const HEAD: usize = 4;
const SLOT_BITS: u32 = 30;

impl Entry {
    pub fn new(slot: u32, role: Role, key: &str) -> Self {
        let role = match role {
            Role::Student => 0,
            Role::Teacher => 1,
            Role::SchoolAdmin => 2,
            Role::DistrictAdmin => 3,
        };
        Self {
            slot_role: (slot & ((1 << SLOT_BITS) - 1)) | (role << SLOT_BITS),
            head: head_of(key),
        }
    }

    pub fn slot(self) -> u32 {
        self.slot_role & ((1 << SLOT_BITS) - 1)
    }

    pub fn role(self) -> Role {
        match self.slot_role >> SLOT_BITS {
            0 => Role::Student,
            1 => Role::Teacher,
            2 => Role::SchoolAdmin,
            _ => Role::DistrictAdmin,
        }
    }
}

pub(super) fn head_of(text: &str) -> [u8; HEAD] {
    let mut head = [0u8; HEAD];
    for (h, b) in head.iter_mut().zip(text.bytes()) {
        *h = b;
    }
    head
}

/// Slots beyond the 30 bits an [`Entry`] holds cannot be listed: a billion
/// people in one tenant.
pub(super) const MOST_PEOPLE: usize = 1 << SLOT_BITS;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_keeps_its_slot_and_role() {
        let roles = [
            Role::Student,
            Role::Teacher,
            Role::SchoolAdmin,
            Role::DistrictAdmin,
        ];
        for (i, role) in roles.into_iter().enumerate() {
            let slot = (MOST_PEOPLE - 1 - i) as u32;
            let entry = Entry::new(slot, role, "lopez");
            assert_eq!((entry.slot(), entry.role()), (slot, role));
            assert_eq!(&entry.head, b"lope");
        }
    }

    #[test]
    fn heads_that_differ_order_as_their_keys_do() {
        let keys = [
            "",
            "a",
            "ab",
            "ab\u{0}",
            "abc",
            "abcd",
            "abcde",
            "abd",
            "b",
            "\u{e9}mile",
            "zz",
        ];
        for a in keys {
            for b in keys {
                let (ha, hb) = (head_of(a), head_of(b));
                if ha != hb {
                    assert_eq!(ha.cmp(&hb), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }
}
