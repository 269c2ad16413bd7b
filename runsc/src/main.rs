//! `runsc`: the OCI runtime command. One binary: the CLI, and, re-executed,
//! the sandbox (`runsc boot`) and the file server (`runsc gofer`).

#![forbid(unsafe_code)]

mod args;
mod bundle;
mod cgroup;
mod cli;
mod cmd_boot;
mod cmd_create;
mod cmd_delete;
mod cmd_do;
mod cmd_events;
mod cmd_exec;
mod cmd_features;
mod cmd_gofer;
mod cmd_install;
mod cmd_kill;
mod cmd_pause;
mod cmd_ps;
mod cmd_spec;
mod cmd_start;
mod cmd_state;
mod cmd_syscalls;
mod cmd_update;
mod cmd_wait;
mod confine;
mod console;
mod container_fs;
mod control;
mod control_pod;
mod exec_tty;
mod filters;
mod hooks;
mod launch;
mod logging;
mod masked_paths;
mod pod;
mod rootless;
mod sandbox;
mod signals;
mod start_hooks;
mod state;
mod sysctl;
mod table;
mod userns;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() {
    let parsed = cli::Cli::command()
        .try_get_matches_from(args::normalize(std::env::args_os()))
        .and_then(|m| cli::Cli::from_arg_matches(&m).map(|c| (c, m)));
    let mut cli = match parsed {
        Ok((mut c, m)) => {
            // An unprivileged caller's state is under $XDG_RUNTIME_DIR
            // unless --root says where (as runc's).
            if m.value_source("root") == Some(clap::parser::ValueSource::DefaultValue) {
                if let Some(r) = rootless::default_root() {
                    c.global.root = r;
                }
            }
            c
        }
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let cli = &mut cli;
    let g = &cli.global;
    let result = match &cli.command {
        cli::Command::Do(args) => cmd_do::run(g, args),
        cli::Command::Boot(args) => cmd_boot::run(g, args),
        cli::Command::Gofer(args) => cmd_gofer::run(g, args),
        cli::Command::PodWaiter(args) => pod::run_waiter(g, args),
        cli::Command::UsernsHolder => userns::run_holder(),
        cli::Command::Syscalls(args) => cmd_syscalls::run(args),
        cli::Command::Spec(args) => cmd_spec::run(args),
        cli::Command::Create(args) => cmd_create::run_create(g, args),
        cli::Command::Run(args) => cmd_create::run_run(g, args),
        cli::Command::Start(args) => cmd_start::run(g, args),
        cli::Command::State(args) => cmd_state::run_state(g, args),
        cli::Command::List(args) => cmd_state::run_list(g, args),
        cli::Command::Kill(args) => cmd_kill::run(g, args),
        cli::Command::Delete(args) => cmd_delete::run(g, args),
        cli::Command::Ps(args) => cmd_ps::run(g, args),
        cli::Command::Exec(args) => cmd_exec::run(g, args),
        cli::Command::Pause(args) => cmd_pause::run(g, args, true),
        cli::Command::Resume(args) => cmd_pause::run(g, args, false),
        cli::Command::Events(args) => cmd_events::run(g, args),
        cli::Command::Wait(args) => cmd_wait::run(g, args),
        cli::Command::Update(args) => cmd_update::run(g, args),
        cli::Command::Install(args) => cmd_install::run_install(args),
        cli::Command::Uninstall(args) => cmd_install::run_uninstall(args),
        cli::Command::Features => cmd_features::run(),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let msg = format!("{e:#}");
            eprintln!("runsc: {msg}");
            logging::log_error(g, &msg);
            std::process::exit(1);
        }
    }
}
