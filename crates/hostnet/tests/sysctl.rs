//! Per-interface sysctls over rtnetlink: what the agent sets is what
//! /proc/sys shows (`sysctl -n`), uninstall puts every original back (zeros
//! included), and it all works with /proc/sys mounted read-only, as in an
//! unprivileged container, where a differing global key becomes a notice.

mod common;
use common::*;
use hostnet::{Host, SysctlJournal};
use plan::HostPlan;

/// Original values chosen so that each one differs from the plan, and some
/// are 0 (a restore must be able to write 0).
const ORIGINALS: &str = "sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.cni0.rp_filter=1 \
     net.ipv4.conf.eth0.forwarding=0 net.ipv4.conf.eth0/100.rp_filter=0 net.ipv4.conf.eth0/100.forwarding=0";

/// A node with a link whose name has a dot (as a VLAN's would), and the
/// originals above.
fn prepared(prefix: &str) -> netns::NetNs {
    let ns = node(prefix, "10.1.0.2", "10.244.1.1");
    ns.sh(&format!(
        "ip link add eth0.100 type veth peer name peer100 && {ORIGINALS}"
    ))
    .unwrap();
    ns
}

fn plan() -> HostPlan {
    HostPlan {
        sysctls: vec![
            sysctl("net.ipv4.conf.cni0.rp_filter", "2"),
            sysctl("net.ipv4.conf.eth0.forwarding", "1"),
            sysctl("net.ipv4.conf.eth0.100.rp_filter", "2"),
            sysctl("net.ipv4.conf.eth0.100.forwarding", "1"),
            sysctl("net.ipv4.ip_forward", "1"),
        ],
        ..HostPlan::default()
    }
}

/// `sysctl -n` for the plan's keys (dots in interface names as `/`).
fn values(ns: &netns::NetNs) -> String {
    ns.sh(
        "sysctl -n net.ipv4.conf.cni0.rp_filter net.ipv4.conf.eth0.forwarding \
           net.ipv4.conf.eth0/100.rp_filter net.ipv4.conf.eth0/100.forwarding net.ipv4.ip_forward",
    )
    .unwrap()
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ")
}

#[test]
#[ignore = "needs root and network namespaces"]
fn values_set_over_rtnetlink_show_in_proc_sys_and_are_restored() {
    let ns = prepared("ra-hn-sysctl");
    assert_eq!(values(&ns), "1 0 0 0 0");
    let plan = plan();
    let (first, again, journal) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let first = h.converge(&plan).await.unwrap();
        let again = h.converge(&plan).await.unwrap();
        (first, again, h.journal().clone())
    });
    assert!(
        first.errors.is_empty() && first.notices.is_empty(),
        "{first}"
    );
    assert_eq!(first.sysctls.updated, 5, "{first}");
    assert!(again.is_noop(), "second converge changes nothing: {again}");
    assert_eq!(values(&ns), "2 1 2 1 1");
    assert_eq!(journal.originals["net.ipv4.conf.eth0.100.forwarding"], "0");
    assert_eq!(journal.originals.len(), 5, "{journal:?}");
    // Uninstall from a new Host resumed from the journal, as after a restart.
    let removed = block(&ns, || async {
        let mut h = Host::with_journal(journal).unwrap();
        let r = h.remove_all().await.unwrap();
        assert!(h.journal().is_empty(), "{:?}", h.journal());
        r
    });
    assert!(removed.errors.is_empty(), "{removed}");
    assert_eq!(removed.sysctls.updated, 5, "{removed}");
    assert_eq!(values(&ns), "1 0 0 0 0");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn originals_are_recorded_before_anything_is_written() {
    let ns = prepared("ra-hn-sysctl-first");
    let plan = plan();
    let (grew, again, journal) = block(&ns, || async {
        let mut h = Host::new().unwrap();
        let grew = h.record_sysctl_originals(&plan).await;
        let again = h.record_sysctl_originals(&plan).await;
        (grew, again, h.journal().clone())
    });
    assert!(grew && !again, "recorded once");
    assert_eq!(values(&ns), "1 0 0 0 0", "nothing written");
    assert_eq!(journal.originals.len(), 5, "{journal:?}");
    assert_eq!(journal.originals["net.ipv4.conf.cni0.rp_filter"], "1");
    // Killed here, a new agent resumes this journal: a converge then keeps
    // these originals, and uninstall restores them.
    let removed = block(&ns, || async {
        let mut h = Host::with_journal(journal).unwrap();
        h.converge(&plan).await.unwrap();
        assert_eq!(h.journal().originals.len(), 5);
        h.remove_all().await.unwrap()
    });
    assert!(removed.errors.is_empty(), "{removed}");
    assert_eq!(values(&ns), "1 0 0 0 0");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn restore_skips_keys_of_links_removed_since() {
    let ns = prepared("ra-hn-sysctl-gone");
    let plan = plan();
    let journal = block(&ns, || async {
        let mut h = Host::new().unwrap();
        h.converge(&plan).await.unwrap();
        h.journal().clone()
    });
    ns.sh("ip link del eth0.100").unwrap();
    let removed = block(&ns, || async {
        let mut h = Host::with_journal(journal).unwrap();
        h.remove_all().await.unwrap()
    });
    assert!(removed.errors.is_empty(), "{removed}");
    assert_eq!(removed.sysctls.updated, 3, "{removed}");
    assert_eq!(
        ns.sh("sysctl -n net.ipv4.conf.cni0.rp_filter net.ipv4.conf.eth0.forwarding net.ipv4.ip_forward")
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["1", "0", "0"]
    );
}

/// Set in the child: the phase to run and the journal file.
const CHILD: &str = "HOSTNET_TEST_READ_ONLY_CHILD";

/// Runs this test binary's `read_only_proc_sys` test again as a child in
/// `ns`, in a private mount namespace where /proc/sys is bind-mounted
/// read-only (what a container runtime's `readonlyPaths` does).
fn child(ns: &netns::NetNs, phase: &str, journal: &std::path::Path) {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("unshare")
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec ip netns exec \"$0\" \"$@\"",
            ns.name(),
        ])
        .arg(exe)
        .args([
            "--exact",
            "read_only_proc_sys",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{phase}:{}", journal.display()))
        .output()
        .expect("unshare (util-linux)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "child {phase}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child's side: /proc/sys really is read-only, then converge (per
/// interface keys set, ip_forward a notice) or uninstall.
fn child_side(spec: &str) {
    let (phase, path) = spec.split_once(':').unwrap();
    let err = std::fs::write("/proc/sys/net/ipv4/conf/cni0/rp_filter", "2\n").unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(30),
        "/proc/sys must be read-only: {err}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if phase == "converge" {
            let mut h = Host::new().unwrap();
            let r = h.converge(&plan()).await.unwrap();
            assert!(r.errors.is_empty(), "{r}");
            assert_eq!(r.sysctls.updated, 4, "{r}");
            assert_eq!(r.notices.len(), 1, "{r}");
            assert!(
                r.notices[0].contains("net.ipv4.ip_forward is 0, want 1")
                    && r.notices[0].contains("read-only"),
                "{r}"
            );
            std::fs::write(path, serde_json::to_string(h.journal()).unwrap()).unwrap();
        } else {
            let j: SysctlJournal = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let mut h = Host::with_journal(j).unwrap();
            let r = h.remove_all().await.unwrap();
            assert!(r.errors.is_empty(), "{r}");
            assert_eq!(r.sysctls.updated, 4, "{r}");
            assert!(h.journal().is_empty());
        }
    });
}

#[test]
#[ignore = "needs root and network namespaces"]
fn read_only_proc_sys() {
    if let Ok(spec) = std::env::var(CHILD) {
        return child_side(&spec);
    }
    let ns = prepared("ra-hn-sysctl-ro");
    let dir = tempfile_dir();
    let journal = dir.join("journal.json");
    child(&ns, "converge", &journal);
    assert_eq!(
        values(&ns),
        "2 1 2 1 0",
        "per-interface set, ip_forward left"
    );
    let saved: SysctlJournal = serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    assert!(
        !saved.originals.contains_key("net.ipv4.ip_forward"),
        "{saved:?}"
    );
    child(&ns, "uninstall", &journal);
    assert_eq!(values(&ns), "1 0 0 0 0");
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hostnet-sysctl-ro-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
