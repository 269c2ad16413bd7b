//! The OCI runtime commands: `runsc spec` writes a config.json shaped as
//! runc's (compared with `runc spec`, installed by the test command), and
//! never overwrites one or writes outside a bundle directory.

use std::fs;
use std::path::Path;
use std::process::Command;

use runsc_tests::runsc;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

fn list(v: &serde_json::Value, field: &str) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x[field].as_str().map(str::to_string)).collect()
}

#[test]
fn spec_writes_a_config_like_runcs() {
    let base = std::env::temp_dir().join(format!("runsc-oci-spec-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let (ours, theirs) = (base.join("runsc"), base.join("runc"));
    fs::create_dir_all(&ours).unwrap();
    fs::create_dir_all(&theirs).unwrap();
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&ours));
    assert!(ok, "runsc spec failed: {err}");
    let (ok, err) = run(Command::new("runc").args(["spec", "--bundle"]).arg(&theirs));
    assert!(ok, "runc spec failed (runc is installed by scripts/test): {err}");
    let (a, b) = (json(&ours.join("config.json")), json(&theirs.join("config.json")));
    assert_eq!(keys(&a), keys(&b), "top-level fields");
    assert_eq!(keys(&a["process"]), keys(&b["process"]), "process fields");
    assert_eq!(keys(&a["linux"]), keys(&b["linux"]), "linux fields");
    assert_eq!(a["root"], b["root"], "root");
    assert_eq!(a["process"]["args"], b["process"]["args"], "args");
    assert_eq!(list(&a["mounts"], "destination"), list(&b["mounts"], "destination"), "mounts");
    let ns = list(&a["linux"]["namespaces"], "type");
    for n in list(&b["linux"]["namespaces"], "type") {
        assert!(ns.contains(&n), "namespace {n} missing from {ns:?}");
    }
    assert_eq!(a["hostname"], "runsc");
    assert!(oci_spec::runtime::Spec::load(ours.join("config.json")).is_ok(), "our config.json loads as a spec");

    // A second run refuses and leaves the file as it was.
    let before = fs::read(ours.join("config.json")).unwrap();
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&ours));
    assert!(!ok && err.contains("exists"), "a second spec must refuse: {err}");
    assert_eq!(fs::read(ours.join("config.json")).unwrap(), before);

    // A bundle that is not a directory: an error, nothing made.
    let missing = base.join("missing");
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&missing));
    assert!(!ok && err.contains("not a directory"), "{err}");
    assert!(!missing.exists());
    fs::remove_dir_all(&base).unwrap();
}
