//! `runsc do`: runs a command in a throwaway sandbox whose root is the
//! host's root filesystem under a writable overlay in sandbox memory (or
//! read-only with `--overlay2=none`), like gVisor's `runsc do`.

use std::path::Path;

use anyhow::{bail, Context as _};
use oci_spec::runtime::{ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder};

use crate::cli::{DoArgs, GlobalFlags};
use crate::{launch, signals};

/// Builds the spec `do` runs: the host's root, the caller's cwd, env and ids.
fn build_spec(g: &GlobalFlags, args: &DoArgs) -> anyhow::Result<Spec> {
    let cwd = match &args.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().context("current directory")?,
    };
    if !cwd.is_absolute() {
        bail!("--cwd must be an absolute path: {}", cwd.display());
    }
    let env: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| Some(format!("{}={}", k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let user = UserBuilder::default()
        .uid(nix::unistd::getuid().as_raw())
        .gid(nix::unistd::getgid().as_raw())
        .additional_gids(
            nix::unistd::getgroups().unwrap_or_default().into_iter().map(|g| g.as_raw()).collect::<Vec<_>>(),
        )
        .build()?;
    let process = ProcessBuilder::default()
        .args(args.command.clone())
        .env(env)
        .cwd(cwd)
        .user(user)
        .terminal(false)
        .rlimits(caller_rlimits()?)
        // As the caller's child would have it (oci-spec's default is true).
        .no_new_privileges(caller_no_new_privs())
        .build()?;
    // No capability sets: the process has what its uid gives (all of them
    // for root), not oci-spec's default container set.
    let mut process = process;
    process.set_capabilities(None);
    // The host's / is never written: with an overlay, writes go to its
    // upper layer; without one, the root is read-only.
    let root = RootBuilder::default().path("/").readonly(!g.overlay2.overlaid()).build()?;
    let hostname = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "runsc".into());
    let mounts = args
        .volumes
        .iter()
        .map(|v| {
            oci_spec::runtime::MountBuilder::default()
                .destination(&v.sandbox)
                .typ("bind")
                .source(&v.host)
                .options(vec!["rbind".to_owned(), if v.readonly { "ro" } else { "rw" }.to_owned()])
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SpecBuilder::default().process(process).root(root).hostname(hostname).mounts(mounts).build()?)
}

/// Whether the caller has no_new_privs set (its child inherits it).
fn caller_no_new_privs() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("NoNewPrivs:").map(|v| v.trim() == "1")))
        .unwrap_or(false)
}

/// The caller's resource limits, which the sandboxed program inherits as a
/// child of the caller would.
fn caller_rlimits() -> anyhow::Result<Vec<oci_spec::runtime::PosixRlimit>> {
    use nix::sys::resource::{getrlimit, Resource as R};
    use oci_spec::runtime::{PosixRlimitBuilder, PosixRlimitType as T};
    let all = [
        (T::RlimitCpu, R::RLIMIT_CPU),
        (T::RlimitFsize, R::RLIMIT_FSIZE),
        (T::RlimitData, R::RLIMIT_DATA),
        (T::RlimitStack, R::RLIMIT_STACK),
        (T::RlimitCore, R::RLIMIT_CORE),
        (T::RlimitRss, R::RLIMIT_RSS),
        (T::RlimitNproc, R::RLIMIT_NPROC),
        (T::RlimitNofile, R::RLIMIT_NOFILE),
        (T::RlimitMemlock, R::RLIMIT_MEMLOCK),
        (T::RlimitAs, R::RLIMIT_AS),
        (T::RlimitLocks, R::RLIMIT_LOCKS),
        (T::RlimitSigpending, R::RLIMIT_SIGPENDING),
        (T::RlimitMsgqueue, R::RLIMIT_MSGQUEUE),
        (T::RlimitNice, R::RLIMIT_NICE),
        (T::RlimitRtprio, R::RLIMIT_RTPRIO),
        (T::RlimitRttime, R::RLIMIT_RTTIME),
    ];
    let mut out = Vec::new();
    for (typ, res) in all {
        let Ok((soft, hard)) = getrlimit(res) else { continue };
        out.push(PosixRlimitBuilder::default().typ(typ).soft(soft).hard(hard).build()?);
    }
    Ok(out)
}

/// Runs the command; returns its exit status.
pub fn run(g: &GlobalFlags, args: &DoArgs) -> anyhow::Result<i32> {
    // Signals for the sandbox are forwarded, not taken; orphans of the
    // sandbox's processes come back to us to be reaped.
    signals::block()?;
    nix::sys::prctl::set_child_subreaper(true).context("become a subreaper")?;
    let spec = build_spec(g, args)?;
    // Rootless, the sandbox's processes are in a user namespace of the
    // caller's that maps the caller's own ids to themselves: the program
    // runs as the caller, over the files the caller may reach.
    let userns = if crate::rootless::active(g) { Some(crate::userns::own_ids()?) } else { None };
    let plan = launch::Plan {
        netns: None,
        userns: userns.as_ref(),
        cgroup: &[],
        spec: &spec,
        rootfs: Path::new("/"),
        bundle_dir: Path::new("/"),
        control: None,
        errors: None,
        console: None,
        detached: false,
        preserve_fds: 0,
    };
    let launched = launch::start(g, &plan)?;
    launched.supervise()
}
