//! Sysctls the agent relies on (read only) and VXLAN support.

use crate::kernel;
use capabilities::{FeatureState, KernelInfo};
use std::collections::BTreeMap;

/// The sysctls read (`sysctl -n NAME`, from /proc/sys).
pub const SYSCTLS: [&str; 3] = [
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
];

/// Reads [`SYSCTLS`]; a missing one is left out.
pub fn sysctls() -> BTreeMap<String, String> {
    SYSCTLS
        .iter()
        .filter_map(|name| {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            std::fs::read_to_string(path)
                .ok()
                .map(|v| (name.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// Whether /proc/sys/net is mounted writable, from the calling thread's
/// mount table (`findmnt -T /proc/sys/net -o OPTIONS`); `None` when the
/// table is unreadable. Nothing is written to find out.
pub fn proc_sys_writable() -> Option<bool> {
    let table = std::fs::read_to_string("/proc/thread-self/mountinfo").ok()?;
    writable_in(&table, "/proc/sys/net")
}

/// Whether `path` is on a writable mount of `mountinfo` (proc(5) format):
/// the mount with the longest mount point containing `path` (the last one
/// listed on a tie), read-only when its mount or its superblock options say
/// `ro`. `None` when no mount contains it.
pub fn writable_in(mountinfo: &str, path: &str) -> Option<bool> {
    let under = |mp: &str| {
        mp == "/" || path == mp || path.strip_prefix(mp).is_some_and(|r| r.starts_with('/'))
    };
    let mut best: Option<(usize, bool)> = None;
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let Some(sep) = f.iter().position(|x| *x == "-") else {
            continue;
        };
        let (Some(mp), Some(opts), Some(sb)) = (f.get(4), f.get(5), f.get(sep + 3)) else {
            continue;
        };
        if !under(mp) || best.is_some_and(|(len, _)| len > mp.len()) {
            continue;
        }
        let ro = |o: &str| o.split(',').any(|x| x == "ro");
        best = Some((mp.len(), !ro(opts) && !ro(sb)));
    }
    best.map(|(_, w)| w)
}

/// VXLAN support: from `CONFIG_VXLAN` when the config is known; otherwise
/// by creating a vxlan link inside a temporary child network namespace
/// (`ip -n ra-probe-vx-* link add vx0 type vxlan id 1 dstport 4789`), never
/// the root one; when that cannot be done either, unknown (left enabled:
/// the agent will try, and report a failure to create the link).
pub fn vxlan(k: &KernelInfo) -> FeatureState {
    match kernel::option(k, "VXLAN") {
        Some(true) => return FeatureState::on(),
        Some(false) => {
            return FeatureState::off(
                "the kernel is built without CONFIG_VXLAN",
                "use a kernel with CONFIG_VXLAN=y or =m",
            )
        }
        None => {}
    }
    let ns = match netns::NetNs::new("ra-probe-vx") {
        Ok(ns) => ns,
        Err(e) => {
            return FeatureState {
                enabled: true,
                reason: Some(format!("unknown: the kernel config is not readable and no namespace could be made to test it ({e})")),
                fix: None,
            }
        }
    };
    match ns.sh("ip link add vx0 type vxlan id 1 dstport 4789") {
        Ok(_) => FeatureState {
            enabled: true,
            reason: Some(
                "config unknown; a test vxlan link was created in a temporary namespace".into(),
            ),
            fix: None,
        },
        Err(e) => FeatureState::off(
            format!("creating a vxlan link failed: {e}"),
            "use a kernel with CONFIG_VXLAN",
        ),
    }
}
