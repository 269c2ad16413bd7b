//! `runsc update`: new resource limits for a running (or created or
//! paused) container, written to its host cgroup as runc writes them:
//! from `--resources` (a JSON file of the spec's `linux.resources`, `-`
//! for stdin) or from the flags.

use std::io::Read as _;

use anyhow::{anyhow, bail, Context as _};
use oci_spec::runtime::{LinuxBlockIoBuilder, LinuxCpu, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources};

use crate::cli::{GlobalFlags, UpdateArgs};
use crate::state::{self, Container, Status};

/// A byte count as runc takes it: digits with an optional binary suffix
/// (`64m`, `1G`, `512KiB`), or -1 for unlimited.
pub fn parse_bytes(s: &str) -> anyhow::Result<i64> {
    let bad = || anyhow!("{s:?} is not a size (a number of bytes, with k, m, g or t, or -1)");
    if s == "-1" {
        return Ok(-1);
    }
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim_start().to_ascii_lowercase();
    let unit = unit.strip_suffix('b').unwrap_or(&unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        "p" => 50,
        _ => return Err(bad()),
    };
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// The resources `args` ask for.
fn resources(args: &UpdateArgs) -> anyhow::Result<LinuxResources> {
    if let Some(path) = &args.resources {
        let mut text = String::new();
        if path == "-" {
            std::io::stdin().read_to_string(&mut text).context("--resources -: read stdin")?;
        } else {
            text = std::fs::read_to_string(path).with_context(|| format!("--resources {path}"))?;
        }
        return serde_json::from_str(&text).with_context(|| format!("--resources {path}: not linux.resources JSON"));
    }
    if args.l3_cache_schema.is_some() || args.mem_bw_schema.is_some() {
        bail!("--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported");
    }
    let mut r = LinuxResources::default();
    let bytes = |v: &Option<String>, flag: &str| -> anyhow::Result<Option<i64>> {
        v.as_deref().map(|s| parse_bytes(s).with_context(|| format!("--{flag}"))).transpose()
    };
    let (limit, reservation, swap) = (
        bytes(&args.memory, "memory")?,
        bytes(&args.memory_reservation, "memory-reservation")?,
        bytes(&args.memory_swap, "memory-swap")?,
    );
    if limit.is_some() || reservation.is_some() || swap.is_some() {
        let mut m = LinuxMemoryBuilder::default();
        if let Some(v) = limit {
            m = m.limit(v);
        }
        if let Some(v) = reservation {
            m = m.reservation(v);
        }
        if let Some(v) = swap {
            m = m.swap(v);
        }
        r.set_memory(Some(m.build().context("--memory")?));
    }
    let cpu_given = args.cpu_period.is_some()
        || args.cpu_quota.is_some()
        || args.cpu_share.is_some()
        || args.cpu_rt_period.is_some()
        || args.cpu_rt_runtime.is_some()
        || args.cpuset_cpus.is_some()
        || args.cpuset_mems.is_some();
    if cpu_given {
        let mut c = LinuxCpu::default();
        c.set_period(args.cpu_period)
            .set_quota(args.cpu_quota)
            .set_shares(args.cpu_share)
            .set_realtime_period(args.cpu_rt_period)
            .set_realtime_runtime(args.cpu_rt_runtime)
            .set_cpus(args.cpuset_cpus.clone())
            .set_mems(args.cpuset_mems.clone());
        r.set_cpu(Some(c));
    }
    if let Some(p) = args.pids_limit {
        r.set_pids(Some(LinuxPidsBuilder::default().limit(p).build().context("--pids-limit")?));
    }
    if let Some(w) = args.blkio_weight {
        if !(10..=1000).contains(&w) {
            bail!("--blkio-weight {w}: the range is 10 to 1000");
        }
        r.set_block_io(Some(LinuxBlockIoBuilder::default().weight(w).build().context("--blkio-weight")?));
    }
    Ok(r)
}

/// Updates container `args.id`.
pub fn run(g: &GlobalFlags, args: &UpdateArgs) -> anyhow::Result<i32> {
    let r = resources(args)?;
    let (container, saved) = Container::open(&g.root, &args.id, true)?;
    if let Some(pod) = &saved.sandbox {
        // Nothing is changed: its cgroup holds only its gofers.
        bail!(
            "cannot update container {:?}: not supported yet for a container of a pod (its processes run in the \
             sandbox of {pod:?}, held to that container's cgroup: update it)",
            args.id
        );
    }
    match state::status(&container.dir, &saved) {
        Status::Stopped => bail!("cannot update container {:?}: it is stopped", args.id),
        _ if saved.cgroups.is_empty() => bail!("container {:?} has no cgroup to update", args.id),
        _ => {}
    }
    crate::cgroup::update(&saved.cgroups, &r)?;
    // The sandbox counts its tasks itself and shows the memory limit (and
    // the CPU limits, in its cgroup filesystem).
    let pids = r.pids().as_ref().map(|p| p.limit());
    let memory = r.memory().as_ref().and_then(|m| m.limit());
    let cpu = r.cpu().as_ref().map(|c| (c.quota(), c.period(), c.shares()));
    if pids.is_some() || memory.is_some() || cpu.is_some() {
        let req = crate::control::Request::SetLimits { pids, memory, cpu };
        crate::control::call(&container.dir, &req, Some(std::time::Duration::from_secs(10)))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_parse_as_runcs() {
        assert_eq!(parse_bytes("67108864").unwrap(), 67_108_864);
        assert_eq!(parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1G").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("512KiB").unwrap(), 512 << 10);
        assert_eq!(parse_bytes("2 MB").unwrap(), 2 << 20);
        assert_eq!(parse_bytes("-1").unwrap(), -1);
        for bad in ["", "m", "12q", "-5", "1.5g", "99999999999999t"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
