//! Command-line interface (clap derive). Every flag can also come from the
//! environment; Submariner's variable names are used where one exists.

use capabilities::{Feature, PacketFilterRequest};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// routeagent: a route agent for multi-cluster Kubernetes networking.
#[derive(Debug, Parser)]
#[command(name = "routeagent", version, about, propagate_version = true)]
pub struct Cli {
    /// Log filter (tracing EnvFilter syntax); `info` becomes `debug` when
    /// SUBMARINER_DEBUG is true.
    #[arg(long, global = true, env = "ROUTEAGENT_LOG", default_value = "info")]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The log filter: `--log`, raised from `info` to `debug` when
    /// `SUBMARINER_DEBUG` is true (Go's ParseBool, as the operator writes
    /// it). Any other `--log` is kept as given.
    pub fn log_filter(&self) -> String {
        let debug = std::env::var("SUBMARINER_DEBUG")
            .ok()
            .and_then(|v| kube_source::config::go_bool(v.trim()).ok())
            .unwrap_or(false);
        log_filter(&self.log, debug)
    }
}

/// `log`, or `debug` in its place when `debug` is set and `log` is `info`.
fn log_filter(log: &str, debug: bool) -> String {
    if debug && log.trim() == "info" {
        "debug".into()
    } else {
        log.to_string()
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent (level-triggered reconcile loop, /healthz /readyz /status /metrics).
    Run(RunArgs),
    /// Print the plan for a node: nft ruleset and the equivalent ip commands. Needs no privileges.
    Plan(PlanArgs),
    /// Converge the host once and exit (0 converged, 1 not).
    Apply(ApplyArgs),
    /// Remove everything the agent owns (any version) and restore changed sysctls.
    Uninstall(UninstallArgs),
    /// Report the host's capabilities, the chosen backend and every degradation.
    Doctor(DoctorArgs),
    /// Wait until this node's Node object exists in the API, then exit 0
    /// (Submariner's init container, `submariner-route-agent.sh` with
    /// SUBMARINER_WAITFORNODE=true).
    WaitForNode(WaitForNodeArgs),
    /// The multi-cluster lab in network namespaces.
    Lab(LabArgs),
    /// Benchmarks.
    Bench(BenchArgs),
}

/// Flags about the host's packet filter, shared by run, apply, plan and doctor.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Packet-filter backend: auto (nftables, else the host's iptables), nftables, iptables.
    #[arg(long, env = "ROUTEAGENT_PACKET_FILTER", default_value = "auto")]
    pub packet_filter: PacketFilterRequest,
    /// Behave as if the kernel lacked FEATURE (repeatable; env: comma-separated).
    #[arg(long = "assume-missing", env = "ROUTEAGENT_ASSUME_MISSING", value_delimiter = ',', value_parser = parse_feature)]
    pub assume_missing: Vec<Feature>,
}

fn parse_feature(s: &str) -> Result<Feature, String> {
    s.trim().parse()
}

/// Where the topology comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceKind {
    /// The topology file (--config).
    File,
    /// Submariner's resources through the Kubernetes API.
    Kubernetes,
}

/// `routeagent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Topology file (YAML, docs/TOPOLOGY.md).
    #[arg(long, env = "ROUTEAGENT_CONFIG", required_if_eq("source", "file"))]
    pub config: Option<PathBuf>,
    /// This node's name.
    #[arg(long, env = "NODE_NAME")]
    pub node: String,
    /// Topology source.
    #[arg(long, env = "ROUTEAGENT_SOURCE", value_enum, default_value = "file")]
    pub source: SourceKind,
    /// Address for /healthz, /readyz, /status and /metrics.
    #[arg(long, env = "ROUTEAGENT_LISTEN", default_value = "127.0.0.1:9180")]
    pub listen: SocketAddr,
    /// Directory for state that must outlive the process (original sysctl values).
    #[arg(long, env = "ROUTEAGENT_STATE_DIR", default_value = "/run/routeagent")]
    pub state_dir: PathBuf,
    /// Periodic resync, in seconds (overrides the topology's resyncPeriodSeconds).
    #[arg(long, env = "ROUTEAGENT_RESYNC_SECONDS")]
    pub resync_seconds: Option<u64>,
    /// Remove everything and exit (Submariner's uninstall mode).
    #[arg(long, env = "SUBMARINER_UNINSTALL", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub uninstall: bool,
    /// Leave Submariner's Go route agent's leftovers in place and only report them (and what they conflict with).
    #[arg(long, env = "ROUTEAGENT_NO_TAKEOVER", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub no_takeover: bool,
    /// Packet-filter flags.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `routeagent plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Topology file.
    #[arg(long, env = "ROUTEAGENT_CONFIG")]
    pub config: PathBuf,
    /// The node to plan for.
    #[arg(long, env = "NODE_NAME")]
    pub node: String,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Packet-filter flags (plan assumes a host that supports everything, minus these).
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `routeagent apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Converge once and exit (the only mode; `run` loops).
    #[arg(long, required = true)]
    pub once: bool,
    /// Topology file.
    #[arg(long, env = "ROUTEAGENT_CONFIG")]
    pub config: PathBuf,
    /// This node's name.
    #[arg(long, env = "NODE_NAME")]
    pub node: String,
    /// State directory (original sysctl values).
    #[arg(long, env = "ROUTEAGENT_STATE_DIR", default_value = "/run/routeagent")]
    pub state_dir: PathBuf,
    /// Leave Submariner's Go route agent's leftovers in place and only report them.
    #[arg(long, env = "ROUTEAGENT_NO_TAKEOVER", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub no_takeover: bool,
    /// Packet-filter flags.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `routeagent uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// State directory holding the original sysctl values to restore.
    #[arg(long, env = "ROUTEAGENT_STATE_DIR", default_value = "/run/routeagent")]
    pub state_dir: PathBuf,
    /// The cluster's network plugin (Submariner's names): with
    /// OVNKubernetes, routeagent's northbound rows are removed too (the
    /// database found through OVN_NB_DB, as `run` finds it).
    #[arg(long, env = "SUBMARINER_NETWORKPLUGIN")]
    pub network_plugin: Option<String>,
}

/// `routeagent doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// One JSON object (schema: docs/DOCTOR.md).
    #[arg(long)]
    pub json: bool,
    /// The cluster's network plugin (Submariner's names); checked for a
    /// datapath this agent programs. Default: the topology's `cluster.cni`
    /// with --config, else `generic`.
    #[arg(long, env = "SUBMARINER_NETWORKPLUGIN")]
    pub network_plugin: Option<String>,
    /// Topology file whose `cluster.cni` is checked.
    #[arg(long, env = "ROUTEAGENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// With `kubernetes` the OVN northbound database is found as `run
    /// --source kubernetes` finds it (discovery and certificates through
    /// the API).
    #[arg(long, env = "ROUTEAGENT_SOURCE", value_enum, default_value = "file")]
    pub source: SourceKind,
    /// This node (OVN discovery reads its zone), with --source kubernetes.
    #[arg(long, env = "NODE_NAME")]
    pub node: Option<String>,
    /// Packet-filter flags.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `routeagent wait-for-node`.
#[derive(Debug, Args)]
pub struct WaitForNodeArgs {
    /// The node (the pod's spec.nodeName).
    #[arg(long, env = "NODE_NAME")]
    pub node: String,
    /// Milliseconds between two reads of the Node.
    #[arg(long, default_value_t = 1000)]
    pub every_ms: u64,
}

/// `routeagent lab`.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// up, down, status or demo.
    #[arg(value_enum)]
    pub action: LabAction,
    /// Clusters.
    #[arg(long, default_value_t = 2)]
    pub clusters: usize,
    /// Nodes per cluster.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Namespace name prefix.
    #[arg(long, default_value = "ralab")]
    pub prefix: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Who makes the inter-cluster cable: routeagent (vxlan), the lab playing
    /// Submariner's WireGuard gateway engine (wireguard), or routeagent in
    /// cluster a and a Submariner-like VXLAN cable elsewhere (mixed).
    #[arg(long, value_enum, default_value_t = LabCable::Vxlan)]
    pub cable: LabCable,
    /// The lab plays Globalnet: egress SNAT to a global IP on each active
    /// gateway, global CIDRs routed.
    #[arg(long)]
    pub globalnet: bool,
    /// demo: instead of the usual checks, the takeover from Submariner's Go route agent (own lab).
    #[arg(long)]
    pub takeover: bool,
    /// The cluster's datapath: the kube-proxy path (the main lab), or
    /// ovn-kubernetes: `demo` builds one cluster on a real OVN datapath
    /// (ovn-northd, ovn-controller, userspace ovs-vswitchd) and checks that
    /// pod traffic follows routeagent's reroute policy (own lab).
    #[arg(long, value_enum, default_value_t = LabCni::KubeProxy)]
    pub cni: LabCni,
    /// How each node's agent runs: this binary in the node's namespace
    /// (process), or the image run by podman there with deploy/daemonset.yaml's
    /// security context, mounts and environment (container).
    #[arg(long, value_enum, default_value_t = LabAgents::Process)]
    pub agents: LabAgents,
    /// The image `--agents container` runs (`bash scripts/image.sh` builds it).
    #[arg(
        long,
        env = "ROUTEAGENT_IMAGE",
        default_value = "localhost/routeagent:dev"
    )]
    pub image: String,
}

/// `routeagent lab --agents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabAgents {
    /// `ip netns exec NODE routeagent run ...`.
    Process,
    /// `podman run --network ns:/run/netns/NODE ... IMAGE run ...`.
    Container,
}

/// `routeagent lab --cni`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabCni {
    /// Nodes with a CNI bridge, kube-proxy path (vx-submariner, table 150).
    KubeProxy,
    /// OVN-Kubernetes on a real OVN datapath (`demo` only).
    OvnKubernetes,
}

/// `routeagent lab --cable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabCable {
    /// routeagent's own VXLAN cable (`cable: vxlan`).
    Vxlan,
    /// userspace WireGuard made by the lab; routeagent's cable is external.
    Wireguard,
    /// cluster a: routeagent's VXLAN cable; others: a Submariner-like VXLAN cable.
    Mixed,
}

/// Lab actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LabAction {
    /// Build the lab and start the agents.
    Up,
    /// Remove everything the lab made.
    Down,
    /// Show namespaces and agents.
    Status,
    /// Up, the checks, down.
    Demo,
}

/// `routeagent bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub what: BenchWhat,
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Packet-filter programming: routeagent vs nft -f vs per-entry nft vs iptables-restore.
    Filter {
        /// CIDRs in the set.
        #[arg(long, default_value_t = 10_000)]
        cidrs: usize,
        /// Runs (medians are reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Agent convergence with N remote clusters of 4 CIDRs each.
    Reconcile {
        /// Remote clusters.
        #[arg(long, default_value_t = 1000)]
        remote_clusters: usize,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Gateway failover in a 2 x 3 lab: N moves, each timed from the topology change to the first cross-cluster TCP connection.
    Failover {
        /// Gateway moves.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Namespace name prefix of the lab.
        #[arg(long, default_value = "rabfo")]
        prefix: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// iperf3 pod to pod across clusters in a 2 x 3 lab: N interleaved pairs with and without the agents' packet-filter rules.
    Throughput {
        /// Pairs of runs.
        #[arg(long, default_value_t = 10)]
        pairs: usize,
        /// Seconds per iperf3 run.
        #[arg(long, default_value_t = 3)]
        secs: u32,
        /// Namespace name prefix of the lab.
        #[arg(long, default_value = "rabtp")]
        prefix: String,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn submariner_debug_raises_only_the_default_level() {
        assert_eq!(super::log_filter("info", true), "debug");
        assert_eq!(super::log_filter("info", false), "info");
        assert_eq!(
            super::log_filter("warn,hostnet=trace", true),
            "warn,hostnet=trace"
        );
    }
}
