//! `runsc`: the OCI runtime command. One binary: the CLI, and, re-executed,
//! the sandbox (`runsc boot`) and the file server (`runsc gofer`).

#![forbid(unsafe_code)]

mod cli;
mod cmd_boot;
mod cmd_do;
mod cmd_gofer;
mod cmd_spec;
mod cmd_syscalls;
mod confine;
mod filters;
mod logging;
mod sandbox;
mod signals;

use clap::Parser;

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result = match &cli.command {
        cli::Command::Do(args) => cmd_do::run(&cli.global, args),
        cli::Command::Boot(args) => cmd_boot::run(&cli.global, args),
        cli::Command::Gofer(args) => cmd_gofer::run(&cli.global, args),
        cli::Command::Syscalls(args) => cmd_syscalls::run(args),
        cli::Command::Spec(args) => cmd_spec::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("runsc: {e:#}");
            std::process::exit(1);
        }
    }
}
