//! Seccomp policies: one small reviewed table per process, each entry a host
//! syscall with who needs it. Built with seccompiler.

pub mod gofer;
pub mod sentry;

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

/// Errors building or installing a filter.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The policy did not compile.
    #[error("build seccomp filter: {0}")]
    Build(#[from] seccompiler::BackendError),
    /// The BPF program could not be made.
    #[error("compile seccomp filter: {0}")]
    Compile(#[from] seccompiler::Error),
}

/// One rule: a syscall, allowed always or only with argument conditions.
pub enum Allow {
    /// Allowed with any arguments.
    Any(i64),
    /// Allowed when argument `arg` masked with `mask` equals `value`.
    MaskedEq { nr: i64, arg: u8, mask: u64, value: u64 },
    /// Allowed when argument `arg` equals one of `values`.
    OneOf { nr: i64, arg: u8, values: &'static [u64] },
}

/// What any Rust process of ours needs, whatever its job: memory
/// allocation, locks, signal set-up, randomness for hash maps, exiting.
pub fn runtime() -> Vec<Allow> {
    use Allow::Any;
    vec![
        Any(libc::SYS_mmap),
        Any(libc::SYS_munmap),
        Any(libc::SYS_mremap),
        Any(libc::SYS_madvise),
        Any(libc::SYS_brk),
        Any(libc::SYS_futex),
        Any(libc::SYS_sigaltstack),
        Any(libc::SYS_rt_sigaction),
        Any(libc::SYS_rt_sigprocmask),
        Any(libc::SYS_rt_sigreturn),
        Any(libc::SYS_restart_syscall),
        Any(libc::SYS_sched_yield),
        Any(libc::SYS_getrandom),
        Any(libc::SYS_clock_gettime),
        Any(libc::SYS_exit),
        Any(libc::SYS_exit_group),
    ]
}

/// Compiles filters that return each listed syscall's errno and allow
/// everything else (one per distinct errno, stacked on the main filter).
pub fn compile_errno(table: &[(i64, u32)]) -> Result<Vec<BpfProgram>, FilterError> {
    let mut by_errno: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for &(nr, errno) in table {
        by_errno.entry(errno).or_default().push(nr);
    }
    let mut progs = Vec::new();
    for (errno, nrs) in by_errno {
        let rules: BTreeMap<i64, Vec<SeccompRule>> = nrs.into_iter().map(|nr| (nr, Vec::new())).collect();
        let f = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(errno),
            std::env::consts::ARCH.try_into()?,
        )?;
        let p: BpfProgram = f.try_into()?;
        progs.push(p);
    }
    Ok(progs)
}

/// Compiles `table`; anything not allowed kills the process (or, with
/// `log_only`, is allowed and logged by the kernel, for auditing a policy).
pub fn compile(table: &[Allow], log_only: bool) -> Result<BpfProgram, FilterError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for a in table {
        match a {
            Allow::Any(nr) => {
                rules.entry(*nr).or_default();
            }
            Allow::MaskedEq { nr, arg, mask, value } => {
                let c = SeccompCondition::new(*arg, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(*mask), *value)?;
                rules.entry(*nr).or_default().push(SeccompRule::new(vec![c])?);
            }
            Allow::OneOf { nr, arg, values } => {
                for v in *values {
                    let c = SeccompCondition::new(*arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *v)?;
                    rules.entry(*nr).or_default().push(SeccompRule::new(vec![c])?);
                }
            }
        }
    }
    let mismatch = if log_only { SeccompAction::Log } else { SeccompAction::KillProcess };
    let filter = SeccompFilter::new(rules, mismatch, SeccompAction::Allow, std::env::consts::ARCH.try_into()?)?;
    Ok(filter.try_into()?)
}
