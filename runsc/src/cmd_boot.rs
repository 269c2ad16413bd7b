//! `runsc boot`: the sandbox process. Reads the spec, builds the kernel and
//! runs the container's process; exits with its status.

use std::io::Read as _;

use anyhow::Context as _;
use oci_spec::runtime::Spec;

use crate::cli::{BootArgs, GlobalFlags};
use crate::logging;
use crate::sandbox::{self, Sandbox, StartError};
use crate::{confine, filters, signals};

/// Runs the sandbox; returns the exit status for runsc to exit with.
pub fn run(g: &GlobalFlags, args: &BootArgs) -> anyhow::Result<i32> {
    logging::init(g, g.debug_log.as_deref(), "boot")?;
    confine::die_with_parent().context("boot")?;
    // Signals from outside reach the sandbox through runsc, forwarded to
    // init; a session of its own keeps the terminal's away.
    signals::block()?;
    nix::unistd::setsid().context("boot: setsid")?;
    let spec_fd = gofer::transport::adopt_inherited(args.spec_fd).context("boot --spec-fd")?;
    let mut json = Vec::new();
    std::fs::File::from(spec_fd).read_to_end(&mut json).context("read spec")?;
    let spec: Spec = serde_json::from_slice(&json).context("parse spec")?;
    let gofer = gofer::transport::adopt_inherited(args.gofer_fd).context("boot --gofer-fd")?;
    gofer::transport::set_polling(gofer::transport::several_cpus());
    let volumes = args
        .volume_fds
        .iter()
        .map(|&fd| gofer::transport::adopt_inherited(fd).context("boot --volume-fds"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = match args.filestore_fd {
        Some(fd) => Some(gofer::transport::adopt_inherited(fd).context("boot --filestore-fd")?),
        None => None,
    };
    // Still single-threaded here, as unshare and the platform require.
    confine::enter_namespaces(true).context("confine sandbox")?;
    let sandbox = Sandbox::new(&spec, gofer, volumes, g.strace, g.overlay2.overlaid(), store)?;
    // After the platform (it forks while single-threaded); before the pivot
    // (stdio is reopened through /proc).
    let stdio = sandbox::import_stdio(&args.closed_fds)?;
    let kernel = sandbox.kernel();
    signals::forward("signals", move |sig| kernel.signal_init_from_host(sig))?;
    confine::pivot_to_empty_root().context("confine sandbox")?;
    confine::drop_capabilities().context("confine sandbox")?;
    // The errno filter first: installing a filter is not allowed once the
    // main one is in.
    confine::install_errno_filter(&filters::sentry::errno_table()).context("confine sandbox")?;
    confine::install_filter(&filters::sentry::table(), g.seccomp_log).context("confine sandbox")?;
    match sandbox.run_init(&spec, stdio) {
        Ok(status) => {
            tracing::info!(?status, "init exited");
            Ok(status.shell_code())
        }
        Err(e) => match e.downcast_ref::<StartError>() {
            Some(se) => {
                eprintln!("runsc: {}", se.msg);
                Ok(se.code)
            }
            None => Err(e),
        },
    }
}
