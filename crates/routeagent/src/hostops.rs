//! The agent's [`HostOps`] over `hostnet`, with the sysctl journal kept in
//! the state directory so uninstall restores original values even after a
//! restart; plus the wiring of the Kubernetes source and the lab.

use agent::host::{BoxFuture, HostOps, HostReport};
use anyhow::{Context, Result};
use hostnet::{Host, SysctlJournal};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, Mutex};

/// `hostnet::Host` behind a mutex, persisting its sysctl journal.
pub struct HostnetOps {
    host: Mutex<Host>,
    journal_path: PathBuf,
}

impl HostnetOps {
    /// Opens rtnetlink in the current namespace and loads the journal from
    /// `state_dir/sysctl-journal.json`.
    pub async fn new(state_dir: &Path) -> Result<Self> {
        let journal_path = state_dir.join("sysctl-journal.json");
        let journal: SysctlJournal = match std::fs::read(&journal_path) {
            Ok(b) => serde_json::from_slice(&b).with_context(|| {
                format!(
                    "{} is corrupt; move it away to start fresh",
                    journal_path.display()
                )
            })?,
            Err(_) => SysctlJournal::default(),
        };
        let host = Host::with_journal(journal)?;
        Ok(HostnetOps {
            host: Mutex::new(host),
            journal_path,
        })
    }

    fn persist(&self, journal: &SysctlJournal) {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.journal_path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = self.journal_path.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(journal).unwrap_or_default())?;
            std::fs::rename(tmp, &self.journal_path)
        };
        if let Err(e) = write() {
            tracing::warn!(path = %self.journal_path.display(), error = %e, "cannot persist the sysctl journal; uninstall may not restore original values");
        }
    }

    /// Events about the agent's own objects (`ip monitor`, filtered), as
    /// drift triggers for the loop.
    pub fn monitor(&self) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut m = match hostnet::watch().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "no netlink monitor; relying on the periodic resync");
                    return;
                }
            };
            while let Some(ev) = m.recv().await {
                if tx.send(format!("{ev:?}")).await.is_err() {
                    return;
                }
            }
        });
        rx
    }
}

impl HostOps for HostnetOps {
    fn facts<'a>(
        &'a self,
        node_ip: IpAddr,
        cidrs: &'a [ipnet::IpNet],
        cni: Option<&'a str>,
        public: Option<IpAddr>,
    ) -> BoxFuture<'a, Result<plan::HostFacts, String>> {
        Box::pin(async move {
            self.host
                .lock()
                .await
                .discover(node_ip, cidrs, cni, public)
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn converge<'a>(&'a self, plan: &'a plan::HostPlan) -> BoxFuture<'a, HostReport> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            let before = host.journal().clone();
            let out = match host.converge(plan).await {
                Ok(r) => HostReport {
                    changes: r.changes() as usize,
                    errors: r.errors.iter().map(|e| e.to_string()).collect(),
                },
                Err(e) => HostReport {
                    changes: 0,
                    errors: vec![e.to_string()],
                },
            };
            if *host.journal() != before {
                self.persist(host.journal());
            }
            out
        })
    }

    fn remove_all(&self) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let mut host = self.host.lock().await;
            let r = host.remove_all().await.map_err(|e| e.to_string())?;
            if !r.errors.is_empty() {
                return Err(r
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "));
            }
            let _ = std::fs::remove_file(&self.journal_path);
            Ok(())
        })
    }
}

/// `routeagent lab ...`: the lab crate does the work and the printing.
pub fn lab(a: crate::cli::LabArgs, exe: PathBuf) -> Result<i32> {
    let mut config = lab::LabConfig::new(&a.prefix);
    config.clusters = a.clusters;
    config.nodes = a.nodes;
    config.agent_binary = exe;
    let action = match a.action {
        crate::cli::LabAction::Up => lab::cli::Action::Up,
        crate::cli::LabAction::Down => lab::cli::Action::Down,
        crate::cli::LabAction::Status => lab::cli::Action::Status,
        crate::cli::LabAction::Demo => lab::cli::Action::Demo,
    };
    Ok(lab::cli::run(action, config, a.json)?)
}
