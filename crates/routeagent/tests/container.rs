//! The image from `scripts/image.sh` run by podman the way a pod of
//! deploy/daemonset.yaml runs it (`lab::container`, which translates the
//! manifest): in the node's network namespace, every capability dropped but
//! NET_ADMIN and NET_RAW, read-only root filesystem, no privilege
//! escalation, so /proc/sys is read-only. `apply --once` programs the namespace (nftables
//! table, routes, per-interface sysctls over rtnetlink) and `uninstall`
//! restores it exactly. Fails loudly when podman is missing
//! (`scripts/setup.sh` installs it).
mod support;
use netns::NetNs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use support::*;

/// What a container printed.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `podman run --rm` of `image` in `ns` as deploy/daemonset.yaml runs the
/// agent (`lab::container`: its security context, its hostPath volumes
/// under `dir/root`, so the state dir is `dir/root/run/routeagent`, and its
/// environment), with `dir` mounted read-only at /etc/routeagent/lab; the
/// output and wall time. The container is removed whatever happens.
fn run(ns: &NetNs, image: &str, dir: &Path, args: &[&str]) -> (Out, f64) {
    let root = dir.join("root");
    let run = lab::container::Run {
        image,
        prefix: "ra-test",
        node: "a1",
        ns: ns.name(),
        host_root: &root,
        config_dir: dir,
    };
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let start = Instant::now();
    let (code, stdout, stderr) = lab::container::run_once(&run, lab::container::AGENT, &args)
        .unwrap_or_else(|e| panic!("podman run: {e}"));
    (
        Out {
            code,
            stdout,
            stderr,
        },
        start.elapsed().as_secs_f64() * 1e3,
    )
}

fn text(o: &Out) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        o.code, o.stdout, o.stderr
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
    std::fs::write(
        dir.path().join("topology.yaml"),
        topology(&[("cluster-b", &["10.245.0.0/16", "10.97.0.0/16"])], "a1"),
    )
    .unwrap();

    // doctor in the same container: /proc/sys read-only, ip_forward and the fix.
    let (out, _) = run(&ns, &image, dir.path(), &["doctor", "--json"]);
    let doctor: serde_json::Value = serde_json::from_str(&out.stdout)
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
            "/etc/routeagent/lab/topology.yaml",
            "--node",
            "a1",
        ],
    );
    assert!(out.code == 0, "apply in the container: {}", text(&out));
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
    let journal =
        std::fs::read_to_string(dir.path().join("root/run/routeagent/sysctl-journal.json"))
            .unwrap();
    assert!(
        journal.contains("\"net.ipv4.conf.cni0.rp_filter\": \"1\""),
        "{journal}"
    );

    let (out, _) = run(&ns, &image, dir.path(), &["uninstall"]);
    assert!(out.code == 0, "uninstall in the container: {}", text(&out));
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
