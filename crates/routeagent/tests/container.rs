//! The image from `scripts/image.sh` run by podman the way a pod runs it:
//! in the node's network namespace, every capability dropped but NET_ADMIN
//! and NET_RAW, read-only root filesystem, no privilege escalation, so
//! /proc/sys is read-only. `apply --once` programs the namespace (nftables
//! table, routes, per-interface sysctls over rtnetlink) and `uninstall`
//! restores it exactly. Fails loudly when podman is missing
//! (`scripts/setup.sh` installs it).
mod support;
use netns::NetNs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;
use support::*;

/// podman's default rlimits exceed these machines' hard limits.
const ULIMITS: [&str; 4] = [
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];

/// A container by name, removed on drop (`podman rm -f`) whatever happens.
struct Container(String);

impl Container {
    fn new(tag: &str) -> Container {
        static N: AtomicU32 = AtomicU32::new(0);
        Container(format!(
            "ra-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rm", "-f", "--ignore", &self.0])
            .output();
    }
}

/// `podman run --rm` of `image` in `ns` with the DaemonSet's security
/// context (`--cap-drop ALL --cap-add NET_ADMIN,NET_RAW --read-only
/// --security-opt no-new-privileges`), the topology mounted read-only and a
/// writable state dir at /run/routeagent; the output and wall time.
fn run(ns: &NetNs, image: &str, dir: &Path, args: &[&str]) -> (Output, f64) {
    let c = Container::new(ns.name());
    let start = Instant::now();
    let out = Command::new("podman")
        .args(["run", "--rm", "--name", &c.0])
        .args(["--network", &format!("ns:{}", ns.path())])
        .args(["--cap-drop", "ALL", "--cap-add", "NET_ADMIN,NET_RAW"])
        .args(["--read-only", "--security-opt", "no-new-privileges"])
        .args(ULIMITS)
        .args(["-e", "ROUTEAGENT_LOG=info"])
        .args([
            "-v",
            &format!(
                "{}:/etc/routeagent/topology.yaml:ro",
                dir.join("topology.yaml").display()
            ),
            "-v",
            &format!("{}:/run/routeagent", dir.join("state").display()),
        ])
        .arg(image)
        .args(args)
        .output()
        .expect("podman run");
    (out, start.elapsed().as_secs_f64() * 1e3)
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
#[ignore = "needs root, network namespaces and podman"]
fn image_applies_and_uninstalls_with_net_admin_only_and_read_only_proc_sys() {
    let image = image();
    let ns = node_ns("ra-ctr");
    // Non-default originals, to prove they are restored, not reset.
    ns.sh("sysctl -qw net.ipv4.conf.cni0.rp_filter=1 net.ipv4.ip_forward=0")
        .unwrap();
    let before = snapshot(&ns);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::fs::write(
        dir.path().join("topology.yaml"),
        topology(&[("cluster-b", &["10.245.0.0/16", "10.97.0.0/16"])], "a1"),
    )
    .unwrap();

    // doctor in the same container: /proc/sys read-only, ip_forward and the fix.
    let (out, _) = run(&ns, &image, dir.path(), &["doctor", "--json"]);
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}: {}", text(&out)));
    assert_eq!(doctor["proc_sys"]["writable"], false, "{doctor:#}");
    assert_eq!(doctor["sysctls"]["net.ipv4.ip_forward"], "0");
    let conflicts = doctor["conflicts"].to_string();
    assert!(
        conflicts.contains("proc-sys-read-only") && conflicts.contains("set it on the node"),
        "{conflicts}"
    );

    let (out, ms) = run(
        &ns,
        &image,
        dir.path(),
        &[
            "apply",
            "--once",
            "--config",
            "/etc/routeagent/topology.yaml",
            "--node",
            "a1",
        ],
    );
    assert!(
        out.status.success(),
        "apply in the container: {}",
        text(&out)
    );
    let log = text(&out);
    eprintln!(
        "container apply: {ms:.0} ms wall (podman run --rm); agent: {}",
        log.lines().find(|l| l.starts_with("role:")).unwrap_or("?")
    );
    // The global key is left and reported: /proc/sys is read-only there.
    assert!(
        log.contains("net.ipv4.ip_forward is 0, want 1") && log.contains("read-only"),
        "{log}"
    );
    let tables = ns.sh("nft list tables").unwrap();
    assert!(tables.contains("table inet routeagent"), "{tables}\n{log}");
    let routes = ns.sh("ip route show table all proto 166").unwrap();
    for dst in ["10.245.0.0/16", "10.97.0.0/16"] {
        assert!(routes.contains(dst), "route {dst}: {routes}");
    }
    assert!(ns.sh("ip rule show").unwrap().contains("lookup 150"));
    let sysctls = ns
        .sh(
            "sysctl -n net.ipv4.conf.cni0.rp_filter net.ipv4.conf.vx-submariner.rp_filter \
             net.ipv4.conf.vx-submariner.forwarding net.ipv4.ip_forward",
        )
        .unwrap();
    assert_eq!(
        sysctls.split_whitespace().collect::<Vec<_>>(),
        ["2", "2", "1", "0"],
        "per-interface sysctls over rtnetlink; ip_forward left as it was"
    );
    let journal = std::fs::read_to_string(dir.path().join("state/sysctl-journal.json")).unwrap();
    assert!(
        journal.contains("\"net.ipv4.conf.cni0.rp_filter\": \"1\""),
        "{journal}"
    );

    let (out, _) = run(&ns, &image, dir.path(), &["uninstall"]);
    assert!(
        out.status.success(),
        "uninstall in the container: {}",
        text(&out)
    );
    assert_eq!(snapshot(&ns), before, "uninstall left traces");
    assert_eq!(
        ns.sh("sysctl -n net.ipv4.conf.cni0.rp_filter")
            .unwrap()
            .trim(),
        "1"
    );
    let left = Command::new("podman")
        .args(["ps", "-a", "--format", "{{.Names}}"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&left.stdout).contains("ra-test-"),
        "containers left: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}
