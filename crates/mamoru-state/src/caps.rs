//! Capability sets as text, the way `thread.cap_*` prints them: the names of the set bits, space-separated.

/// Capability names by bit number: the event model's table, shared with the parameter renderers.
pub use mamoru_event::render::CAPABILITY_NAMES as CAP_NAMES;

/// Every capability this table knows, as a mask (what an unshare into a new user namespace grants).
pub const ALL_CAPS: u64 = (1u64 << CAP_NAMES.len()) - 1;

/// Appends the names of the bits set in `caps` to `out`, separated by single spaces.
pub use mamoru_event::render::cap_names as caps_to_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_names_in_bit_order() {
        let mut out = Vec::new();
        caps_to_text((1 << 0) | (1 << 21) | (1 << 39), &mut out);
        assert_eq!(out, b"CAP_CHOWN CAP_SYS_ADMIN CAP_BPF");
        out.clear();
        caps_to_text(0, &mut out);
        assert!(out.is_empty());
    }
}
