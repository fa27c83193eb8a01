//! Writing the cache (glibc's cache.c save_cache and stringtable.c).

use super::*;

/// The string table: every string once, sorted so that a string that is the tail of another
/// follows it and shares its bytes. Returns the table and each string's offset.
pub(super) fn string_table(strings: &BTreeSet<Vec<u8>>) -> (Vec<u8>, HashMap<&[u8], usize>) {
    let mut sorted: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
    // Reversed strings in descending order: a longer string precedes its suffixes.
    sorted.sort_by(|l, r| r.iter().rev().cmp(l.iter().rev()));
    let mut offsets = HashMap::with_capacity(sorted.len());
    let mut size = 0;
    let mut previous: Option<(&[u8], usize)> = None;
    for &s in &sorted {
        let offset = match previous {
            None => 0,
            Some((prev, off)) if prev.len() >= s.len() && prev.ends_with(s) => {
                off + prev.len() - s.len()
            }
            Some((prev, off)) => off + prev.len() + 1,
        };
        offsets.insert(s, offset);
        size = size.max(offset + s.len() + 1);
        previous = Some((s, offset));
    }
    let mut table = vec![0u8; size];
    for (&s, &offset) in &offsets {
        table[offset..offset + s.len()].copy_from_slice(s);
    }
    (table, offsets)
}

pub(super) fn assemble(
    records: &[Record],
    hwcaps: &[Hwcaps],
    generator: &[u8],
) -> Result<Vec<u8>, LdCacheError> {
    let too_large = |what| LdCacheError::TooLarge { what };
    let to_u32 = |v: usize, what| u32::try_from(v).map_err(|_| too_large(what));

    let mut strings: BTreeSet<Vec<u8>> = BTreeSet::new();
    for r in records {
        strings.insert(r.soname.clone());
        strings.insert(r.path.clone());
    }
    // Every glibc-hwcaps name met is interned, even when no library came from it.
    for h in hwcaps {
        strings.insert(h.name.as_bytes().to_vec());
    }
    let (table, offsets) = string_table(&strings);
    let offset_of = |s: &[u8]| offsets.get(s).copied().unwrap_or_default();

    // Used subdirectories are numbered in name order.
    let mut used: Vec<usize> = (0..hwcaps.len()).filter(|&i| hwcaps[i].used).collect();
    used.sort_by(|&a, &b| hwcaps[a].name.as_bytes().cmp(hwcaps[b].name.as_bytes()));
    let mut section_index = vec![0u32; hwcaps.len()];
    for (index, &h) in used.iter().enumerate() {
        section_index[h] = to_u32(index, "glibc-hwcaps subdirectories")?;
    }

    let strings_start = records
        .len()
        .checked_mul(ENTRY_SIZE)
        .and_then(|n| n.checked_add(HEADER_SIZE))
        .ok_or_else(|| too_large("entries"))?;
    let str_offset = to_u32(strings_start, "entries")?;
    let strings_end = strings_start
        .checked_add(table.len())
        .ok_or_else(|| too_large("strings"))?;
    let extension_offset = strings_end
        .checked_add(3)
        .map(|v| v & !3)
        .ok_or_else(|| too_large("strings"))?;
    let sections = if used.is_empty() { 1 } else { 2 };
    let hwcaps_offset = extension_offset + EXTENSION_HEADER_SIZE + 2 * EXTENSION_SECTION_SIZE;
    let hwcaps_size = 4 * used.len();
    let generator_offset = if used.is_empty() {
        extension_offset + EXTENSION_HEADER_SIZE + EXTENSION_SECTION_SIZE
    } else {
        hwcaps_offset + hwcaps_size
    };
    let total = generator_offset + generator.len();
    to_u32(total, "file size")?;

    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(&to_u32(records.len(), "entries")?.to_le_bytes());
    out.extend_from_slice(&to_u32(table.len(), "strings")?.to_le_bytes());
    out.push(ENDIAN_LITTLE);
    out.extend_from_slice(&[0; 3]);
    out.extend_from_slice(&to_u32(extension_offset, "strings")?.to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    for r in records {
        let hwcap = match r.hwcaps {
            None => 0,
            Some(h) => {
                DL_CACHE_HWCAP_EXTENSION
                    | (u64::from(r.isa_level) << 32)
                    | u64::from(section_index.get(h).copied().unwrap_or_default())
            }
        };
        let key = str_offset + to_u32(offset_of(&r.soname), "strings")?;
        let value = str_offset + to_u32(offset_of(&r.path), "strings")?;
        out.extend_from_slice(&r.flags.to_le_bytes());
        out.extend_from_slice(&key.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // osversion, unused since glibc 2.37
        out.extend_from_slice(&hwcap.to_le_bytes());
    }
    out.extend_from_slice(&table);
    out.resize(extension_offset, 0);

    out.extend_from_slice(&EXTENSION_MAGIC.to_le_bytes());
    out.extend_from_slice(&to_u32(sections, "extension")?.to_le_bytes());
    for word in [TAG_GENERATOR, 0, to_u32(generator_offset, "extension")?] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&to_u32(generator.len(), "generator")?.to_le_bytes());
    if !used.is_empty() {
        for word in [
            TAG_GLIBC_HWCAPS,
            0,
            to_u32(hwcaps_offset, "extension")?,
            to_u32(hwcaps_size, "extension")?,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for &h in &used {
            let at = str_offset + to_u32(offset_of(hwcaps[h].name.as_bytes()), "strings")?;
            out.extend_from_slice(&at.to_le_bytes());
        }
    }
    out.extend_from_slice(generator);
    Ok(out)
}
