//! Harness for runsc's integration tests.
//!
//! The host kernel is the oracle: a test runs a program natively and under
//! `runsc do`, and the two must agree on stdout and exit status. This crate
//! finds the `runsc` binary ([`paths`]), builds the C conformance programs
//! ([`mod@compile`]), runs commands both ways ([`run`]), runs the programs
//! that change the filesystem against a read-only `/` ([`read_only`]), shows
//! the differences ([`diff`]) and keeps the list of known failures honest
//! ([`known_failures`]).
//!
//! The tests themselves live in `tests/conformance.rs` (one test per C program
//! in `conformance/` and `conformance_ro/`) and `tests/programs.rs` (real
//! programs and runsc's own behaviour: flags, error paths, exit statuses).

pub mod clients;
pub mod compile;
pub mod containerd;
pub mod diff;
pub mod docker;
pub mod image;
pub mod known_failures;
pub mod oci;
pub mod paths;
pub mod podman;
pub mod read_only;
pub mod run;

pub use compile::{compile, Variant};
pub use known_failures::check_known;
pub use paths::{build_dir, runsc, tests_dir, workspace_root};
pub use read_only::conformance_ro;
pub use run::{compare, Cmd, Output, Status};

/// Runs the conformance program `conformance/<name>.c`, built as `variant`,
/// natively and under `runsc do`, and panics unless they agree (or the test
/// is listed in `known_failures.txt`).
///
/// The test's name in the known-failures list is
/// `conformance/<variant>/<name>`, e.g. `conformance/dyn/read_write`.
pub fn conformance(name: &str, variant: Variant) {
    let src = tests_dir().join("conformance").join(format!("{name}.c"));
    let exe = compile(&src, variant);
    let cmd = Cmd::new([&exe]);
    let native = cmd.run_native();
    // A program that crashes or prints nothing natively is broken itself, and
    // would make the comparison vacuous: that is not the sandbox's failure.
    assert!(
        matches!(native.status, Status::Exited(_)) && !native.stdout.is_empty(),
        "{} misbehaves natively ({}); fix the program\nstderr:\n{}",
        exe.display(),
        native.status,
        String::from_utf8_lossy(&native.stderr),
    );
    let sandboxed = cmd.run_runsc(&[]);
    let key = format!("conformance/{}/{name}", variant.dir_name());
    check_known(&key, compare(&cmd, &native, &sandboxed));
}
