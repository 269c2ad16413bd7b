//! `runsc syscalls`: lists the syscall table (number, name, how complete),
//! from the same table the sentry dispatches with.

use sentry::kernel::Support;

use crate::cli::SyscallsArgs;

/// Prints the table; with `--all`, unimplemented syscalls too.
pub fn run(args: &SyscallsArgs) -> anyhow::Result<i32> {
    let mut rows: Vec<_> = syscalls::table().iter().collect();
    rows.sort_by_key(|e| e.nr);
    let mut out = String::new();
    for e in rows {
        let what = match e.support {
            Support::Full => "full".to_string(),
            Support::Partial(note) => format!("partial: {note}"),
            Support::Unimplemented if args.all => "unimplemented (ENOSYS)".to_string(),
            Support::Unimplemented => continue,
        };
        out.push_str(&format!("{:>3} {:<24} {what}\n", e.nr, e.name));
    }
    print!("{out}");
    Ok(0)
}
