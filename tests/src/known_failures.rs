//! The list of tests expected to fail, `tests/known_failures.txt`.
//!
//! One test per line, `name reason`, e.g.
//! `conformance/dyn/mremap MREMAP_DONTUNMAP is not implemented`; `#` starts a
//! comment. A listed test must fail: if it passes, the harness fails it so
//! that the entry is removed and the list stays true.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::paths::tests_dir;

/// The file the list is read from.
pub fn path() -> PathBuf {
    tests_dir().join("known_failures.txt")
}

/// The known failures: test name to reason. Panics if the file is malformed
/// (an entry without a reason, a name listed twice, an unknown prefix).
pub fn known_failures() -> &'static BTreeMap<String, String> {
    static LIST: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let path = path();
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// Parses the list's text.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut list = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (name, reason) = line
            .split_once(char::is_whitespace)
            .map(|(n, r)| (n, r.trim()))
            .ok_or_else(|| format!("line {}: `{line}` has no reason", number + 1))?;
        if !name.starts_with("conformance/") && !name.starts_with("programs/") && !name.starts_with("workloads/") {
            return Err(format!(
                "line {}: `{name}` is neither conformance/<variant>/<program>, \
                 programs/<test> nor workloads/<test>",
                number + 1
            ));
        }
        if list.insert(name.to_string(), reason.to_string()).is_some() {
            return Err(format!("line {}: `{name}` is listed twice", number + 1));
        }
    }
    Ok(list)
}

/// Applies the list to a test's outcome: passes an unlisted test that
/// succeeded or a listed test that failed; panics otherwise, with the
/// failure's explanation or a request to update the list.
pub fn check_known(name: &str, outcome: Result<(), String>) {
    match (known_failures().get(name), outcome) {
        (None, Ok(())) => {}
        (None, Err(why)) => panic!("{name} failed:\n{why}"),
        (Some(reason), Err(why)) => {
            eprintln!("{name}: known failure ({reason}); it still fails:\n{why}");
        }
        (Some(reason), Ok(())) => panic!(
            "{name} passes but is listed in {} as a known failure ({reason}): \
             remove it from the list",
            path().display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_reasons_and_comments() {
        let list =
            parse("# comment\n\nconformance/dyn/mmap  MAP_32BIT missing # why\nprograms/ls  getdents\n").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list["conformance/dyn/mmap"], "MAP_32BIT missing");
        assert_eq!(list["programs/ls"], "getdents");
    }

    #[test]
    fn rejects_missing_reason_duplicates_and_bad_names() {
        assert!(parse("conformance/dyn/mmap\n").is_err());
        assert!(parse("programs/a x\nprograms/a y\n").is_err());
        assert!(parse("mmap reason\n").is_err());
    }

    #[test]
    fn the_real_list_parses() {
        known_failures();
    }
}
