//! Reading libraries (glibc's readlib.c / readelflib.c, per architecture).

use super::*;

/// What `process_file` learns about a library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LibInfo {
    pub(super) flag: i32,
    pub(super) isa_level: u32,
    pub(super) soname: Option<Vec<u8>>,
}

/// Why a file is not a library `ldconfig` would cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    TooSmall,
    NotElf,
    NotShared,
    WrongClass,
    UnknownMachine(u16),
    /// A header, table or string lies (partly) outside the file.
    Truncated,
    NoDynamic,
    NoStringTable,
}

pub(super) const EM_386: u16 = 3;
pub(super) const EM_X86_64: u16 = 62;
pub(super) const ET_DYN: u16 = 3;
pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_DYNAMIC: u32 = 2;
pub(super) const PT_INTERP: u32 = 3;
pub(super) const PT_GNU_PROPERTY: u32 = 0x6474_e553;
pub(super) const DT_NULL: u64 = 0;
pub(super) const DT_STRTAB: u64 = 5;
pub(super) const DT_SONAME: u64 = 14;
pub(super) const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
pub(super) const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;
pub(super) const EF_ARM_EABIMASK: u32 = 0xff00_0000;
pub(super) const EF_ARM_EABI_VER5: u32 = 0x0500_0000;
pub(super) const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
pub(super) const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;

/// `process_file` + the architecture's `process_elf_file`.
pub(super) fn process_file(data: &[u8], name: &[u8], arch: LdArch) -> Result<LibInfo, Skip> {
    // ldconfig is a 64-bit program: files shorter than an Elf64_Ehdr are never looked at.
    if data.len() < 64 {
        return Err(Skip::TooSmall);
    }
    // a.out libraries (ZMAGIC, QMAGIC) are still recognised: no SONAME, the name up to the
    // major version stands for it.
    let a_magic = le_u16(data, 0).ok_or(Skip::TooSmall)?;
    if a_magic == 0o413 || a_magic == 0o314 {
        let mut soname = name.to_vec();
        let cut = find(&soname, b".so.").and_then(|major| {
            let dot = soname[major + 4..].iter().position(|&b| b == b'.')?;
            Some(major + 4 + dot)
        });
        if let Some(cut) = cut {
            soname.truncate(cut);
        }
        return Ok(LibInfo {
            flag: FLAG_ELF_LIBC6,
            isa_level: 0,
            soname: Some(soname),
        });
    }
    if !data.starts_with(b"\x7fELF") {
        return Err(Skip::NotElf);
    }
    if le_u16(data, 16) != Some(ET_DYN) {
        return Err(Skip::NotShared);
    }
    let machine = le_u16(data, 18).ok_or(Skip::Truncated)?;
    let class = data[4];
    match arch {
        LdArch::X86_64 => {
            let file_flag = match machine {
                EM_X86_64 if class == 2 => FLAG_X8664_LIB64 | FLAG_ELF_LIBC6,
                EM_X86_64 => FLAG_X8664_LIBX32 | FLAG_ELF_LIBC6,
                EM_386 if class == 1 => 0,
                other => return Err(Skip::UnknownMachine(other)),
            };
            let mut info = read_elf(data, class != 1, true)?;
            if file_flag != 0 {
                info.flag = file_flag;
            }
            Ok(info)
        }
        LdArch::Aarch64 => {
            if class == 1 {
                let mut info = read_elf(data, false, false)?;
                let e_flags = le_u32(data, 36).ok_or(Skip::Truncated)?;
                if e_flags & EF_ARM_EABIMASK == EF_ARM_EABI_VER5 {
                    info.flag = if e_flags & EF_ARM_ABI_FLOAT_HARD != 0 {
                        FLAG_ARM_LIBHF | FLAG_ELF_LIBC6
                    } else if e_flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
                        FLAG_ARM_LIBSF | FLAG_ELF_LIBC6
                    } else {
                        FLAG_ELF_LIBC6
                    };
                }
                Ok(info)
            } else {
                // Any 64-bit ELF counts as AArch64: glibc does not look at e_machine here.
                let mut info = read_elf(data, true, false)?;
                info.flag = FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6;
                Ok(info)
            }
        }
    }
}

/// One program header, widened to 64 bits.
pub(super) struct Phdr {
    pub(super) p_type: u32,
    pub(super) offset: u64,
    pub(super) vaddr: u64,
    pub(super) filesz: u64,
    pub(super) align: u64,
}

/// Little-endian ELF fields of one class.
pub(super) struct Elf<'a> {
    pub(super) data: &'a [u8],
    pub(super) wide: bool,
}

impl Elf<'_> {
    pub(super) fn word(&self, at: u64) -> Result<u64, Skip> {
        let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
        if self.wide {
            le_u64(self.data, at)
        } else {
            le_u32(self.data, at).map(u64::from)
        }
        .ok_or(Skip::Truncated)
    }

    pub(super) fn half(&self, at: usize) -> Result<u64, Skip> {
        le_u16(self.data, at).map(u64::from).ok_or(Skip::Truncated)
    }

    pub(super) fn u32_at(&self, at: u64) -> Result<u32, Skip> {
        let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
        le_u32(self.data, at).ok_or(Skip::Truncated)
    }

    pub(super) fn phdr(&self, at: u64) -> Result<Phdr, Skip> {
        if self.wide {
            Ok(Phdr {
                p_type: self.u32_at(at)?,
                offset: self.word(at + 8)?,
                vaddr: self.word(at + 16)?,
                filesz: self.word(at + 32)?,
                align: self.word(at + 48)?,
            })
        } else {
            Ok(Phdr {
                p_type: self.u32_at(at)?,
                offset: self.word(at + 4)?,
                vaddr: self.word(at + 8)?,
                filesz: self.word(at + 16)?,
                align: self.word(at + 28)?,
            })
        }
    }

    /// `(d_tag, d_val)` of the dynamic entry at `at`.
    pub(super) fn dyn_entry(&self, at: u64) -> Result<(u64, u64), Skip> {
        let size = if self.wide { 8 } else { 4 };
        Ok((self.word(at)?, self.word(at + size)?))
    }
}

/// The generic `process_elf_file` for one ELF class: finds `DT_SONAME` through the
/// `PT_DYNAMIC` segment and, on x86, the ISA level from the GNU property note.
pub(super) fn read_elf(data: &[u8], wide: bool, x86: bool) -> Result<LibInfo, Skip> {
    if data[4] != if wide { 2 } else { 1 } {
        return Err(Skip::WrongClass);
    }
    let elf = Elf { data, wide };
    let len = data.len() as u64;
    let (phoff, phnum, phsize) = if wide {
        (elf.word(32)?, elf.half(56)?, 56u64)
    } else {
        (elf.word(28)?, elf.half(44)?, 32u64)
    };
    if phoff > len {
        return Err(Skip::Truncated);
    }
    let mut phdrs = Vec::with_capacity(phnum as usize);
    for i in 0..phnum {
        let at = phoff.checked_add(i * phsize).ok_or(Skip::Truncated)?;
        phdrs.push(elf.phdr(at)?);
    }

    let mut isa_level = 0;
    // glibc keeps the dynamic segment's offset in an `unsigned int`.
    let mut dynamic_addr: u32 = 0;
    let mut dynamic_size: u64 = 0;
    for ph in &phdrs {
        match ph.p_type {
            PT_DYNAMIC => {
                dynamic_addr = ph.offset as u32;
                dynamic_size = ph.filesz;
            }
            PT_INTERP | PT_GNU_PROPERTY => {
                // (In glibc the PT_INTERP case falls through into the property one.)
                if ph.p_type == PT_INTERP && ph.offset > len {
                    return Err(Skip::Truncated);
                }
                let word_size = if wide { 8 } else { 4 };
                let level = (x86 && ph.align == word_size)
                    .then(|| x86_isa_level(data, ph, word_size))
                    .flatten();
                if let Some(level) = level {
                    isa_level = level;
                }
            }
            _ => {}
        }
    }
    if dynamic_size == 0 {
        return Err(Skip::NoDynamic);
    }
    let dyn_start = u64::from(dynamic_addr);
    if dyn_start > len {
        return Err(Skip::Truncated);
    }
    let dyn_size = if wide { 16 } else { 8 };
    let entry_at = |k: u64| -> Result<u64, Skip> {
        k.checked_mul(dyn_size)
            .and_then(|o| o.checked_add(dyn_start))
            .ok_or(Skip::Truncated)
    };

    let mut strings: Option<u64> = None;
    let mut k = 0;
    loop {
        let (tag, val) = elf.dyn_entry(entry_at(k)?)?;
        if tag == DT_NULL {
            break;
        }
        if tag == DT_STRTAB {
            // The file offset of the string table, from the PT_LOAD segment holding it.
            let mask = if wide { u64::MAX } else { u64::from(u32::MAX) };
            let loadoff = phdrs
                .iter()
                .find(|ph| ph.p_type == PT_LOAD && val >= ph.vaddr && val - ph.vaddr < ph.filesz)
                .map(|ph| ph.vaddr.wrapping_sub(ph.offset) & mask)
                .filter(|&off| off != mask)
                .unwrap_or(0);
            let offset = if wide {
                Some(val.wrapping_sub(loadoff))
            } else {
                val.checked_sub(loadoff)
            };
            strings = Some(offset.filter(|&o| o <= len).ok_or(Skip::Truncated)?);
            break;
        }
        k += 1;
    }
    let strings = strings.ok_or(Skip::NoStringTable)?;

    let mut k = 0;
    loop {
        let (tag, val) = elf.dyn_entry(entry_at(k)?)?;
        if tag == DT_NULL {
            break;
        }
        if tag == DT_SONAME {
            let at = if wide {
                strings.wrapping_add(val)
            } else {
                strings.checked_add(val).ok_or(Skip::Truncated)?
            };
            let at = usize::try_from(at).map_err(|_| Skip::Truncated)?;
            let name = c_string(data, at).ok_or(Skip::Truncated)?;
            return Ok(LibInfo {
                flag: FLAG_ELF_LIBC6,
                isa_level,
                soname: Some(name.to_vec()),
            });
        }
        k += 1;
    }
    Ok(LibInfo {
        flag: FLAG_ELF_LIBC6,
        isa_level,
        soname: None,
    })
}

/// The x86 ISA level a library needs (`GNU_PROPERTY_X86_ISA_1_NEEDED`, highest bit set),
/// read from the first NT_GNU_PROPERTY_TYPE_0 note of a segment the way glibc does.
pub(super) fn x86_isa_level(data: &[u8], ph: &Phdr, word_size: u64) -> Option<u32> {
    let read = |at: u64| le_u32(data, usize::try_from(at).ok()?);
    let align_up = |v: u64, a: u64| v.checked_add(a - 1).map(|x| x & !(a - 1));
    let mut rel: u64 = 0;
    while rel.checked_add(12)? < ph.filesz {
        let note = ph.offset.checked_add(rel)?;
        let (namesz, descsz, ntype) = (read(note)?, read(note + 4)?, read(note + 8)?);
        if namesz == 4 && ntype == NT_GNU_PROPERTY_TYPE_0 && read(note + 12)? == 0x0055_4e47 {
            if descsz < 8 || u64::from(descsz) % word_size != 0 {
                return None;
            }
            let mut ptr = note + 16;
            let end = ptr + u64::from(descsz);
            let mut last_type = 0;
            loop {
                let (pr_type, datasz) = (read(ptr)?, read(ptr + 4)?);
                if pr_type < last_type {
                    return None;
                }
                ptr += 8;
                if ptr + u64::from(datasz) > end {
                    return None;
                }
                last_type = pr_type;
                // x86's read_gnu_property: stop at or after the ISA property.
                if pr_type > GNU_PROPERTY_X86_ISA_1_NEEDED {
                    return None;
                }
                if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED {
                    if datasz == 4 {
                        let needed = read(ptr)?;
                        if needed != 0 {
                            return Some(31 - needed.leading_zeros());
                        }
                    }
                    return None;
                }
                ptr = ptr.checked_add(align_up(u64::from(datasz), word_size)?)?;
                if end < ptr || end - ptr < 8 {
                    return None;
                }
            }
        }
        let desc = align_up(12 + u64::from(namesz), ph.align)?;
        rel = rel.checked_add(align_up(desc + u64::from(descsz), ph.align)?)?;
    }
    None
}
