//! The initial stack: strings, AT_RANDOM bytes, auxv, envp, argv, argc.

use crate::abi::{page_down, AuxEntry, Errno, Pod, PAGE_SIZE};
use crate::fs::dev::fill_random;
use crate::mm::ArgRanges;
use crate::mm::{MapRequest, MemoryManager, Placement};

/// The gap Linux keeps between the stack and the mmap area (at least).
const STACK_GAP: u64 = 128 << 20;

/// A random number of pages below `bits` bits of pages (0 without ASLR).
pub(super) fn random_pages(bits: u32, randomize: bool) -> Result<u64, Errno> {
    if !randomize {
        return Ok(0);
    }
    let mut r = [0u8; 8];
    fill_random(&mut r)?;
    Ok((u64::from_le_bytes(r) & ((1 << bits) - 1)) * PAGE_SIZE)
}

/// Maps the stack VMA below the platform's reserved area; returns its top
/// and sets the top of the mmap area below it. With ASLR, as Linux: the
/// stack top moves down by up to 16 GiB (22 bits of pages) and the mmap
/// area by up to 1 TiB more (28 bits).
pub(super) fn setup_stack_vma(mm: &MemoryManager, size: u64, exec: bool, randomize: bool) -> Result<u64, Errno> {
    let top = page_down(mm.stack_limit() - random_pages(22, randomize)?);
    let size = page_down(size);
    let mut prot = libc::PROT_READ | libc::PROT_WRITE;
    if exec {
        prot |= libc::PROT_EXEC;
    }
    mm.mmap(MapRequest {
        placement: Placement::Fixed(top - size),
        len: size,
        prot,
        shared: false,
        file: None,
        name: Some("[stack]"),
        may_write: true,
        below_2g: false,
        segment: None,
    })?;
    mm.set_mmap_top(top - size.max(STACK_GAP) - PAGE_SIZE - random_pages(28, randomize)?);
    Ok(top)
}

/// argv, envp and the executed path.
pub(super) struct Image<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [Vec<u8>],
    pub execfn: &'a [u8],
}

/// Values for the auxiliary vector.
pub(super) struct AuxInfo {
    pub phdr: u64,
    pub phnum: u64,
    pub base: u64,
    pub entry: u64,
    pub vdso: u64,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
    /// A privileged exec (AT_SECURE).
    pub secure: bool,
}

/// Writes the initial stack below `top`; returns the stack pointer and where
/// the argv and envp strings are.
pub(super) fn build(mm: &MemoryManager, top: u64, img: Image<'_>, aux: &AuxInfo) -> Result<(u64, ArgRanges), Errno> {
    let mut p = top - 8;
    let put = |p: &mut u64, bytes: &[u8]| -> Result<u64, Errno> {
        *p -= bytes.len() as u64;
        mm.copy_out(*p, bytes)?;
        Ok(*p)
    };
    let mut execfn = img.execfn.to_vec();
    execfn.push(0);
    let execfn_addr = put(&mut p, &execfn)?;

    // argv then envp strings, ascending.
    let mut strings = Vec::new();
    let mut offs = Vec::with_capacity(img.argv.len() + img.envp.len());
    for s in img.argv.iter().chain(img.envp.iter()) {
        offs.push(strings.len() as u64);
        strings.extend_from_slice(s);
        strings.push(0);
    }
    let argv_bytes: u64 = img.argv.iter().map(|a| a.len() as u64 + 1).sum();
    let strings_addr = put(&mut p, &strings)?;
    let ranges = ArgRanges {
        arg_start: strings_addr,
        arg_end: strings_addr + argv_bytes,
        env_start: strings_addr + argv_bytes,
        env_end: strings_addr + strings.len() as u64,
    };
    let platform = put(&mut p, b"x86_64\0")?;
    let mut random = [0u8; 16];
    fill_random(&mut random)?;
    let random_addr = put(&mut p, &random)?;
    p &= !15;

    let hwcap = getauxval(libc::AT_HWCAP);
    let hwcap2 = getauxval(libc::AT_HWCAP2);
    let minsig = getauxval(51 /* AT_MINSIGSTKSZ */);
    let mut auxv = vec![
        AuxEntry { key: libc::AT_SYSINFO_EHDR, val: aux.vdso },
        AuxEntry { key: libc::AT_HWCAP, val: hwcap },
        AuxEntry { key: libc::AT_PAGESZ, val: PAGE_SIZE },
        AuxEntry { key: libc::AT_CLKTCK, val: 100 },
        AuxEntry { key: libc::AT_PHDR, val: aux.phdr },
        AuxEntry { key: libc::AT_PHENT, val: 56 },
        AuxEntry { key: libc::AT_PHNUM, val: aux.phnum },
        AuxEntry { key: libc::AT_BASE, val: aux.base },
        AuxEntry { key: libc::AT_FLAGS, val: 0 },
        AuxEntry { key: libc::AT_ENTRY, val: aux.entry },
        AuxEntry { key: libc::AT_UID, val: aux.uid as u64 },
        AuxEntry { key: libc::AT_EUID, val: aux.euid as u64 },
        AuxEntry { key: libc::AT_GID, val: aux.gid as u64 },
        AuxEntry { key: libc::AT_EGID, val: aux.egid as u64 },
        AuxEntry { key: libc::AT_SECURE, val: aux.secure as u64 },
        AuxEntry { key: libc::AT_RANDOM, val: random_addr },
        AuxEntry { key: libc::AT_HWCAP2, val: hwcap2 },
        AuxEntry { key: libc::AT_EXECFN, val: execfn_addr },
        AuxEntry { key: libc::AT_PLATFORM, val: platform },
    ];
    if minsig != 0 {
        auxv.push(AuxEntry { key: 51, val: minsig });
    }
    auxv.push(AuxEntry { key: libc::AT_NULL, val: 0 });

    let words = 1 + img.argv.len() + 1 + img.envp.len() + 1 + auxv.len() * 2;
    p -= (words * 8) as u64;
    p &= !15;
    let sp = p;
    let mut block: Vec<u8> = Vec::with_capacity(words * 8);
    block.extend_from_slice(&(img.argv.len() as u64).to_le_bytes());
    for (i, _) in img.argv.iter().enumerate() {
        block.extend_from_slice(&(strings_addr + offs[i]).to_le_bytes());
    }
    block.extend_from_slice(&0u64.to_le_bytes());
    for (i, _) in img.envp.iter().enumerate() {
        block.extend_from_slice(&(strings_addr + offs[img.argv.len() + i]).to_le_bytes());
    }
    block.extend_from_slice(&0u64.to_le_bytes());
    for a in &auxv {
        block.extend_from_slice(a.as_bytes());
    }
    mm.copy_out(sp, &block)?;
    Ok((sp, ranges))
}

fn getauxval(key: u64) -> u64 {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(key) }
}
