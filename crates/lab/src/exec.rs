//! Running `routeagent` commands for a node the way its agent runs
//! (doctor, uninstall): in the node's namespace, or in a container of the
//! deploy manifests ([`crate::container`]).

use crate::container::{self, Manifest};
use crate::{ns, Lab, LabError, Result};

impl Lab {
    /// Runs `routeagent ARGS...` for `node` as its agent runs: inside its
    /// namespace, or in a container of deploy/daemonset.yaml's agent
    /// (doctor); (exit code, stdout, stderr).
    pub fn agent_exec(&self, node: &str, args: &[&str]) -> Result<(i32, String, String)> {
        self.exec_as(node, container::AGENT, args)
    }

    /// [`Lab::agent_exec`] with `manifest`'s container in container mode.
    fn exec_as(
        &self,
        node: &str,
        manifest: Manifest,
        args: &[&str],
    ) -> Result<(i32, String, String)> {
        let ns = self.node(node)?.ns.clone();
        let Some((image, prefix)) = self.container() else {
            let bin = self.config.agent_binary.to_string_lossy().into_owned();
            return ns::exec_any(&ns, &bin, args);
        };
        let state_dir = self.state_dir(node);
        let run = container::Run {
            image,
            prefix,
            node,
            ns: &ns,
            host_root: &state_dir,
            config_dir: &self.config.work_dir,
        };
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        container::run_once(&run, manifest, &args)
    }

    /// [`Lab::agent_exec`], failing on a non-zero exit; stdout.
    pub fn agent_command(&self, node: &str, args: &[&str]) -> Result<String> {
        let (code, out, err) = self.agent_exec(node, args)?;
        if code != 0 {
            return Err(LabError::Command {
                ns: self.node(node)?.ns.clone(),
                command: format!("routeagent {} (exit {code})", args.join(" ")),
                stderr: err.trim().to_string(),
            });
        }
        Ok(out)
    }

    /// The cluster (0-based) `node` is in.
    pub(crate) fn cluster_of(&self, node: &str) -> Result<usize> {
        self.plan
            .clusters
            .iter()
            .position(|c| c.nodes.iter().any(|n| n.name == node))
            .ok_or_else(|| LabError::Config(format!("no node {node} in this lab")))
    }

    /// Stops every agent and uninstalls every node: `routeagent uninstall`,
    /// or with containers as deploy/uninstall-daemonset.yaml does (its
    /// `uninstall` container: `run` with SUBMARINER_UNINSTALL=true).
    pub fn uninstall_all(&mut self) -> Result<()> {
        let nodes: Vec<String> = self.plan.nodes().map(|(_, n)| n.name.clone()).collect();
        for n in &nodes {
            self.stop_agent(n);
        }
        for n in &nodes {
            if self.container().is_some() {
                let c = self.cluster_of(n)?;
                let file = self.topology_path(c);
                let file = file.file_name().unwrap_or_default().to_string_lossy();
                let config = format!("{}/{file}", container::CONFIG_DIR);
                let args = ["run", "--config", &config];
                let (code, out, err) = self.exec_as(n, container::UNINSTALL, &args)?;
                if code != 0 {
                    return Err(LabError::Command {
                        ns: self.node(n)?.ns.clone(),
                        command: format!(
                            "podman run ... {} {} (deploy/uninstall-daemonset.yaml, exit {code})",
                            self.config.image,
                            args.join(" ")
                        ),
                        stderr: format!("{}\n{}", out.trim(), err.trim()),
                    });
                }
            } else {
                let dir = self.state_dir(n).to_string_lossy().into_owned();
                self.agent_command(n, &["uninstall", "--state-dir", &dir])?;
            }
        }
        Ok(())
    }
}
