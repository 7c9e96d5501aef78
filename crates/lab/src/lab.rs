//! [`Lab`]: up (namespaces, topology files, agents, convergence), down
//! (always, also from `Drop` and after a crash), status, agent restarts and
//! topology rewrites for the checks.

use crate::agents::{self, Agent, AgentSpec};
use crate::plan::{digest, NodePlan, Plan};
use crate::report::Figures;
use crate::snapshot::{self, Snapshot};
use crate::{build, engine, foreign, ns, AgentMode, LabConfig, LabError, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Marker file: `down` removes only work dirs that hold it.
pub(crate) const MARKER: &str = ".routeagent-lab";

/// A lab that is up. Dropping it tears it down (unless [`Lab::detach`]ed).
#[derive(Debug)]
pub struct Lab {
    /// What it was built from.
    pub config: LabConfig,
    /// Names and addresses.
    pub plan: Plan,
    /// Active gateway of each cluster (0-based node index).
    gateways: Vec<usize>,
    /// Extra `tunables:` entries written to every topology file.
    tunables: Vec<String>,
    /// Running agents by node name.
    agents: BTreeMap<String, Agent>,
    /// Node snapshots taken before any agent started.
    pub(crate) before: BTreeMap<String, Snapshot>,
    /// `nft list table ip cni-like` of every node, as built.
    cni_tables: BTreeMap<String, String>,
    /// Changes seen to the CNI-like tables (`stage: node now: listing`).
    pub cni_changes: Vec<String>,
    /// Figures the checks measured.
    pub figures: Figures,
    /// The gateway engines and Globalnet the lab plays.
    pub(crate) engine: engine::Engine,
    /// Other components' objects on each gateway-capable node, as the lab
    /// last made them ([`foreign::listing`]).
    pub(crate) foreign: BTreeMap<String, String>,
    /// Changes seen to them (`stage: node: diff`).
    pub foreign_changes: Vec<String>,
    detached: bool,
}

impl Lab {
    /// Builds the namespaces only (no topology files, no agents).
    pub fn up_network(config: LabConfig) -> Result<Lab> {
        config.validate()?;
        down_prefix(&config.prefix, &config.work_dir)?;
        std::fs::create_dir_all(config.work_dir.join("state")).map_err(|source| {
            LabError::File {
                verb: "create",
                path: config.work_dir.clone(),
                source,
            }
        })?;
        let marker = config.work_dir.join(MARKER);
        std::fs::write(&marker, &config.prefix).map_err(|source| LabError::File {
            verb: "write",
            path: marker,
            source,
        })?;
        let plan = Plan::new(&config.prefix, config.clusters, config.nodes);
        let mut lab = Lab {
            gateways: vec![0; config.clusters],
            tunables: Vec::new(),
            agents: BTreeMap::new(),
            before: BTreeMap::new(),
            cni_tables: BTreeMap::new(),
            cni_changes: Vec::new(),
            figures: Figures::default(),
            engine: engine::Engine::default(),
            foreign: BTreeMap::new(),
            foreign_changes: Vec::new(),
            detached: false,
            plan,
            config,
        };
        let t = Instant::now();
        build::build(&lab.plan)?; // on error, Drop tears down
        for (c, n) in lab.plan.nodes().filter(|(_, n)| n.public_ip.is_some()) {
            let table100 = lab.config.cable == crate::config::Cable::Wireguard;
            foreign::plant(c, n, table100)?;
        }
        lab.figures.build_ms = Some(t.elapsed().as_millis() as u64);
        for (_, n) in lab.plan.nodes() {
            lab.before.insert(n.name.clone(), snapshot::take(&n.ns)?);
            lab.cni_tables.insert(
                n.name.clone(),
                ns::exec(&n.ns, "nft", &["list", "table", "ip", "cni-like"])?,
            );
        }
        Ok(lab)
    }

    /// Builds the lab, writes the topology files, starts one agent per node
    /// and waits until all report converged on the current files.
    pub fn up(config: LabConfig) -> Result<Lab> {
        if config.agents == AgentMode::Container {
            crate::container::preflight(&config.image)?;
        }
        let mut lab = Lab::up_network(config)?;
        engine::start(&mut lab)?;
        lab.record_foreign()?;
        lab.write_topology()?;
        let t = Instant::now();
        let nodes: Vec<String> = lab.plan.nodes().map(|(_, n)| n.name.clone()).collect();
        for n in &nodes {
            let extra = lab
                .config
                .extra_agent_args
                .get(n)
                .cloned()
                .unwrap_or_default();
            lab.start_agent(n, &extra)?;
        }
        lab.wait_converged()?;
        lab.figures.converge_ms = Some(t.elapsed().as_millis() as u64);
        Ok(lab)
    }

    /// Leaves everything running when dropped (for `lab up`); tear down
    /// later with [`down_prefix`].
    pub fn detach(mut self) {
        self.detached = true;
        for a in self.agents.values_mut() {
            // Forget the child: it keeps running inside its namespace.
            let _ = a.child.try_wait();
        }
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Result<&NodePlan> {
        self.plan
            .node(name)
            .ok_or_else(|| LabError::Config(format!("no node {name} in this lab")))
    }

    /// The active gateway of cluster `c` (0-based).
    pub fn gateway(&self, c: usize) -> &NodePlan {
        &self.plan.clusters[c].nodes[self.gateways[c]]
    }

    /// The topology file of cluster `c` (`WORK/cluster-a.yaml`).
    pub fn topology_path(&self, c: usize) -> PathBuf {
        self.config
            .work_dir
            .join(format!("{}.yaml", self.plan.clusters[c].id))
    }

    /// Config digest each node's agent must report.
    fn expected_digest(&self, node: &str) -> Result<String> {
        let path = self.topology_path(self.cluster_of(node)?);
        let bytes = std::fs::read(&path).map_err(|source| LabError::File {
            verb: "read",
            path,
            source,
        })?;
        Ok(digest(&bytes))
    }

    /// Writes every cluster's topology file (in place: agents watch the file).
    pub fn write_topology(&self) -> Result<()> {
        for c in 0..self.plan.clusters.len() {
            let path = self.topology_path(c);
            let text = self.plan.topology_yaml(
                c,
                &self.gateways,
                &self.tunables,
                self.config.cable,
                self.config.globalnet,
            );
            std::fs::write(&path, text).map_err(|source| LabError::File {
                verb: "write",
                path,
                source,
            })?;
        }
        Ok(())
    }

    /// Makes node `node` (0-based) the active gateway of cluster `c` and
    /// rewrites every file (its own, and the others' remote endpoint).
    pub fn set_gateway(&mut self, c: usize, node: usize) -> Result<()> {
        if self.plan.clusters[c].nodes[node].public_ip.is_none() {
            return Err(LabError::Config(format!(
                "node {} has no underlay link: only nodes 1 and 2 can be gateways",
                node + 1
            )));
        }
        let old = std::mem::replace(&mut self.gateways[c], node);
        if old != node {
            engine::moved(self, c, old)?;
            self.record_foreign()?;
        }
        self.write_topology()
    }

    /// The source address a remote cluster sees for traffic that left
    /// cluster `c` (0-based) from `own`: `own`, or under Globalnet the
    /// cluster's global IP (its egress SNAT).
    pub fn seen_from(&self, c: usize, own: std::net::Ipv4Addr) -> std::net::Ipv4Addr {
        if self.config.globalnet {
            self.plan.clusters[c].global_ip
        } else {
            own
        }
    }

    /// Sets the extra `tunables:` entries (`"mtu: 1300"`) and rewrites the files.
    pub fn set_tunables(&mut self, tunables: Vec<String>) -> Result<()> {
        self.tunables = tunables;
        self.write_topology()
    }

    /// Starts the agent of `node` with `extra` arguments.
    pub fn start_agent(&mut self, node: &str, extra: &[String]) -> Result<()> {
        let n = self.node(node)?.clone();
        let config = self.topology_path(self.cluster_of(node)?);
        let state_dir = self.state_dir(node);
        let log = self.config.work_dir.join(format!("{node}.log"));
        let agent = agents::spawn(&AgentSpec {
            binary: &self.config.agent_binary,
            node,
            ns: &n.ns,
            config: &config,
            state_dir: &state_dir,
            log: &log,
            port: self.config.listen_port,
            extra,
            env: &[],
            container: self.container(),
        })?;
        self.agents.insert(node.to_string(), agent);
        Ok(())
    }

    /// (image, prefix) when the agents run as containers.
    pub(crate) fn container(&self) -> Option<(&str, &str)> {
        (self.config.agents == AgentMode::Container)
            .then_some((self.config.image.as_str(), self.config.prefix.as_str()))
    }

    /// The state dir of `node`'s agent (a container's node root for its
    /// hostPath volumes: the state is in `run/routeagent` below it).
    pub fn state_dir(&self, node: &str) -> PathBuf {
        self.config.work_dir.join("state").join(node)
    }

    /// Stops the agent of `node` (SIGTERM, then SIGKILL); keeps its state.
    pub fn stop_agent(&mut self, node: &str) {
        if let Some(mut a) = self.agents.remove(node) {
            agents::stop(&mut a);
        }
    }

    /// Restarts the agents of `nodes` with `extra` arguments and waits for
    /// every agent to converge.
    pub fn restart_agents(&mut self, nodes: &[String], extra: &[String]) -> Result<()> {
        for n in nodes {
            self.stop_agent(n);
        }
        for n in nodes {
            self.start_agent(n, extra)?;
        }
        self.wait_converged()
    }

    /// Sends `sig` to every agent (SIGSTOP / SIGCONT).
    pub fn signal_agents(&self, sig: i32) {
        for a in self.agents.values() {
            agents::signal(a, sig);
        }
    }

    /// Waits until every running agent reports converged on its cluster's
    /// current file ([`LabError::NotConverged`] names the laggards and their logs).
    pub fn wait_converged(&mut self) -> Result<()> {
        let digests: BTreeMap<String, String> = self
            .agents
            .keys()
            .map(|n| Ok((n.clone(), self.expected_digest(n)?)))
            .collect::<Result<_>>()?;
        let mut list: Vec<(&mut Agent, String)> = self
            .agents
            .iter_mut()
            .map(|(n, a)| (a, digests[n].clone()))
            .collect();
        agents::wait_converged(
            &mut list,
            self.config.listen_port,
            self.config.converge_timeout,
        )
    }

    /// `/status` of `node`'s agent.
    pub fn agent_status(&self, node: &str) -> Result<Value> {
        agents::status(&self.node(node)?.ns, self.config.listen_port)
    }

    /// Compares every node's CNI-like table with the one built; records
    /// changes under `stage` and returns how many nodes changed.
    pub fn check_cni_tables(&mut self, stage: &str) -> usize {
        let mut changed = 0;
        for (_, n) in self.plan.nodes() {
            let now = ns::exec(&n.ns, "nft", &["list", "table", "ip", "cni-like"])
                .unwrap_or_else(|e| e.to_string());
            if self.cni_tables.get(&n.name) != Some(&now) {
                changed += 1;
                self.cni_changes
                    .push(format!("{stage}: {} now:\n{now}", n.name));
            }
        }
        changed
    }

    /// Namespaces, agents and their `/status`, as JSON.
    pub fn status(&self) -> Value {
        status_prefix(&self.config.prefix, self.config.listen_port)
    }

    /// Stops the agents, deletes every namespace of the prefix and the work
    /// dir; idempotent.
    pub fn down(&mut self) -> Result<()> {
        let names: Vec<String> = self.agents.keys().cloned().collect();
        for n in names {
            self.stop_agent(&n);
        }
        self.detached = true;
        down_prefix(&self.config.prefix, &self.config.work_dir)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if !self.detached {
            if let Err(e) = self.down() {
                eprintln!(
                    "warning: lab {} teardown: {}",
                    self.config.prefix,
                    errchain::Chain(&e)
                );
            }
        }
    }
}

/// Tears down whatever a lab with `prefix` left: removes its containers
/// ([`crate::container::remove_all`]), kills every process in its namespaces, deletes them, removes `work_dir` if it is a lab's
/// (holds the marker). Safe after a crash or a half-finished `up`.
pub fn down_prefix(prefix: &str, work_dir: &std::path::Path) -> Result<()> {
    crate::container::remove_all(prefix)?;
    ns::delete_all(prefix)?;
    if work_dir.join(MARKER).exists() {
        std::fs::remove_dir_all(work_dir).map_err(|source| LabError::File {
            verb: "remove",
            path: work_dir.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// The state of a lab with `prefix`: its namespaces and, for each node
/// namespace, its agent's `/status` (or the error reaching it).
pub fn status_prefix(prefix: &str, port: u16) -> Value {
    let names = ns::existing(prefix);
    let mut agents = serde_json::Map::new();
    for n in &names {
        let node = n.trim_start_matches(prefix).trim_start_matches('-');
        let is_node = node.len() >= 2
            && !node.ends_with('p')
            && node[1..].chars().all(|c| c.is_ascii_digit());
        if is_node {
            let v = match agents::status(n, port) {
                Ok(s) => s,
                Err(e) => serde_json::json!({"error": e.to_string()}),
            };
            agents.insert(node.to_string(), v);
        }
    }
    serde_json::json!({"prefix": prefix, "namespaces": names, "agents": agents})
}
