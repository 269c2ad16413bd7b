//! Conformance programs that change the filesystem (`conformance_ro/*.c`).
//!
//! In the sandbox the root filesystem is the host's `/`, read-only, so these
//! calls fail there with Linux's errors for a read-only mount. The oracle is
//! the host kernel with `/` read-only too: the native run happens in a
//! private mount namespace in which `/` was remounted read-only,
//!
//! ```text
//! unshare --mount --propagation private \
//!     sh -c 'mount -o remount,bind,ro / && exec "$0" "$@"' PROG D
//! ```
//!
//! and the program runs only if the remount worked. That needs root
//! (`CAP_SYS_ADMIN`) and util-linux.
//!
//! Each program takes one argument, a scratch directory `D` made fresh for
//! the test under `<build dir>/ro-scratch/` (see [`Scratch`]), and only ever
//! tries to change paths under `D`. `D` must be on the root filesystem, or
//! the remount would not cover it. After each run `D` must be as it was made:
//! natively that shows the remount really took effect, in the sandbox that
//! no write reached the host.

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::compile::{compile, Variant};
use crate::known_failures::check_known;
use crate::paths::{build_dir, tests_dir};
use crate::run::{compare, describe_stderr, Cmd, Output, Status};

/// The directory of the read-only conformance programs, in `tests/`.
pub const DIR: &str = "conformance_ro";

/// The contents of `D/file`.
const FILE_CONTENTS: &[u8] = b"hello\n";

/// Runs `conformance_ro/<name>.c` (a PIE build) with a fresh scratch
/// directory, natively on a read-only `/` and under `runsc do`, and panics
/// unless they agree (or the test is listed in `known_failures.txt` as
/// `conformance/ro/<name>`).
///
/// Panics, as a broken test rather than a sandbox failure, if the oracle
/// cannot be trusted: `unshare` or `mount` missing, the scratch directory
/// not on the root filesystem, the native run not starting (not root?), or
/// the native run changing the scratch directory. Panics too, listed or
/// not, if the sandboxed run changed the scratch directory.
pub fn conformance_ro(name: &str) {
    let src = tests_dir().join(DIR).join(format!("{name}.c"));
    let exe = compile(&src, Variant::Dyn);
    let scratch = Scratch::new(name);
    let cmd = Cmd::new([exe.as_os_str(), scratch.path().as_os_str()]);

    let native = run_on_read_only_root(&cmd);
    assert!(
        matches!(native.status, Status::Exited(_)) && !native.stdout.is_empty(),
        "`{cmd}` misbehaves natively on a read-only / ({}): the oracle needs root \
         (CAP_SYS_ADMIN) for `unshare --mount` and `mount -o remount`, or the program is broken\n{}",
        native.status,
        describe_stderr("native", &native)
    );
    if let Err(why) = scratch.check_untouched() {
        panic!(
            "the native run of `{cmd}` changed its scratch directory, so / was not read-only \
             in the oracle's mount namespace and its results are wrong: {why}"
        );
    }

    let sandboxed = cmd.run_runsc(&["--overlay2=none"]);
    // A write reaching the host is never a known failure.
    if let Err(why) = scratch.check_untouched() {
        panic!("`runsc do {cmd}` changed the host's filesystem through its read-only root: {why}");
    }
    check_known(&format!("conformance/ro/{name}"), compare(&cmd, &native, &sandboxed));
}

/// Runs `cmd` natively in a private mount namespace whose `/` is remounted
/// read-only; the command runs only if the remount succeeded.
pub fn run_on_read_only_root(cmd: &Cmd) -> Output {
    let unshare = find_program("unshare");
    let mount = find_program("mount");
    let script = format!("'{}' -o remount,bind,ro / && exec \"$0\" \"$@\"", mount.display());
    let mut argv: Vec<OsString> =
        vec![unshare.into(), "--mount".into(), "--propagation".into(), "private".into(), "/bin/sh".into()];
    argv.extend(["-c".into(), script.into()]);
    argv.extend(cmd.argv().iter().cloned());
    cmd.with_argv(argv).run_native()
}

/// `name` in `$PATH` (or the usual system directories); panics if missing.
fn find_program(name: &str) -> PathBuf {
    let path = env::var_os("PATH").unwrap_or_default();
    let system = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
    env::split_paths(&path)
        .chain(system.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| fs::metadata(candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found: the read-only oracle needs util-linux's unshare and mount \
                 (`apt-get install util-linux mount`)"
            )
        })
}

/// A scratch directory `D` for one run, removed with its contents when
/// dropped:
///
/// ```text
/// D/file       regular, 0644, "hello\n"
/// D/dir/inner  a directory holding one empty file
/// D/emptydir/  an empty directory
/// D/link       -> file
/// D/dangling   -> nonexistent
/// ```
pub struct Scratch(PathBuf);

impl Scratch {
    /// Makes a new scratch directory for the test `what` under
    /// `<build dir>/ro-scratch/`. Panics if it is not on the root
    /// filesystem.
    pub fn new(what: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = build_dir().join("ro-scratch");
        fs::create_dir_all(&base).unwrap_or_else(|e| panic!("cannot create {}: {e}", base.display()));
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_nanos();
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("{what}-{}-{nanos}-{count}", process::id()));
        // create_dir, unlike create_dir_all, fails if the directory exists.
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let scratch = Scratch(dir);

        let root = fs::metadata("/").unwrap_or_else(|e| panic!("cannot stat /: {e}"));
        let here = fs::metadata(&scratch.0).unwrap_or_else(|e| panic!("cannot stat {}: {e}", scratch.0.display()));
        assert_eq!(
            root.dev(),
            here.dev(),
            "{} is not on the root filesystem, so remounting / read-only would not cover it and \
             the oracle would be wrong: point CARGO_TARGET_DIR at a directory on /",
            scratch.0.display()
        );

        let file = scratch.0.join("file");
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&file)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", file.display()));
        f.write_all(FILE_CONTENTS).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        // The umask may have cleared some of the mode's bits.
        f.set_permissions(fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", file.display()));
        for dir in ["dir", "emptydir"] {
            let path = scratch.0.join(dir);
            fs::create_dir(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        }
        let inner = scratch.0.join("dir/inner");
        fs::File::create(&inner).unwrap_or_else(|e| panic!("cannot create {}: {e}", inner.display()));
        for (name, target) in [("link", "file"), ("dangling", "nonexistent")] {
            let link = scratch.0.join(name);
            symlink(target, &link).unwrap_or_else(|e| panic!("cannot create {}: {e}", link.display()));
        }
        scratch
    }

    /// The directory's absolute path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The directory still holds exactly what [`Scratch::new`] put there.
    pub fn check_untouched(&self) -> Result<(), String> {
        let d = &self.0;
        let names = |dir: &Path| -> Result<BTreeSet<String>, String> {
            let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            entries
                .map(|entry| {
                    entry
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .map_err(|e| format!("cannot list {}: {e}", dir.display()))
                })
                .collect()
        };
        let expect = |dir: &Path, wanted: &[&str]| -> Result<(), String> {
            let found = names(dir)?;
            let wanted: BTreeSet<String> = wanted.iter().map(|s| s.to_string()).collect();
            if found == wanted {
                Ok(())
            } else {
                Err(format!("{} holds {found:?}, expected {wanted:?}", dir.display()))
            }
        };
        expect(d, &["dangling", "dir", "emptydir", "file", "link"])?;
        expect(&d.join("dir"), &["inner"])?;
        expect(&d.join("emptydir"), &[])?;

        let file = d.join("file");
        let meta = fs::symlink_metadata(&file).map_err(|e| format!("cannot stat {}: {e}", file.display()))?;
        let contents = fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        if !meta.is_file() || meta.mode() & 0o7777 != 0o644 || contents != FILE_CONTENTS {
            return Err(format!(
                "{} is no longer a 0644 file holding {:?}: mode {:o}, contents {:?}",
                file.display(),
                String::from_utf8_lossy(FILE_CONTENTS),
                meta.mode(),
                String::from_utf8_lossy(&contents)
            ));
        }
        for (name, target) in [("link", "file"), ("dangling", "nonexistent")] {
            let link = d.join(name);
            let found = fs::read_link(&link).map_err(|e| format!("cannot read the link {}: {e}", link.display()))?;
            if found != Path::new(target) {
                return Err(format!("{} points to {}, expected {target}", link.display(), found.display()));
            }
        }
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // `ro-scratch` itself stays: other tests may be making theirs in it.
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_has_the_layout_and_is_removed() {
        let scratch = Scratch::new("layout");
        let path = scratch.path().to_path_buf();
        assert!(path.is_absolute());
        scratch.check_untouched().unwrap();
        assert_eq!(fs::read_link(path.join("link")).unwrap(), Path::new("file"));
        fs::write(path.join("new"), b"").unwrap();
        assert!(scratch.check_untouched().unwrap_err().contains("new"));
        fs::remove_file(path.join("new")).unwrap();
        fs::write(path.join("file"), b"changed").unwrap();
        assert!(scratch.check_untouched().unwrap_err().contains("changed"));
        drop(scratch);
        assert!(!path.exists());
    }
}
