//! ELF64 loading: PT_LOAD segments, PT_INTERP, PT_GNU_STACK, PT_PHDR.

use std::sync::Arc;

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::header::{Header, EM_X86_64, ET_DYN, ET_EXEC};
use goblin::elf::program_header::{ProgramHeader, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR};

use crate::abi::{page_down, page_up, Errno, PAGE_SIZE};
use crate::fs::mapping::FileMapping;
use crate::kernel::vdso::Vdso;
use crate::loader::{open_exec, read_full, stack, ExecEnv, Loaded};
use crate::mm::{MapRequest, MemoryManager, Placement, VmaFile};
use crate::vfs::{File, Location};

/// Where a non-randomized PIE executable goes (Linux's ELF_ET_DYN_BASE
/// without ASLR).
const PIE_BASE: u64 = 0x5555_5555_4000;

/// What loading one ELF object produced.
pub(super) struct Object {
    pub bias: u64,
    pub entry: u64,
    pub phdr: u64,
    pub phnum: u64,
    pub end: u64,
}

fn parse(head: &[u8], file: &File) -> Result<(Header, Vec<ProgramHeader>), Errno> {
    if head.len() < 64 || &head[..4] != b"\x7fELF" {
        return Err(Errno::ENOEXEC);
    }
    let hdr = goblin::elf::Elf::parse_header(head).map_err(|_| Errno::ENOEXEC)?;
    if hdr.e_ident[4] != 2 || hdr.e_ident[5] != 1 || hdr.e_machine != EM_X86_64 {
        return Err(Errno::ENOEXEC);
    }
    if hdr.e_type != ET_EXEC && hdr.e_type != ET_DYN {
        return Err(Errno::ENOEXEC);
    }
    if hdr.e_phentsize as usize != std::mem::size_of::<goblin::elf64::program_header::ProgramHeader>()
        || hdr.e_phnum == 0
        || hdr.e_phnum > 128
    {
        return Err(Errno::ENOEXEC);
    }
    let len = hdr.e_phnum as usize * hdr.e_phentsize as usize;
    let mut buf = vec![0u8; len];
    if read_full(file, &mut buf, hdr.e_phoff)? != len {
        return Err(Errno::ENOEXEC);
    }
    let ctx = Ctx::new(Container::Big, Endian::Little);
    let phdrs = ProgramHeader::parse(&buf, 0, hdr.e_phnum as usize, ctx).map_err(|_| Errno::ENOEXEC)?;
    Ok((hdr, phdrs))
}

fn prot_of(flags: u32) -> i32 {
    let mut p = 0;
    if flags & PF_R != 0 {
        p |= libc::PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= libc::PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= libc::PROT_EXEC;
    }
    p
}

/// Maps one ELF object; `pie_base` is the hint for ET_DYN objects.
fn map_object(
    mm: &MemoryManager,
    file: &Arc<File>,
    loc: &Location,
    hdr: &Header,
    phdrs: &[ProgramHeader],
    pie_base: u64,
) -> Result<Object, Errno> {
    let loads: Vec<&ProgramHeader> = phdrs.iter().filter(|p| p.p_type == PT_LOAD).collect();
    if loads.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let lo = page_down(loads.iter().map(|p| p.p_vaddr).min().unwrap_or(0));
    let hi = loads
        .iter()
        .map(|p| p.p_vaddr.checked_add(p.p_memsz))
        .try_fold(0u64, |acc, e| e.map(|e| acc.max(e)))
        .and_then(page_up)
        .ok_or(Errno::ENOEXEC)?;
    if hi <= lo {
        return Err(Errno::ENOEXEC);
    }
    let st = file.stat()?;
    let mapping = Arc::new(FileMapping {
        file: file.clone(),
        dev: loc.mount.dev,
        ino: st.ino,
        path: String::from_utf8_lossy(&file.name).into_owned(),
    });
    let bias = if hdr.e_type == ET_DYN {
        // Reserve the whole span so the segments land together.
        let at = mm.mmap(MapRequest {
            placement: Placement::Hint(pie_base),
            len: hi - lo,
            prot: libc::PROT_NONE,
            shared: false,
            file: None,
            name: None,
            may_write: true,
            below_2g: false,
            segment: None,
        })?;
        at - lo
    } else {
        0
    };
    for p in &loads {
        if p.p_offset % PAGE_SIZE != p.p_vaddr % PAGE_SIZE || p.p_filesz > p.p_memsz {
            return Err(Errno::EINVAL);
        }
        let prot = prot_of(p.p_flags);
        let vaddr = bias.checked_add(p.p_vaddr).ok_or(Errno::ENOEXEC)?;
        let start = page_down(vaddr);
        let file_end = vaddr + p.p_filesz;
        let mem_end = vaddr + p.p_memsz;
        if p.p_filesz > 0 {
            let len = page_up(file_end).ok_or(Errno::ENOEXEC)? - start;
            mm.mmap(MapRequest {
                placement: Placement::Fixed(start),
                len,
                prot,
                shared: false,
                file: Some(VmaFile { file: mapping.clone(), offset: page_down(p.p_offset) }),
                name: None,
                may_write: true,
                below_2g: false,
                segment: None,
            })?;
            if p.p_memsz > p.p_filesz {
                // Zero the rest of the last file page, as Linux does: the
                // bss starts there, and minimal allocators (ld.so's) assume
                // the page's tail is zero.
                let zero_end = page_up(file_end).ok_or(Errno::ENOEXEC)?;
                if zero_end > file_end {
                    mm.copy_out_force(file_end, &vec![0u8; (zero_end - file_end) as usize])?;
                }
            }
        }
        let anon_start = if p.p_filesz > 0 { page_up(file_end).ok_or(Errno::ENOEXEC)? } else { start };
        let anon_end = page_up(mem_end).ok_or(Errno::ENOEXEC)?;
        if anon_end > anon_start {
            mm.mmap(MapRequest {
                placement: Placement::Fixed(anon_start),
                len: anon_end - anon_start,
                prot,
                shared: false,
                file: None,
                name: None,
                may_write: true,
                below_2g: false,
                segment: None,
            })?;
        }
    }
    let phdr = match phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        Some(p) => bias + p.p_vaddr,
        None => loads
            .iter()
            .find(|p| p.p_offset <= hdr.e_phoff && hdr.e_phoff < p.p_offset + p.p_filesz)
            .map(|p| bias + p.p_vaddr + (hdr.e_phoff - p.p_offset))
            .unwrap_or(0),
    };
    Ok(Object { bias, entry: bias + hdr.e_entry, phdr, phnum: hdr.e_phnum as u64, end: bias + hi })
}

/// Loads an ELF executable (and its interpreter) and builds the stack.
#[allow(clippy::too_many_arguments)]
pub(super) fn load_elf(
    env: &ExecEnv<'_>,
    mm: &MemoryManager,
    vdso: &Vdso,
    loc: &Location,
    file: &Arc<File>,
    head: &[u8],
    execfn: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<Loaded, Errno> {
    let (hdr, phdrs) = parse(head, file)?;
    let (creds, secure) = super::exec_creds::creds_for_file(env.creds, loc, env.no_new_privs)?;
    let exec_stack = phdrs.iter().find(|p| p.p_type == PT_GNU_STACK).is_some_and(|p| p.p_flags & PF_X != 0);
    let stack_size = env.stack_limit.clamp(128 << 10, 256 << 20);
    let stack_top = stack::setup_stack_vma(mm, stack_size, exec_stack, env.randomize)?;

    // With ASLR a PIE program moves by up to 1 TiB (28 bits of pages) and
    // the heap starts up to 32 MiB past its end, as in Linux. A loader (an
    // ET_DYN without PT_INTERP, run as a program: `ld.so prog`) goes in the
    // mmap area instead, away from the program it may load, and its heap
    // where a PIE program would be.
    let loader = hdr.e_type == ET_DYN && !phdrs.iter().any(|p| p.p_type == PT_INTERP);
    let pie_base = if loader { 0 } else { PIE_BASE + stack::random_pages(28, env.randomize)? };
    let main = map_object(mm, file, loc, &hdr, &phdrs, pie_base)?;
    let brk = if loader { PIE_BASE } else { crate::abi::page_up(main.end).unwrap_or(main.end) };
    mm.set_brk_start(brk + stack::random_pages(13, env.randomize)?);

    let mut interp_base = 0;
    let mut entry = main.entry;
    if let Some(ip) = phdrs.iter().find(|p| p.p_type == PT_INTERP) {
        if ip.p_filesz == 0 || ip.p_filesz > 4096 {
            return Err(Errno::ENOEXEC);
        }
        let mut name = vec![0u8; ip.p_filesz as usize];
        if read_full(file, &mut name, ip.p_offset)? != name.len() {
            return Err(Errno::ENOEXEC);
        }
        let nul = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.truncate(nul);
        let (iloc, ifile) =
            open_exec(env, env.cwd, &name).map_err(|e| if e == Errno::EACCES { Errno::ELIBBAD } else { e })?;
        let mut ihead = [0u8; 64];
        let n = read_full(&ifile, &mut ihead, 0)?;
        let (ihdr, iphdrs) = parse(&ihead[..n], &ifile).map_err(|_| Errno::ELIBBAD)?;
        let interp = map_object(mm, &ifile, &iloc, &ihdr, &iphdrs, 0)?;
        interp_base = interp.bias;
        entry = interp.entry;
    }

    let vdso_base = mm.map_vdso(vdso.data_off, vdso.image_off, vdso.image_len)?;
    let (sp, ranges) = stack::build(
        mm,
        stack_top,
        stack::Image { argv: &argv, envp: &envp, execfn },
        &stack::AuxInfo {
            phdr: main.phdr,
            phnum: main.phnum,
            base: interp_base,
            entry: main.entry,
            vdso: vdso_base,
            uid: creds.uid,
            euid: creds.euid,
            gid: creds.gid,
            egid: creds.egid,
            secure,
        },
    )?;
    mm.set_args(ranges);
    // comm is the file name of the executed path (the script for `#!`).
    let fname = execfn.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    Ok(Loaded {
        entry,
        sp,
        exe: loc.clone(),
        exe_path: file.name.clone(),
        comm: fname.iter().take(15).copied().collect(),
        creds,
    })
}
