//! Shared helpers for the binary's namespace tests.
#![allow(dead_code, missing_docs)]

pub mod go_agent;

use netns::NetNs;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
pub use topology::digest;

pub const BIN: &str = env!("CARGO_BIN_EXE_routeagent");
pub const PORT: u16 = 9181;

/// A node namespace: uplink eth0 10.1.0.1/24, CNI bridge cni0 10.244.1.1/24,
/// underlay eth1 192.168.50.1/24. IPv6 duplicate address detection is off
/// in it (also for links made later, such as the agent's), so a link-local
/// address (and its local route) is final when its link comes up: snapshots
/// compared across seconds do not see the kernel finish DAD in between.
pub fn node_ns(prefix: &str) -> NetNs {
    netns::require_root();
    let ns = NetNs::new(prefix).expect("namespace");
    ns.sh("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
           && ip link add eth0 type veth peer name eth0p && ip link set eth0 mtu 1500 && ip addr add 10.1.0.1/24 dev eth0 \
           && ip link set eth0 up && ip link set eth0p up \
           && ip link add cni0 type bridge && ip addr add 10.244.1.1/24 dev cni0 && ip link set cni0 up \
           && ip link add eth1 type veth peer name eth1p && ip addr add 192.168.50.1/24 dev eth1 && ip link set eth1 up && ip link set eth1p up")
        .expect("node plumbing");
    ns
}

/// The node without `cni0`, with `ovn-k8s-mp0` (a veth) holding
/// 10.244.1.2/24 and `10.244.0.0/16 via 10.244.1.1`, as OVN-Kubernetes
/// sets them. IPv6 is off on the port, so that flushing its addresses
/// (below) leaves no link-local address to come back later and differ in
/// the final snapshot.
pub fn ovn_node() -> NetNs {
    let ns = node_ns("ra-agent-ovn");
    ns.sh("set -e
           ip link del cni0
           ip link add ovn-k8s-mp0 type veth peer name mp0-peer
           sysctl -qw net.ipv6.conf.ovn-k8s-mp0.disable_ipv6=1
           ip link set mp0-peer up
           ip addr add 10.244.1.2/24 dev ovn-k8s-mp0
           ip link set ovn-k8s-mp0 up
           ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0")
        .expect("mp0 setup");
    ns
}

/// Cluster a's topology with the agent's own VXLAN cable (`cable: vxlan`),
/// gateway `gateway`, and the remote clusters `remotes` (id, subnets).
pub fn topology(remotes: &[(&str, &[&str])], gateway: &str) -> String {
    let mut s = format!(
        "cluster:\n  id: cluster-a\n  clusterCIDRs: [10.244.0.0/16]\n  serviceCIDRs: [10.96.0.0/16]\n  cable: vxlan\n  nodes:\n    - {{name: a1, ip: 10.1.0.1}}\n    - {{name: a2, ip: 10.1.0.2}}\n    - {{name: a3, ip: 10.1.0.3}}\n  gateways:\n    - {{hostname: {gateway}, privateIP: 10.1.0.{}, publicIP: 192.168.50.{}}}\n",
        &gateway[1..],
        &gateway[1..]
    );
    if !remotes.is_empty() {
        s.push_str("remoteClusters:\n");
        for (i, (id, cidrs)) in remotes.iter().enumerate() {
            s.push_str(&format!("  - id: {id}\n    subnets: [{}]\n    gateway: {{hostname: {id}-gw, privateIP: 10.{}.0.1, publicIP: 192.168.50.{}}}\n", cidrs.join(", "), i + 2, 10 + i));
        }
    }
    s
}

pub struct Agent {
    pub child: Child,
    pub dir: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `routeagent run --source kubernetes` as node a1 of cluster-a
/// (10.244.0.0/16, 10.96.0.0/16) in namespace `submariner_ns`, with the API
/// server `kubeconfig` names, health checks off, plus `env`; logs to
/// `state`.log.
pub fn start_kube(
    ns: &NetNs,
    kubeconfig: &Path,
    submariner_ns: &str,
    state: &Path,
    env: &[(&str, &str)],
) -> Agent {
    let log_file = std::fs::File::create(state.with_extension("log")).unwrap();
    let child = ns
        .cmd(BIN)
        .args(["run", "--source", "kubernetes", "--node", "a1"])
        .args(["--listen", &format!("127.0.0.1:{PORT}"), "--state-dir"])
        .arg(state)
        .env("KUBECONFIG", kubeconfig)
        .env("NODE_NAME", "a1")
        .env("SUBMARINER_NAMESPACE", submariner_ns)
        .env("SUBMARINER_CLUSTERID", "cluster-a")
        .env("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16")
        .env("SUBMARINER_SERVICECIDR", "10.96.0.0/16")
        .env("SUBMARINER_HEALTHCHECKENABLED", "false")
        .env("ROUTEAGENT_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log_file)
        .spawn()
        .expect("spawn routeagent");
    Agent {
        child,
        dir: state.to_path_buf(),
    }
}

pub fn start(ns: &NetNs, config: &Path, node: &str, state: &Path, extra: &[&str]) -> Agent {
    start_env(ns, config, node, state, extra, &[])
}

/// [`start`] with extra environment variables.
pub fn start_env(
    ns: &NetNs,
    config: &Path,
    node: &str,
    state: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Agent {
    let log = std::fs::File::create(state.with_extension("log")).unwrap();
    let child = ns
        .cmd(BIN)
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--node",
            node,
            "--listen",
            &format!("127.0.0.1:{PORT}"),
            "--state-dir",
            state.to_str().unwrap(),
        ])
        .args(extra)
        .envs(env.iter().copied())
        .env("ROUTEAGENT_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn routeagent");
    Agent {
        child,
        dir: state.to_path_buf(),
    }
}

/// The agent's `/status` on [`PORT`], or `None` while it does not answer.
pub fn status(ns: &NetNs) -> Option<Value> {
    bench::status::get(ns, PORT).ok()
}

/// Waits until the agent reports converged on the file's current bytes.
pub fn wait_converged(ns: &NetNs, config: &Path, agent: &mut Agent) -> Value {
    let want = digest(&std::fs::read(config).unwrap());
    let start = Instant::now();
    loop {
        if let Some(s) = status(ns) {
            if s["converged"] == true && s["config_digest"] == want.as_str() {
                return s;
            }
        }
        if let Ok(Some(code)) = agent.child.try_wait() {
            panic!("routeagent exited with {code}; log: {}", log(agent));
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not converged: {:?}\nlog: {}",
            status(ns),
            log(agent)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn log(agent: &Agent) -> String {
    std::fs::read_to_string(agent.dir.with_extension("log")).unwrap_or_default()
}

/// Polls `f` until true; returns how long it took.
pub fn until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// Everything observable about the namespace's networking, as text.
pub fn snapshot(ns: &NetNs) -> String {
    ns.sh("ip -d -j link show | sed 's/\"ifindex\":[0-9]*//g'; echo; ip -j addr show | sed 's/\"valid_life_time\":[0-9]*//g; s/\"preferred_life_time\":[0-9]*//g'; echo; \
           ip -j route show table all; echo; ip -j -6 route show table all; echo; ip -j rule show; echo; ip -j -6 rule show; echo; \
           bridge -j fdb show | grep -v 33:33 ; echo; nft -s list ruleset; \
           for k in net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.cni0.rp_filter net.ipv4.conf.eth0.rp_filter; do sysctl -n $k; done")
        .unwrap()
        .replace("\"operstate\":\"UNKNOWN\"", "\"operstate\":\"UP\"")
        .replace("\"tentative\":true,", "")
        .split(',')
        .filter(|f| !f.contains("_timer\""))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn nft(ns: &NetNs, args: &str) -> String {
    ns.sh(&format!("nft {args}"))
        .unwrap_or_else(|e| format!("<error: {e}>"))
}

pub const KUBE_PROXY: &str = "table ip kube-proxy-like {\n\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade\n\t}\n}\n";

/// Builds (or reuses) the image holding this test's binary with
/// `scripts/image.sh` (once per test binary: its tests run in parallel);
/// its name. Panics when podman is missing.
pub fn image() -> String {
    static IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    IMAGE.get_or_init(build_image).clone()
}

fn build_image() -> String {
    use std::process::Command;
    let podman = Command::new("podman").arg("--version").output();
    assert!(
        podman.as_ref().is_ok_and(|o| o.status.success()),
        "podman is missing ({podman:?}): run scripts/setup.sh (apt-get install podman runc debootstrap)"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/image.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("ROUTEAGENT_BINARY", BIN)
        .output()
        .expect("bash scripts/image.sh");
    assert!(
        out.status.success(),
        "scripts/image.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .last()
        .expect("image name")
        .trim()
        .to_string()
}

/// The `table inet routeagent` part of `routeagent plan --config CONFIG
/// --node a1` (what `nft list table inet routeagent` must print).
pub fn planned_table(ns: &NetNs, config: &Path) -> String {
    ns.sh(&format!(
        "{BIN} plan --config {} --node a1 | sed -n '/^table inet routeagent {{/,$p'",
        config.display()
    ))
    .unwrap()
}
