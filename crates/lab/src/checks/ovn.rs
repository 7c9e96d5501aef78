//! `routeagent lab demo --cni ovn-kubernetes`: routeagent's objects carry
//! packets through a real OVN datapath ([`OvnChassis`]: ovn-northd,
//! ovn-controller, ovs-vswitchd with the userspace datapath, in
//! `PREFIX-ul`).
//!
//! One cluster on OVN-Kubernetes with two nodes, a1 (the gateway) and a2,
//! laid out as OVN-Kubernetes does: `ovn_cluster_router`, per node a
//! logical switch with the management port `k8s-NODE` (the node's
//! `ovn-k8s-mp0`, with `10.244.0.0/16 via <router IP> dev ovn-k8s-mp0`),
//! and a pod on a2 (`PREFIX-a2p`). The gateway's eth1 stands in for the
//! cable: a veth to `PREFIX-b1`, which holds 10.245.0.1 of cluster b's
//! 10.245.0.0/16.
//!
//! Before the agents run, the pod reaches a1's management port through
//! the router but not cluster b. With routeagent on both nodes, the pod's
//! packets follow the priority-20000 reroute policy to a1's mp0, leave a1
//! by table 150 over eth1, and the replies come back by table 149 into
//! OVN: ICMP and a 1 MiB checksummed TCP transfer succeed and cluster b
//! sees the pod's own address; a2's host network gets there too (table
//! 150 into its mp0, then the policy), and cluster b reaches the pod.
//! The gateway then moves to a2 (it has its own veth to `PREFIX-b1`): the
//! policy's next hop becomes a2's mp0 and the pod reaches cluster b again. After `routeagent uninstall` on
//! both, no routeagent row is left and cluster b is out of reach again.

use crate::agents::{self, Agent, AgentSpec};
use crate::ns::{self, sh};
use crate::ovn::OvnChassis;
use crate::{LabConfig, LabError, Result};
use serde::Serialize;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Instant;

const POD: Ipv4Addr = Ipv4Addr::new(10, 244, 1, 5);
const REMOTE: Ipv4Addr = Ipv4Addr::new(10, 245, 0, 1);
const GATEWAY_MP0: Ipv4Addr = Ipv4Addr::new(10, 244, 0, 2);

/// Cluster a on OVN-Kubernetes with the active gateway `gw` (a1 or a2,
/// whose cable addresses are 192.168.50.1 and 192.168.51.1), external
/// cable; cluster b remote.
fn topology(gw: usize) -> String {
    format!(
        "cluster:
  id: cluster-a
  clusterCIDRs: [10.244.0.0/16]
  serviceCIDRs: [10.96.0.0/16]
  cni: OVNKubernetes
  nodes:
    - {{name: a1, ip: 10.1.0.1}}
    - {{name: a2, ip: 10.1.0.2}}
  gateways:
    - {{hostname: a{gw}, privateIP: 10.1.0.{gw}, publicIP: 192.168.{}.1}}
remoteClusters:
  - id: cluster-b
    subnets: [10.245.0.0/16]
    gateway: {{hostname: b1, privateIP: 10.2.0.1, publicIP: 192.168.50.10}}
",
        49 + gw
    )
}

/// What the OVN demo saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OvnReport {
    /// Before the agents: the pod reached a1's mp0 through `ovn_cluster_router`.
    pub logical_routing: bool,
    /// Before the agents: neither the pod nor a2's host reached cluster b.
    pub blocked_before: bool,
    /// The reroute policy the gateway's agent wrote, as `ovn-nbctl
    /// lr-policy-list` shows it.
    pub policy: Option<String>,
    /// The pod pinged cluster b.
    pub pod_icmp: bool,
    /// The source address cluster b saw on the pod's 1 MiB TCP transfer
    /// (checksums equal).
    pub pod_tcp_source: Option<Ipv4Addr>,
    /// a2's host network pinged cluster b.
    pub host_network: bool,
    /// Cluster b pinged the pod (in by a1's table 149, the replies out by
    /// the reroute policy).
    pub remote_to_pod: bool,
    /// a1 sends the pod's packets out by table 150 and the replies into
    /// OVN by table 149; a2's host traffic enters OVN by table 150.
    pub kernel_path: bool,
    /// The gateway moved to a2: the policy's next hop became a2's mp0 and
    /// the pod reached cluster b through a2, in this many ms from the
    /// topology change.
    pub failover_ms: Option<u64>,
    /// After uninstall: no routeagent row in the northbound database, and
    /// cluster b out of reach again while the pod still reaches a1's mp0.
    pub blocked_after: bool,
    /// Namespaces and the OVN datapath built, every logical port up (ms).
    pub build_ms: Option<u64>,
    /// Agents started to both converged with the northbound side (ms).
    pub converge_ms: Option<u64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl OvnReport {
    /// Every step held and nothing failed.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.logical_routing
            && self.blocked_before
            && self.policy.is_some()
            && self.pod_icmp
            && self.pod_tcp_source == Some(POD)
            && self.host_network
            && self.remote_to_pod
            && self.kernel_path
            && self.failover_ms.is_some()
            && self.blocked_after
    }
}

impl std::fmt::Display for OvnReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.passed() { "PASS" } else { "FAIL" };
        writeln!(f, "OVN datapath: {verdict}")?;
        writeln!(
            f,
            "  logical routing (pod -> a1 mp0): {}",
            self.logical_routing
        )?;
        writeln!(
            f,
            "  cluster b blocked before agents: {}",
            self.blocked_before
        )?;
        writeln!(f, "  reroute policy:                  {:?}", self.policy)?;
        writeln!(f, "  pod ICMP to cluster b:           {}", self.pod_icmp)?;
        writeln!(
            f,
            "  pod TCP source seen by b:        {:?}",
            self.pod_tcp_source
        )?;
        writeln!(
            f,
            "  a2 host network to cluster b:    {}",
            self.host_network
        )?;
        writeln!(
            f,
            "  cluster b to the pod:            {}",
            self.remote_to_pod
        )?;
        writeln!(f, "  tables 150/149 on the path:      {}", self.kernel_path)?;
        writeln!(
            f,
            "  gateway moved to a2 (ms):        {:?}\n  blocked again after uninstall:   {}",
            self.failover_ms, self.blocked_after
        )?;
        writeln!(
            f,
            "  build_ms: {:?}  converge_ms: {:?}",
            self.build_ms, self.converge_ms
        )?;
        if let Some(e) = &self.error {
            writeln!(f, "  error: {e}")?;
        }
        Ok(())
    }
}

/// The demo's namespaces, chassis and agents; torn down on drop.
struct OvnLab {
    config: LabConfig,
    chassis: Option<OvnChassis>,
    agents: Vec<Agent>,
}

impl OvnLab {
    fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.config.prefix)
    }
}

impl Drop for OvnLab {
    fn drop(&mut self) {
        for a in &mut self.agents {
            agents::stop(a);
        }
        drop(self.chassis.take());
        if let Err(e) = crate::down_prefix(&self.config.prefix, &self.config.work_dir) {
            eprintln!(
                "warning: lab {} teardown: {}",
                self.config.prefix,
                errchain::Chain(&e)
            );
        }
    }
}

/// The whole OVN demo in its own lab (removed at the end).
pub fn demo(config: LabConfig) -> OvnReport {
    let mut r = OvnReport::default();
    let mut lab = OvnLab {
        config,
        chassis: None,
        agents: Vec::new(),
    };
    if let Err(e) = steps(&mut lab, &mut r) {
        r.error = Some(errchain::Chain(&e).to_string());
    }
    r
}

fn steps(lab: &mut OvnLab, r: &mut OvnReport) -> Result<()> {
    let t = Instant::now();
    build(lab)?;
    r.build_ms = Some(t.elapsed().as_millis() as u64);
    let (pod, a1, a2) = (lab.ns("a2p"), lab.ns("a1"), lab.ns("a2"));
    let chassis = lab.chassis.as_ref().expect("built");
    wait_ping(chassis, &pod, GATEWAY_MP0)?;
    r.logical_routing = true;
    chassis.sync()?;
    r.blocked_before = blocked(&pod)? && blocked(&a2)?;

    let t = Instant::now();
    start_agents(lab)?;
    let chassis = lab.chassis.as_ref().expect("built");
    let port = lab.config.listen_port;
    chassis.wait("the gateway's northbound objects", || {
        agents::status(&a1, port).is_ok_and(|s| s["ovn"]["state"] == "converged")
    })?;
    r.converge_ms = Some(t.elapsed().as_millis() as u64);
    let policies = chassis.nbctl(&["lr-policy-list", "ovn_cluster_router"])?;
    r.policy = policies
        .lines()
        .find(|l| l.contains("20000") && l.contains("10.245.0.0/16"))
        .filter(|l| l.contains("reroute") && l.contains(&GATEWAY_MP0.to_string()))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "));
    chassis.sync()?;

    wait_ping(chassis, &pod, REMOTE)?;
    r.pod_icmp = true;
    let b1 = lab.ns("b1");
    let t = crate::traffic::tcp_transfer(&pod, &b1, REMOTE, 1 << 20, crate::ovn::DEADLINE)?;
    if t.sent_sha256 == t.received_sha256 {
        r.pod_tcp_source = match t.peer.ip() {
            std::net::IpAddr::V4(ip) => Some(ip),
            std::net::IpAddr::V6(_) => None,
        };
    }
    wait_ping(chassis, &a2, REMOTE)?;
    r.host_network = true;
    wait_ping(chassis, &b1, POD)?;
    r.remote_to_pod = true;
    let get = |ns: &str, args: &str| sh(ns, &format!("ip route get {args}"));
    r.kernel_path = get(&a1, &format!("{REMOTE} from {POD} iif ovn-k8s-mp0"))?
        .contains("dev eth1 table 150")
        && get(&a1, &format!("{POD} from {REMOTE} iif eth1"))?
            .contains("via 10.244.0.1 dev ovn-k8s-mp0 table 149")
        && get(&a2, &REMOTE.to_string())?.contains("via 10.244.1.1 dev ovn-k8s-mp0 table 150");

    // The gateway moves to a2 (and cluster b's side of the cable with it).
    let t = Instant::now();
    sh(
        &b1,
        &format!("ip route replace 10.244.0.0/16 via 192.168.51.1 src {REMOTE}"),
    )?;
    write_topology(lab, 2)?;
    let chassis = lab.chassis.as_ref().expect("built");
    chassis.wait("the reroute policy's next hop to become a2's mp0", || {
        chassis
            .nbctl(&["lr-policy-list", "ovn_cluster_router"])
            .is_ok_and(|p| p.contains("10.244.1.2") && !p.contains(&GATEWAY_MP0.to_string()))
    })?;
    wait_ping(chassis, &pod, REMOTE)?;
    r.failover_ms = Some(t.elapsed().as_millis() as u64);
    wait_ping(chassis, &b1, POD)?;

    uninstall(lab)?;
    let chassis = lab.chassis.as_ref().expect("built");
    let left = chassis.nbctl(&["lr-policy-list", "ovn_cluster_router"])?
        + &chassis.nbctl(&["lr-route-list", "ovn_cluster_router"])?;
    chassis.sync()?;
    wait_ping(chassis, &pod, GATEWAY_MP0)?;
    r.blocked_after = !left.contains("10.245.0.0/16") && blocked(&pod)? && blocked(&a2)?;
    Ok(())
}

/// Namespaces `PREFIX-ul` (the chassis), `-a1`, `-a2`, `-a2p` (a pod on
/// a2) and `-b1` (cluster b), the logical topology and the wires; returns
/// once every logical switch port is up.
fn build(lab: &mut OvnLab) -> Result<()> {
    let c = &lab.config;
    c.validate()?;
    crate::down_prefix(&c.prefix, &c.work_dir)?;
    std::fs::create_dir_all(&c.work_dir).map_err(|source| LabError::File {
        verb: "create",
        path: c.work_dir.clone(),
        source,
    })?;
    let marker = c.work_dir.join(crate::lab::MARKER);
    std::fs::write(&marker, &c.prefix).map_err(|source| LabError::File {
        verb: "write",
        path: marker,
        source,
    })?;
    let [ul, a1, a2, pod, b1] = ["ul", "a1", "a2", "a2p", "b1"].map(|n| lab.ns(n));
    for n in [&ul, &a1, &a2, &pod, &b1] {
        ns::create(n)?;
    }
    let chassis = lab
        .chassis
        .insert(OvnChassis::start(&ul, &c.work_dir.join("ovn"))?);
    chassis.node_switch("a1", "10.244.0.1/24")?;
    chassis.node_switch("a2", "10.244.1.1/24")?;
    chassis.attach(&a1, "ovn-k8s-mp0", "a1", "k8s-a1", "10.244.0.2/24")?;
    chassis.attach(&a2, "ovn-k8s-mp0", "a2", "k8s-a2", "10.244.1.2/24")?;
    chassis.attach(&pod, "eth0", "a2", "pod-a2", "10.244.1.5/24")?;
    sh(
        &a1,
        &format!(
            "set -e
             ip link add eth0 type veth peer name eth0 netns {a2}
             ip addr add 10.1.0.1/24 dev eth0 && ip link set eth0 up
             ip link add eth1 type veth peer name eth1 netns {b1}
             ip addr add 192.168.50.1/24 dev eth1 && ip link set eth1 up
             ip route add 10.244.0.0/16 via 10.244.0.1 dev ovn-k8s-mp0
             sysctl -qw net.ipv4.ip_forward=1"
        ),
    )?;
    sh(
        &a2,
        &format!(
            "set -e
             ip addr add 10.1.0.2/24 dev eth0 && ip link set eth0 up
             ip link add eth1 type veth peer name eth2 netns {b1}
             ip addr add 192.168.51.1/24 dev eth1 && ip link set eth1 up
             ip route add 10.244.0.0/16 via 10.244.1.1 dev ovn-k8s-mp0
             sysctl -qw net.ipv4.ip_forward=1"
        ),
    )?;
    sh(&pod, "ip route add default via 10.244.1.1")?;
    sh(
        &b1,
        &format!(
            "set -e
             ip addr add 192.168.50.10/24 dev eth1 && ip link set eth1 up
             ip addr add 192.168.51.10/24 dev eth2 && ip link set eth2 up
             ip addr add {REMOTE}/32 dev lo
             ip route add 10.244.0.0/16 via 192.168.50.1 src {REMOTE}"
        ),
    )?;
    for port in ["k8s-a1", "k8s-a2", "pod-a2"] {
        chassis.wait_up(port)?;
    }
    Ok(())
}

/// `routeagent run` on a1 and a2 with `OVN_NB_DB` the chassis's database;
/// returns once both report converged on the topology file.
fn start_agents(lab: &mut OvnLab) -> Result<()> {
    let topo = write_topology(lab, 1)?;
    let nb = lab.chassis.as_ref().expect("built").nb_db();
    let env = [("OVN_NB_DB", nb)];
    for node in ["a1", "a2"] {
        let ns = lab.ns(node);
        let agent = agents::spawn(&AgentSpec {
            binary: &lab.config.agent_binary,
            node,
            ns: &ns,
            config: &topo,
            state_dir: &lab.config.work_dir.join("state").join(node),
            log: &lab.config.work_dir.join(format!("{node}.log")),
            port: lab.config.listen_port,
            extra: &[],
            env: &env,
            container: None,
        })?;
        lab.agents.push(agent);
    }
    converged(lab, 1)
}

/// Writes the topology file with gateway a`gw`; its path.
fn write_topology(lab: &OvnLab, gw: usize) -> Result<std::path::PathBuf> {
    let topo = lab.config.work_dir.join("cluster-a.yaml");
    std::fs::write(&topo, topology(gw)).map_err(|source| LabError::File {
        verb: "write",
        path: topo.clone(),
        source,
    })?;
    Ok(topo)
}

/// Waits until both agents report converged on the topology with gateway a`gw`.
fn converged(lab: &mut OvnLab, gw: usize) -> Result<()> {
    let digest = crate::plan::digest(topology(gw).as_bytes());
    let mut waiting: Vec<(&mut Agent, String)> =
        lab.agents.iter_mut().map(|a| (a, digest.clone())).collect();
    agents::wait_converged(
        &mut waiting,
        lab.config.listen_port,
        lab.config.converge_timeout,
    )
}

/// Stops both agents and runs `routeagent uninstall --network-plugin
/// OVNKubernetes` on each node, with `OVN_NB_DB`.
fn uninstall(lab: &mut OvnLab) -> Result<()> {
    for a in &mut lab.agents {
        agents::stop(a);
    }
    lab.agents.clear();
    let nb = lab.chassis.as_ref().expect("built").nb_db();
    for node in ["a1", "a2"] {
        let ns = lab.ns(node);
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns])
            .arg(&lab.config.agent_binary)
            .args([
                "uninstall",
                "--network-plugin",
                "OVNKubernetes",
                "--state-dir",
            ])
            .arg(lab.config.work_dir.join("state").join(node))
            .env("OVN_NB_DB", &nb);
        ns::output(&ns, &mut c, None)?;
    }
    Ok(())
}

/// Pings `dst` from `ns` until one answers, within the chassis deadline.
fn wait_ping(chassis: &OvnChassis, ns: &str, dst: Ipv4Addr) -> Result<()> {
    let dst_s = dst.to_string();
    chassis
        .wait(&format!("{ns} reaching {dst}"), || {
            ns::exec(ns, "ping", &["-n", "-q", "-c1", "-W1", &dst_s]).is_ok()
        })
        .map_err(|e| LabError::Traffic {
            from: ns.into(),
            to: dst_s.clone(),
            detail: errchain::Chain(&e).to_string(),
        })
}

/// Three pings from `ns` to cluster b, none answered.
fn blocked(ns: &str) -> Result<bool> {
    let dst = REMOTE.to_string();
    let (_, out, err) = ns::exec_any(ns, "ping", &["-n", "-c3", "-i0.2", "-W1", &dst])?;
    Ok(out.contains(" 0 received") || err.contains("unreachable"))
}
