//! Where things are: the workspace, the `runsc` binary under test, and the
//! directory the C programs are built into.

use std::env;
use std::path::{Path, PathBuf};

/// This crate's directory (`<workspace>/tests`).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    tests_dir().parent().expect("the tests crate lives inside the workspace").to_path_buf()
}

/// The `runsc` binary under test: `$RUNSC` if set, else
/// `<workspace>/target/release/runsc`, else `<workspace>/target/debug/runsc`.
///
/// Panics with instructions if there is none.
pub fn runsc() -> PathBuf {
    if let Some(path) = env::var_os("RUNSC") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "RUNSC is set to {}, which is not a file", path.display());
        return path;
    }
    let target = workspace_root().join("target");
    let candidates = [target.join("release").join("runsc"), target.join("debug").join("runsc")];
    for candidate in &candidates {
        if candidate.is_file() {
            return candidate.clone();
        }
    }
    panic!(
        "runsc not found (looked for {} and {}): build it with \
         `cargo build --release -p runsc`, or point RUNSC at a binary",
        candidates[0].display(),
        candidates[1].display()
    );
}

/// The directory build products of these tests go in: `$CARGO_TARGET_DIR`
/// if set (relative to the workspace), else `<workspace>/target`.
pub fn build_dir() -> PathBuf {
    let root = workspace_root();
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}
