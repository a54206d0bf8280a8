//! Name-based UUIDs (RFC 4122 version 5: SHA-1 of a namespace and a name), so that a
//! question exported again from the same file keeps its identifier. SHA-1 is written out
//! here (FIPS 180-4) to need no dependency; it only names questions, it secures nothing.

/// The namespace of tq's question identifiers: the version-5 UUID of the name `tq.export`
/// in the DNS namespace of RFC 4122 (Python: `uuid.uuid5(uuid.NAMESPACE_DNS, "tq.export")`).
pub const TQ_NAMESPACE: [u8; 16] = [
    0x7b, 0xdc, 0x9f, 0x22, 0x57, 0xcf, 0x5a, 0x00, 0xbd, 0xd1, 0xb3, 0x6f, 0xbf, 0x36, 0x9e, 0x98,
];

/// The DNS namespace of RFC 4122 (6ba7b810-9dad-11d1-80b4-00c04fd430c8).
pub const DNS_NAMESPACE: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// The version-5 UUID of `name` in `namespace`, in its lower-case text form.
pub fn uuid5(namespace: &[u8; 16], name: &str) -> String {
    let mut data = namespace.to_vec();
    data.extend_from_slice(name.as_bytes());
    let hash = sha1(&data);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_answers() {
        let hex = |b: [u8; 20]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        // FIPS 180 examples.
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn uuid5_matches_rfc_4122() {
        // Python's documented example: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org').
        assert_eq!(
            uuid5(&DNS_NAMESPACE, "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
        let ns = uuid5(&DNS_NAMESPACE, "tq.export");
        let hex: String = TQ_NAMESPACE.iter().map(|x| format!("{x:02x}")).collect();
        assert_eq!(ns.replace('-', ""), hex);
    }
}
