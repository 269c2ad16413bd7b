//! The program loader: ELF64 x86_64 executables (static and dynamic, PIE and
//! fixed), their interpreter, `#!` scripts, and the initial stack with argv,
//! envp and the auxiliary vector.

mod elf;
pub mod exec_creds;
mod stack;

use std::sync::Arc;

use crate::abi::Errno;
use crate::auth::Credentials;
use crate::kernel::vdso::Vdso;
use crate::mm::MemoryManager;
use crate::vfs::path::{may_access, path_of, Walker, MAY_EXEC};
use crate::vfs::{File, FileType, Location, Lookup};

/// A loaded program: where it starts, and what the process records of it.
#[derive(Clone)]
pub struct Loaded {
    /// Initial instruction pointer.
    pub entry: u64,
    /// Initial stack pointer (pointing at argc).
    pub sp: u64,
    /// The executable.
    pub exe: Location,
    /// Its path, for `/proc/[pid]/exe`.
    pub exe_path: Vec<u8>,
    /// The command name: the file name of the path executed (the script's,
    /// for `#!`), at most 15 bytes.
    pub comm: Vec<u8>,
    /// The credentials the program runs with (`exec_creds`).
    pub creds: Credentials,
}

/// What the loader needs of the caller: where paths start, with whose
/// permissions, and the stack limit.
pub struct ExecEnv<'a> {
    /// The root directory.
    pub root: &'a Location,
    /// The working directory (relative paths, interpreters).
    pub cwd: &'a Location,
    /// Credentials.
    pub creds: &'a Credentials,
    /// RLIMIT_STACK (soft).
    pub stack_limit: u64,
    /// Randomize the layout (ASLR): off with personality ADDR_NO_RANDOMIZE.
    pub randomize: bool,
    /// The task set no_new_privs: set-ID bits and file capabilities give
    /// nothing.
    pub no_new_privs: bool,
}

/// Most nested `#!` interpreters (Linux allows a few levels).
const MAX_INTERP_DEPTH: u32 = 4;

/// Opens `path` (relative to `start`) for execution: it must be a regular
/// file with execute permission.
pub fn open_exec(env: &ExecEnv<'_>, start: &Location, path: &[u8]) -> Result<(Location, Arc<File>), Errno> {
    let loc = Walker::new(env.root, env.creds).walk(start, path, Lookup::Follow)?;
    open_exec_at(env, loc, path)
}

/// Opens the file at `loc` for execution (execveat with AT_EMPTY_PATH).
pub fn open_exec_at(env: &ExecEnv<'_>, loc: Location, path: &[u8]) -> Result<(Location, Arc<File>), Errno> {
    let inode = &loc.dentry.inode;
    if inode.file_type() != FileType::Regular {
        return Err(Errno::EACCES);
    }
    let st = inode.stat()?;
    if !may_access(&st, env.creds, MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    if loc.mount.noexec() {
        return Err(Errno::EACCES);
    }
    let ops = inode.open(libc::O_RDONLY as u32)?;
    let name = path_of(&loc, env.root).unwrap_or_else(|| path.to_vec());
    Ok((loc.clone(), File::new(ops, libc::O_RDONLY as u32, Some(loc), name)))
}

/// Loads the program at `path` (relative to `start`) into the empty address
/// space `mm`: maps it and its interpreter, and builds the stack.
pub fn load(
    env: &ExecEnv<'_>,
    mm: &MemoryManager,
    vdso: &Vdso,
    start: &Location,
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<Loaded, Errno> {
    let first = open_exec(env, start, path)?;
    load_opened(env, mm, vdso, first, path, argv, envp)
}

/// Like [`load`] for a file already opened with [`open_exec_at`].
pub fn load_opened(
    env: &ExecEnv<'_>,
    mm: &MemoryManager,
    vdso: &Vdso,
    first: (Location, Arc<File>),
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<Loaded, Errno> {
    let execfn = path.to_vec();
    let mut path = path.to_vec();
    let mut argv = argv;
    let mut next = Some(first);
    for _ in 0..=MAX_INTERP_DEPTH {
        let (loc, file) = match next.take() {
            Some(f) => f,
            None => open_exec(env, env.cwd, &path)?,
        };
        let mut head = [0u8; 256];
        let n = read_full(&file, &mut head, 0)?;
        let head = &head[..n];
        if head.starts_with(b"#!") {
            let (interp, arg) = parse_shebang(head)?;
            let mut new_argv = vec![interp.clone()];
            if let Some(a) = arg {
                new_argv.push(a);
            }
            new_argv.push(path.clone());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            path = interp;
            continue;
        }
        return elf::load_elf(env, mm, vdso, &loc, &file, head, &execfn, argv, envp);
    }
    Err(Errno::ELOOP)
}

/// Reads as much of `buf` as the file has at `off`.
pub(crate) fn read_full(file: &File, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.ops.read(&mut buf[done..], off + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Parses `#!interp [arg]` (the line, without `#!`).
fn parse_shebang(head: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), Errno> {
    let line = &head[2..];
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    let line = &line[..end];
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !is_ws(b)).ok_or(Errno::ENOEXEC)?;
    let line = &line[start..];
    let line = &line[..line.len() - line.iter().rev().take_while(|b| is_ws(b)).count()];
    let split = line.iter().position(is_ws);
    Ok(match split {
        None => (line.to_vec(), None),
        Some(i) => {
            let rest = &line[i..];
            let rs = rest.iter().position(|b| !is_ws(b)).unwrap_or(rest.len());
            let arg = &rest[rs..];
            (line[..i].to_vec(), (!arg.is_empty()).then(|| arg.to_vec()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebang() {
        assert_eq!(parse_shebang(b"#!/bin/sh\necho").unwrap(), (b"/bin/sh".to_vec(), None));
        assert_eq!(
            parse_shebang(b"#! /usr/bin/env  python3 -u \n").unwrap(),
            (b"/usr/bin/env".to_vec(), Some(b"python3 -u".to_vec()))
        );
        assert_eq!(parse_shebang(b"#!   \n").unwrap_err(), Errno::ENOEXEC);
    }
}
