//! Builds the C test programs with gcc, once per variant, and again only when
//! the source or a header beside it is newer than the binary.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{self, Command};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use crate::paths::build_dir;

/// How a C program is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// gcc's default: a dynamically linked position-independent executable.
    Dyn,
    /// `-static`: no dynamic loader, glibc linked in.
    Static,
    /// `-no-pie`: dynamically linked, loaded at a fixed address.
    NoPie,
}

impl Variant {
    /// The name used for the build directory and in known-failure names.
    pub fn dir_name(self) -> &'static str {
        match self {
            Variant::Dyn => "dyn",
            Variant::Static => "static",
            Variant::NoPie => "nopie",
        }
    }

    /// The variant called `name` (see [`Variant::dir_name`]).
    pub fn from_dir_name(name: &str) -> Option<Variant> {
        [Variant::Dyn, Variant::Static, Variant::NoPie].into_iter().find(|v| v.dir_name() == name)
    }

    fn gcc_flags(self) -> &'static [&'static str] {
        match self {
            Variant::Dyn => &[],
            Variant::Static => &["-static"],
            Variant::NoPie => &["-no-pie"],
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// Flags for every build. The programs are ours, so warnings are errors.
const GCC_FLAGS: &[&str] = &["-O1", "-Wall", "-Wextra", "-Werror", "-std=gnu11"];

/// Compiles `src` (e.g. `tests/conformance/mmap.c`) as `variant` into
/// `<build dir>/<src's directory name>/<variant>/<stem>` (e.g.
/// `target/conformance/dyn/mmap`) unless that binary is newer than the
/// source, every header beside it and every header it includes with
/// `#include "..."` (such as `../conformance/common.h`). Returns the
/// binary's path.
///
/// Safe to call from parallel tests and processes: gcc writes a private
/// file that is renamed into place. Panics if gcc is missing or fails.
pub fn compile(src: &Path, variant: Variant) -> PathBuf {
    let stem = src.file_stem().unwrap_or_else(|| panic!("{} has no file name", src.display()));
    let group =
        src.parent().and_then(Path::file_name).unwrap_or_else(|| panic!("{} has no parent directory", src.display()));
    let out_dir = build_dir().join(group).join(variant.dir_name());
    fs::create_dir_all(&out_dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", out_dir.display()));
    let out = out_dir.join(stem);
    if is_up_to_date(&out, src) {
        return out;
    }

    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let tmp = out_dir.join(format!(
        ".{}.{}.{}.tmp",
        stem.to_string_lossy(),
        process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let output = Command::new("gcc")
        .args(GCC_FLAGS)
        .args(variant.gcc_flags())
        .arg("-o")
        .arg(&tmp)
        .arg(src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}); install it with `apt-get install gcc`"));
    if !output.status.success() {
        let _ = fs::remove_file(&tmp);
        panic!("gcc failed to build {} ({variant}):\n{}", src.display(), String::from_utf8_lossy(&output.stderr));
    }
    fs::rename(&tmp, &out).unwrap_or_else(|e| panic!("cannot move {} to {}: {e}", tmp.display(), out.display()));
    out
}

/// Is `out` newer than `src`, every `.h` file in `src`'s directory and every
/// file `src` includes with `#include "..."`?
fn is_up_to_date(out: &Path, src: &Path) -> bool {
    let Some(built) = mtime(out) else {
        return false;
    };
    let dir = src.parent().expect("checked by the caller");
    let headers = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "h"));
    let text = fs::read_to_string(src).unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()));
    let included = quoted_includes(&text).into_iter().map(|name| dir.join(name));
    std::iter::once(src.to_path_buf()).chain(headers).chain(included).all(|input| {
        let changed = mtime(&input).unwrap_or_else(|| panic!("cannot stat {}", input.display()));
        changed <= built
    })
}

/// The file names in the `#include "name"` lines of a C source.
fn quoted_includes(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix('#'))
        .filter_map(|rest| rest.trim_start().strip_prefix("include"))
        .filter_map(|rest| rest.trim_start().strip_prefix('"'))
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name))
        .collect()
}

fn mtime(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_quoted_includes_only() {
        let text = "#include \"common.h\"\n#include <stdio.h>\n  # include \"../x/y.h\" // why\nint x;\n";
        assert_eq!(quoted_includes(text), vec!["common.h", "../x/y.h"]);
    }
}
