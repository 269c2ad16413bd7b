//! Syscall conformance: each C program in `conformance/` runs natively and
//! under `runsc do`, and the two runs must print the same and exit the same.
//!
//! Every program is a test in the `dynamic` module (gcc's default PIE
//! build); a few also run as `static_link` (`-static`) and `no_pie`
//! (`-no-pie`) builds, which load differently. Known failures are listed in
//! `known_failures.txt` as `conformance/<dyn|static|nopie>/<program>`.
//!
//! The programs in `conformance_ro/` change the filesystem: each is a test in
//! the `read_only` module, whose native run has `/` remounted read-only in a
//! private mount namespace (see `runsc_tests::read_only`). Their known
//! failures are listed as `conformance/ro/<program>`.

use std::collections::BTreeSet;
use std::fs;

use runsc_tests::known_failures::known_failures;
use runsc_tests::{tests_dir, Variant};

/// Declares one test per program, in a module named `$module`, and the list
/// of those programs as `$list`.
macro_rules! conformance_tests {
    ($module:ident, $variant:ident, $list:ident: [$($program:ident),* $(,)?]) => {
        const $list: &[&str] = &[$(stringify!($program)),*];

        mod $module {
            $(
                #[test]
                fn $program() {
                    runsc_tests::conformance(
                        stringify!($program),
                        runsc_tests::Variant::$variant,
                    );
                }
            )*
        }
    };
}

conformance_tests!(dynamic, Dyn, DYN: [
    access,
    arch_prctl,
    brk,
    clone,
    close_range,
    copy_file_range,
    cpu_clock,
    cwd,
    dnotify,
    dup,
    exec_creds,
    execve,
    exit,
    exit_group,
    fadvise,
    fasync,
    file_lock,
    fcntl,
    fdinfo,
    fifo,
    fork,
    fs_tree,
    futex_ops,
    futex_requeue_pi,
    futex_waitv,
    getcpu,
    getdents,
    getrandom,
    inotify,
    inotify_fdinfo,
    ids,
    ioctl,
    itimer,
    lease,
    lseek,
    madvise,
    memfd,
    mincore,
    mmap,
    mmap_file,
    mprotect,
    mremap,
    msync,
    open_close,
    openat2,
    pgrp,
    pidfd,
    posix_mq,
    posix_timer,
    prctl,
    pread_pwrite,
    proc_pid,
    proc_root_link,
    proc_self,
    pthread,
    pty,
    read_write,
    readlink,
    reparent,
    rlimit,
    robust,
    rwf,
    rwf_noappend,
    sched,
    sendfile,
    sigaction,
    sigaltstack,
    signal_default,
    signal_deliver,
    signal_fault,
    signal_fpu,
    signal_mask,
    signal_stop,
    signal_wait,
    sleep,
    splice,
    stat,
    statx,
    sysinfo,
    sysv_msg,
    sysv_sem,
    sysv_shm,
    thread_ids,
    time,
    tmpfile,
    umask,
    uname,
    unix_dgram,
    unix_path,
    unix_scm,
    unix_stream,
    vectored_io,
    wait,
    xattr,
]);

conformance_tests!(static_link, Static, STATIC: [
    arch_prctl,
    brk,
    execve,
    fork,
    mmap,
    proc_self,
    pthread,
    read_write,
    signal_deliver,
    signal_fpu,
    stat,
    thread_ids,
]);

conformance_tests!(no_pie, NoPie, NOPIE: [
    brk,
    mmap,
    proc_self,
    read_write,
    stat,
]);

/// Declares one read-only-root test per program of `conformance_ro/`, in a
/// module named `$module`, and the list of those programs as `$list`.
macro_rules! read_only_tests {
    ($module:ident, $list:ident: [$($program:ident),* $(,)?]) => {
        const $list: &[&str] = &[$(stringify!($program)),*];

        mod $module {
            $(
                #[test]
                fn $program() {
                    runsc_tests::conformance_ro(stringify!($program));
                }
            )*
        }
    };
}

read_only_tests!(read_only, RO: [
    fs_write,
]);

/// The programs built in `variant`.
fn programs(variant: Variant) -> &'static [&'static str] {
    match variant {
        Variant::Dyn => DYN,
        Variant::Static => STATIC,
        Variant::NoPie => NOPIE,
    }
}

/// The stems of the `.c` files in `tests/<dir>/`.
fn c_programs(dir: &str) -> BTreeSet<String> {
    let dir = tests_dir().join(dir);
    fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Every `conformance/*.c` and `conformance_ro/*.c` has a test, and every
/// test has a program.
#[test]
fn every_program_is_tested() {
    let tested: BTreeSet<String> = DYN.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        c_programs("conformance"),
        tested,
        "conformance/*.c and the `dynamic` tests in tests/conformance.rs differ"
    );
    for variant in [Variant::Static, Variant::NoPie] {
        for program in programs(variant) {
            assert!(tested.contains(*program), "{variant} test {program} has no program");
        }
    }
    let read_only: BTreeSet<String> = RO.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        c_programs(runsc_tests::read_only::DIR),
        read_only,
        "conformance_ro/*.c and the `read_only` tests in tests/conformance.rs differ"
    );
}

/// Every conformance entry in `known_failures.txt` names a test that exists.
#[test]
fn known_failures_name_real_tests() {
    for name in known_failures().keys() {
        let Some(rest) = name.strip_prefix("conformance/") else {
            continue;
        };
        let (variant, program) =
            rest.split_once('/').unwrap_or_else(|| panic!("{name}: expected conformance/<variant>/<program>"));
        if variant == "ro" {
            assert!(RO.contains(&program), "known_failures.txt lists {name}, which is not a test");
            continue;
        }
        let variant = Variant::from_dir_name(variant).unwrap_or_else(|| panic!("{name}: unknown variant {variant}"));
        assert!(programs(variant).contains(&program), "known_failures.txt lists {name}, which is not a test");
    }
}
