//! The deterministic tar writer: a tree (or the part of it a layer holds) becomes a tar stream
//! with entries in path order and normalised headers — ustar, with a PAX record only for what
//! ustar cannot hold (long names, xattrs, big ids or sizes), no user or group names, nothing
//! from the host. Compression and hashing happen in the `Write` it is given.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::tree::{Content, Node, NodeKind, Tree};

/// Writes the nodes `select` accepts, plus every ancestor directory they need, as a tar
/// stream ending with the two zero blocks. `mtime_clamp` caps every mtime (the build time),
/// so a package built "in the future" cannot make the image depend on when it was built.
pub fn write_tar<W: Write>(
    tree: &Tree,
    mut select: impl FnMut(&str, &Node) -> bool,
    mtime_clamp: u64,
    out: W,
) -> io::Result<W> {
    let mut writer = TarWriter {
        out,
        mtime_clamp,
        written_dirs: std::collections::HashSet::new(),
        link_redirect: BTreeMap::new(),
    };
    for (path, node) in tree.iter() {
        if !select(path, node) {
            continue;
        }
        writer.parents(tree, path)?;
        writer.node(tree, path, node)?;
    }
    writer.out.write_all(&[0u8; 1024])?;
    Ok(writer.out)
}

struct TarWriter<W> {
    out: W,
    mtime_clamp: u64,
    written_dirs: std::collections::HashSet<String>,
    /// Hard link target → the path its content was written under, when a link sorted
    /// before its target and so carries the content itself.
    link_redirect: BTreeMap<String, String>,
}

impl<W: Write> TarWriter<W> {
    fn parents(&mut self, tree: &Tree, path: &str) -> io::Result<()> {
        let mut end = 0;
        while let Some(pos) = path[end..].find('/') {
            let dir = &path[..end + pos];
            if !self.written_dirs.contains(dir)
                && let Some(node) = tree.get(dir)
            {
                self.node(tree, dir, node)?;
            }
            end += pos + 1;
        }
        Ok(())
    }

    fn node(&mut self, tree: &Tree, path: &str, node: &Node) -> io::Result<()> {
        match &node.kind {
            NodeKind::Directory => {
                if self.written_dirs.insert(path.to_owned()) {
                    self.entry(
                        &format!("{path}/"),
                        node,
                        tar::EntryType::Directory,
                        None,
                        None,
                    )?;
                }
                Ok(())
            }
            NodeKind::File(content) => match self.link_redirect.get(path).cloned() {
                Some(first) => self.entry(path, node, tar::EntryType::Link, Some(&first), None),
                None => self.entry(path, node, tar::EntryType::Regular, None, Some(content)),
            },
            NodeKind::Symlink(target) => {
                self.entry(path, node, tar::EntryType::Symlink, Some(target), None)
            }
            NodeKind::Hardlink(target) => self.hardlink(tree, path, node, target),
            NodeKind::CharDevice { .. } => self.entry(path, node, tar::EntryType::Char, None, None),
            NodeKind::BlockDevice { .. } => {
                self.entry(path, node, tar::EntryType::Block, None, None)
            }
            NodeKind::Fifo => self.entry(path, node, tar::EntryType::Fifo, None, None),
        }
    }

    fn hardlink(&mut self, tree: &Tree, path: &str, node: &Node, target: &str) -> io::Result<()> {
        if let Some(first) = self.link_redirect.get(target).cloned() {
            return self.entry(path, node, tar::EntryType::Link, Some(&first), None);
        }
        if target < path {
            return self.entry(path, node, tar::EntryType::Link, Some(target), None);
        }
        // The link sorts before its target: write the content here, and the target later
        // as a link to this path. Mode, owner and xattrs are the file's (one inode), so a
        // permission change made on the target is what the extracted link gets.
        let Some(
            file @ Node {
                kind: NodeKind::File(content),
                ..
            },
        ) = tree.get(target)
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("hard link /{path} points at /{target}, which is not a file of the tree"),
            ));
        };
        self.link_redirect
            .insert(target.to_owned(), path.to_owned());
        self.entry(path, file, tar::EntryType::Regular, None, Some(content))
    }

    fn entry(
        &mut self,
        path: &str,
        node: &Node,
        kind: tar::EntryType,
        link: Option<&str>,
        content: Option<&Content>,
    ) -> io::Result<()> {
        let mut header = tar::Header::new_ustar();
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        if header.set_path(path).is_err() || path.len() > 100 {
            // ustar's prefix split is legal but some readers mishandle it; PAX is unambiguous.
            pax.push(("path".into(), path.as_bytes().to_vec()));
            header.set_path(truncate_name(path))?;
        }
        if let Some(link) = link
            && (link.len() > 100 || header.set_link_name(link).is_err())
        {
            pax.push(("linkpath".into(), link.as_bytes().to_vec()));
            header.set_link_name(truncate_name(link))?;
        }
        for (name, value) in &node.xattrs {
            pax.push((format!("SCHILY.xattr.{name}"), value.clone()));
        }
        header.set_entry_type(kind);
        header.set_mode(node.mode & 0o7777);
        set_id(&mut header, &mut pax, "uid", node.uid)?;
        set_id(&mut header, &mut pax, "gid", node.gid)?;
        header.set_mtime(node.mtime.min(self.mtime_clamp));
        let size = content.map_or(0, Content::len);
        header.set_size(size);
        if let NodeKind::CharDevice { major, minor } | NodeKind::BlockDevice { major, minor } =
            node.kind
        {
            header.set_device_major(major)?;
            header.set_device_minor(minor)?;
        }
        if !pax.is_empty() {
            self.pax_header(path, &pax)?;
        }
        header.set_cksum();
        self.out.write_all(header.as_bytes())?;
        if let Some(content) = content {
            content.write_to(&mut self.out)?;
        }
        pad(&mut self.out, size)
    }

    fn pax_header(&mut self, path: &str, records: &[(String, Vec<u8>)]) -> io::Result<()> {
        let mut body = Vec::new();
        for (key, value) in records {
            body.extend(pax_record(key, value));
        }
        let mut header = tar::Header::new_ustar();
        header.set_path(truncate_name(&format!("PaxHeaders/{path}")))?;
        header.set_entry_type(tar::EntryType::XHeader);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_size(body.len() as u64);
        header.set_cksum();
        self.out.write_all(header.as_bytes())?;
        self.out.write_all(&body)?;
        pad(&mut self.out, body.len() as u64)
    }
}

fn set_id(
    header: &mut tar::Header,
    pax: &mut Vec<(String, Vec<u8>)>,
    key: &str,
    id: u32,
) -> io::Result<()> {
    // ustar's octal field holds up to 0o7777777.
    let fits = id <= 0o7_777_777;
    let value = if fits { u64::from(id) } else { 0 };
    if !fits {
        pax.push((key.to_owned(), id.to_string().into_bytes()));
    }
    if key == "uid" {
        header.set_uid(value);
    } else {
        header.set_gid(value);
    }
    Ok(())
}

/// A PAX record: `"<len> <key>=<value>\n"` where len counts the whole record.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let rest = key.len() + value.len() + 3; // space, '=', newline
    let mut len = rest + 1;
    while len.to_string().len() + rest > len {
        len += 1;
    }
    let mut out = format!("{len} {key}=").into_bytes();
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

/// The last 100 bytes of a name, cut at a character boundary (the PAX record has the rest).
fn truncate_name(name: &str) -> &str {
    let mut start = name.len().saturating_sub(100);
    while !name.is_char_boundary(start) {
        start += 1;
    }
    &name[start..]
}

fn pad<W: Write>(out: &mut W, len: u64) -> io::Result<()> {
    let rem = (len % 512) as usize;
    if rem != 0 {
        out.write_all(&[0u8; 512][..512 - rem])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;

    fn sample() -> Tree {
        let mut t = Tree::new();
        t.insert("bin/busybox".into(), Node::file(&b"#!bb"[..], 0o755))
            .unwrap();
        t.insert("bin/sh".into(), Node::symlink("/bin/busybox"))
            .unwrap();
        let long = format!("usr/share/{}/file", "x".repeat(120));
        t.insert(long, Node::file(&b"long"[..], 0o644)).unwrap();
        let mut a = Node::file(&b"same"[..], 0o644);
        a.kind = NodeKind::Hardlink("z/target".into());
        t.insert("a/link".into(), a).unwrap();
        t.insert("z/target".into(), Node::file(&b"same"[..], 0o644))
            .unwrap();
        t
    }

    fn read_back(bytes: &[u8]) -> Vec<(String, tar::EntryType, Vec<u8>, Option<String>)> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let kind = e.header().entry_type();
                let link = e
                    .link_name()
                    .unwrap()
                    .map(|l| l.to_string_lossy().into_owned());
                let mut content = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut content).unwrap();
                (path, kind, content, link)
            })
            .collect()
    }

    #[test]
    fn entries_are_in_order_with_parents_links_and_long_names() {
        let bytes = write_tar(&sample(), |_, _| true, u64::MAX, Vec::new()).unwrap();
        let entries = read_back(&bytes);
        let names: Vec<_> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names[..5],
            ["a/", "a/link", "bin/", "bin/busybox", "bin/sh"]
        );
        // The hard link sorts first, so it carries the content and the target links to it.
        assert_eq!(entries[1].2, b"same");
        let target = entries.iter().find(|e| e.0 == "z/target").unwrap();
        assert_eq!(target.1, tar::EntryType::Link);
        assert_eq!(target.3.as_deref(), Some("a/link"));
        assert!(names.iter().any(|n| n.len() > 100 && n.ends_with("/file")));
        assert_eq!(bytes.len() % 512, 0);
    }

    #[test]
    fn output_is_byte_stable_and_clamps_mtimes() {
        let mut t = sample();
        t.get_mut("bin/busybox").unwrap().mtime = 4_000_000_000;
        let a = write_tar(&t, |_, _| true, 1_700_000_000, Vec::new()).unwrap();
        let b = write_tar(&t, |_, _| true, 1_700_000_000, Vec::new()).unwrap();
        assert_eq!(a, b);
        let mut archive = tar::Archive::new(&a[..]);
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            assert!(e.header().mtime().unwrap() <= 1_700_000_000);
            assert_eq!(e.header().username_bytes(), Some(&b""[..]));
        }
    }

    #[test]
    fn pax_record_length_counts_itself() {
        let r = pax_record("path", b"abc");
        assert_eq!(r, b"12 path=abc\n");
        let long = pax_record("k", &[b'v'; 95]);
        assert_eq!(long.len().to_string(), String::from_utf8_lossy(&long[..3]));
    }
}
