//! A minimal tar block writer that produces exactly the header shapes found in real APK
//! files. The `tar` crate is not used on purpose: it cannot write GNU-style `PaxHeaders`
//! names, abuild's binary digest in `linkname`, or archives cut before the end-of-archive
//! blocks, and writing the bytes ourselves keeps this crate an independent check of readers.

/// Size of one tar block.
pub(crate) const BLOCK: usize = 512;

/// GNU tar's default record size (20 blocks): abuild's data tars are padded to it.
pub(crate) const RECORD: usize = 20 * BLOCK;

/// Which magic a header carries; real packages mix both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Magic {
    /// `ustar\0` + `00`: POSIX/PAX headers (abuild's control and data tars).
    Posix,
    /// `ustar  \0`: old GNU headers (signature tars, apk-tools' APKINDEX tars).
    Gnu,
}

/// One tar header, before encoding.
#[derive(Clone, Debug)]
pub(crate) struct Header<'a> {
    pub name: &'a [u8],
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub mtime: u64,
    pub typeflag: u8,
    pub linkname: &'a [u8],
    pub uname: &'a str,
    pub gname: &'a str,
    pub magic: Magic,
}

impl Header<'_> {
    /// The 512-byte header block, checksum included. Over-long names are truncated: the
    /// caller is expected to have put the full value in a PAX record.
    pub(crate) fn encode(&self) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        put_bytes(&mut b[0..100], self.name);
        put_octal(&mut b[100..108], u64::from(self.mode));
        put_octal(&mut b[108..116], self.uid);
        put_octal(&mut b[116..124], self.gid);
        put_octal(&mut b[124..136], self.size);
        put_octal(&mut b[136..148], self.mtime);
        b[156] = self.typeflag;
        put_bytes(&mut b[157..257], self.linkname);
        match self.magic {
            Magic::Posix => b[257..265].copy_from_slice(b"ustar\x0000"),
            Magic::Gnu => b[257..265].copy_from_slice(b"ustar  \0"),
        }
        put_bytes(&mut b[265..297], self.uname.as_bytes());
        put_bytes(&mut b[297..329], self.gname.as_bytes());
        // Real packages leave devmajor/devminor all-NUL rather than "0000000\0".
        // The checksum is computed with its own field as spaces, then written as
        // six octal digits, NUL, space (what GNU tar does).
        b[148..156].fill(b' ');
        let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
        let digits = format!("{sum:06o}");
        b[148..154].copy_from_slice(digits.as_bytes());
        b[154] = 0;
        b[155] = b' ';
        b
    }
}

/// Copies `src` into a fixed field, truncating what does not fit.
fn put_bytes(field: &mut [u8], src: &[u8]) {
    let n = src.len().min(field.len());
    field[..n].copy_from_slice(&src[..n]);
}

/// Zero-padded octal with a trailing NUL, as GNU tar writes numeric fields.
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    assert!(
        s.len() <= width,
        "value {value} does not fit a {}-byte tar field",
        field.len()
    );
    field[..width].copy_from_slice(s.as_bytes());
    field[width] = 0;
}

/// One PAX extended-header record, `"<len> <key>=<value>\n"`, where `<len>` counts the
/// whole record including its own digits.
pub(crate) fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, '=', newline
    let mut len = rest + 1;
    while len != rest + len.to_string().len() {
        len = rest + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    debug_assert_eq!(r.len(), len);
    r
}

/// A growing tar stream.
#[derive(Default)]
pub(crate) struct TarWriter {
    pub buf: Vec<u8>,
}

impl TarWriter {
    /// Appends a header and its content, padded to whole blocks.
    pub(crate) fn entry(&mut self, header: &Header<'_>, content: &[u8]) {
        assert_eq!(
            header.size,
            content.len() as u64,
            "tar header size disagrees with content for {}",
            String::from_utf8_lossy(header.name)
        );
        self.buf.extend_from_slice(&header.encode());
        self.buf.extend_from_slice(content);
        self.pad_to(BLOCK);
    }

    /// Appends zero bytes up to the next multiple of `unit`.
    pub(crate) fn pad_to(&mut self, unit: usize) {
        let rem = self.buf.len() % unit;
        if rem != 0 {
            self.buf.resize(self.buf.len() + unit - rem, 0);
        }
    }

    /// Appends the two zero blocks that end an archive.
    pub(crate) fn finish(&mut self) {
        self.buf.resize(self.buf.len() + 2 * BLOCK, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_counts_its_own_digits() {
        assert_eq!(pax_record("ctime", b"0"), b"11 ctime=0\n");
        // 98 bytes without the length: two digits would make 100, which needs three.
        let v = vec![b'a'; 91];
        let r = pax_record("path", &v);
        assert_eq!(r.len(), 101);
        assert!(r.starts_with(b"101 path="));
    }

    #[test]
    fn header_checksum_matches_gnu_layout() {
        let h = Header {
            name: b".PKGINFO",
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 740,
            mtime: 1_699_383_189,
            typeflag: b'0',
            linkname: b"",
            uname: "root",
            gname: "root",
            magic: Magic::Posix,
        };
        let b = h.encode();
        // Values taken from busybox-1.36.1-r15.apk's control tar.
        assert_eq!(&b[100..108], b"0000644\0");
        assert_eq!(&b[124..136], b"00000001344\0");
        assert_eq!(&b[136..148], b"14522503625\0");
        assert_eq!(&b[148..156], b"010720\0 ");
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn oversized_number_panics() {
        let mut f = [0u8; 8];
        put_octal(&mut f, 0o10_000_000);
    }
}
