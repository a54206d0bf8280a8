//! The hasher of the interpreter's maps (element names and positions).

use std::collections::HashMap;

/// The hasher of the interpreter's maps: FxHash's multiply-rotate, word by word.
/// Deterministic and several times faster than the standard SipHash on the short keys
/// the interpreter hashes for every element it reads or writes (a member's name, a
/// position); the maps hold the program's own values, so flooding is no concern.
#[derive(Clone, Copy, Default)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, x: u8) {
        self.add(x as u64);
    }
    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }
    #[inline]
    fn write_i64(&mut self, x: i64) {
        self.add(x as u64);
    }
    #[inline]
    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map hashed with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// A member key (`(name, gradient or not)`) that can be borrowed from the stored
/// `(String, bool)` keys, so that the interpreter looks a member up by `(&str, bool)`
/// without building a `String` for every element it reads or writes. Its hash is the
/// tuple's (the name's then the flag's), so both forms find the same entry.
pub trait MemberKey {
    fn name(&self) -> &str;
    fn grad(&self) -> bool;
}

impl MemberKey for (String, bool) {
    fn name(&self) -> &str {
        &self.0
    }
    fn grad(&self) -> bool {
        self.1
    }
}

impl MemberKey for (&str, bool) {
    fn name(&self) -> &str {
        self.0
    }
    fn grad(&self) -> bool {
        self.1
    }
}

impl<'a> std::borrow::Borrow<dyn MemberKey + 'a> for (String, bool) {
    fn borrow(&self) -> &(dyn MemberKey + 'a) {
        self
    }
}

impl std::hash::Hash for dyn MemberKey + '_ {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // The same calls as `<(String, bool) as Hash>::hash`.
        self.name().hash(h);
        self.grad().hash(h);
    }
}

impl PartialEq for dyn MemberKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.grad() == other.grad() && self.name() == other.name()
    }
}

impl Eq for dyn MemberKey + '_ {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    #[test]
    fn a_borrowed_member_key_hashes_and_finds_as_the_stored_one() {
        let s: BuildHasherDefault<FastHasher> = Default::default();
        for (name, grad) in [
            ("L_{3}", false),
            ("W", true),
            ("", false),
            ("long_member_name_{1,2}", true),
        ] {
            let owned = (name.to_string(), grad);
            let borrowed: &dyn MemberKey = &(name, grad);
            assert_eq!(s.hash_one(&owned), s.hash_one(borrowed));
        }
        let mut m: FastMap<(String, bool), i32> = FastMap::default();
        m.insert(("h".into(), false), 1);
        m.insert(("h".into(), true), 2);
        assert_eq!(m.get(&("h", false) as &dyn MemberKey), Some(&1));
        assert_eq!(m.get(&("h", true) as &dyn MemberKey), Some(&2));
        assert_eq!(m.get(&("g", false) as &dyn MemberKey), None);
    }
}
