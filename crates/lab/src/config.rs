//! [`LabConfig`]: how big the lab is, what it is called, which agent it runs.

use crate::{LabError, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What to build. [`Default`] is 2 clusters x 3 nodes named `ralab-*`,
/// running the current executable as the agent.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// Number of clusters (1..=9; letters a, b, c ...).
    pub clusters: usize,
    /// Nodes per cluster (1..=50); node 1 is the first gateway, node 2 the
    /// failover candidate (both get an underlay link).
    pub nodes: usize,
    /// Prefix of every namespace (`PREFIX-a1`, `PREFIX-a1p`, `PREFIX-abr`,
    /// `PREFIX-ul`); must be unique on the machine.
    pub prefix: String,
    /// The `routeagent` binary started inside every node namespace.
    pub agent_binary: PathBuf,
    /// Where topology files, state dirs and agent logs go (removed by `down`).
    pub work_dir: PathBuf,
    /// Extra `routeagent run` arguments per node name (`a1` ...), e.g.
    /// `["--assume-missing", "comments"]`.
    pub extra_agent_args: BTreeMap<String, Vec<String>>,
    /// TCP port every agent listens on (on its namespace's 127.0.0.1).
    pub listen_port: u16,
    /// How long to wait for agents to converge.
    pub converge_timeout: Duration,
    /// Who makes the inter-cluster cable.
    pub cable: Cable,
    /// Whether the lab plays Globalnet (egress SNAT to a global IP on each
    /// active gateway, global CIDRs routed).
    pub globalnet: bool,
    /// How the agents run: processes, or containers of [`LabConfig::image`].
    pub agents: AgentMode,
    /// The image `--agents container` runs (`bash scripts/image.sh` builds
    /// it and prints its name).
    pub image: String,
}

/// How the lab runs its agents (`routeagent lab demo --agents`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentMode {
    /// `ip netns exec NS routeagent run ...` with the lab's binary.
    #[default]
    Process,
    /// The image run by podman in the node's namespace with the security
    /// context, mounts and environment of deploy/daemonset.yaml
    /// ([`crate::container`]).
    Container,
}

impl AgentMode {
    /// `process` or `container`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentMode::Process => "process",
            AgentMode::Container => "container",
        }
    }
}

/// Who makes the inter-cluster cable (`routeagent lab demo --cable`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cable {
    /// routeagent's own VXLAN cable in every cluster (`cable: vxlan`).
    #[default]
    Vxlan,
    /// The lab plays Submariner's gateway engine with a userspace
    /// WireGuard cable (`wireguard-go`, link `submariner`); routeagent
    /// runs with an external cable.
    Wireguard,
    /// Cluster a: routeagent's VXLAN cable; every other cluster: a VXLAN
    /// cable the lab lays out as Submariner's VXLAN cable driver does.
    Mixed,
}

impl Cable {
    /// `vxlan`, `wireguard` or `mixed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cable::Vxlan => "vxlan",
            Cable::Wireguard => "wireguard",
            Cable::Mixed => "mixed",
        }
    }

    /// Whether routeagent builds the cable of cluster `c` (0-based).
    pub fn routeagent_owns(self, c: usize) -> bool {
        match self {
            Cable::Vxlan => true,
            Cable::Wireguard => false,
            Cable::Mixed => c == 0,
        }
    }

    /// The Endpoint `backend` of cluster `c`'s gateways.
    pub fn backend(self, _c: usize) -> &'static str {
        match self {
            Cable::Wireguard => "wireguard",
            Cable::Vxlan | Cable::Mixed => "vxlan",
        }
    }

    /// The cable's interface on cluster `c`'s active gateway.
    pub fn interface(self, c: usize) -> &'static str {
        match self.backend(c) {
            "wireguard" => "submariner",
            _ => "vxlan-tunnel",
        }
    }
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig::new("ralab")
    }
}

impl LabConfig {
    /// The default lab with this prefix; its work dir is `$TMPDIR/PREFIX`.
    pub fn new(prefix: &str) -> LabConfig {
        LabConfig {
            clusters: 2,
            nodes: 3,
            prefix: prefix.to_string(),
            agent_binary: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("routeagent")),
            work_dir: std::env::temp_dir().join(prefix),
            extra_agent_args: BTreeMap::new(),
            listen_port: 9180,
            converge_timeout: Duration::from_secs(20),
            cable: Cable::default(),
            globalnet: false,
            agents: AgentMode::default(),
            image: "localhost/routeagent:dev".into(),
        }
    }

    /// Refuses sizes and names the address plan cannot hold.
    pub fn validate(&self) -> Result<()> {
        if !(1..=9).contains(&self.clusters) {
            return Err(LabError::Config(format!(
                "clusters = {}: use 1 to 9",
                self.clusters
            )));
        }
        if !(1..=50).contains(&self.nodes) {
            return Err(LabError::Config(format!(
                "nodes = {}: use 1 to 50",
                self.nodes
            )));
        }
        let ok = !self.prefix.is_empty()
            && self.prefix.len() <= 16
            && self
                .prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(LabError::Config(format!(
                "prefix {:?}: use 1 to 16 characters of a-z, 0-9 and -",
                self.prefix
            )));
        }
        Ok(())
    }
}
