//! The OVN-Kubernetes datapath's northbound side as the agent runs it:
//! [`OvnSide`] starts `ovn::runner::run` as a task of its own the first
//! time a pass plans the OVN datapath, hands it what this node wants after
//! every such pass, and copies the runner's [`NbStatus`] into the agent's
//! [`Status`](crate::Status) (`/status` `ovn`, `/metrics` `routeagent_ovn_northbound_*`,
//! a log line when the state changes). A database that is down or refuses
//! a transaction degrades only this part: the pass, the host side and
//! `ready` do not depend on it.

use crate::status::SharedStatus;
use ovn::{Desired, NbConfig, NbStatus, NbSync};
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// The northbound side of the OVN datapath.
pub struct OvnSide {
    /// The database and TLS files, or why they are unusable.
    config: Result<NbConfig, String>,
    /// The connection to use (tests set a short backoff); made from
    /// `config` otherwise.
    sync: Option<NbSync>,
    /// What this node wants, once the runner runs.
    want: Option<watch::Sender<Option<Desired>>>,
    status: SharedStatus,
    resync: Duration,
    retry: Duration,
}

impl OvnSide {
    /// The side for the database `config` names (`ovn::NbConfig::from_env`);
    /// a configuration error is the status's `degraded` reason from the
    /// first OVN pass on.
    pub fn new(config: ovn::Result<NbConfig>, status: SharedStatus) -> OvnSide {
        OvnSide {
            config: config.map_err(|e| errchain::Chain(&e).to_string()),
            sync: None,
            want: None,
            status,
            resync: ovn::runner::RESYNC,
            retry: ovn::runner::RETRY,
        }
    }

    /// Over an existing connection, with the runner's resync and retry
    /// periods (tests).
    pub fn with_sync(
        sync: NbSync,
        status: SharedStatus,
        resync: Duration,
        retry: Duration,
    ) -> OvnSide {
        let config = Ok(NbConfig::plain(sync.endpoint().clone(), "test"));
        OvnSide {
            config,
            sync: Some(sync),
            want: None,
            status,
            resync,
            retry,
        }
    }

    /// A pass planned the OVN datapath and this node wants `desired`
    /// (`None`: not the gateway, or no `ovn-k8s-mp0` address yet). Starts
    /// the runner on first use; the runner acts on the latest value.
    pub fn wants(&mut self, desired: Option<Desired>) {
        if let Some(tx) = &self.want {
            tx.send_if_modified(|cur| {
                let changed = *cur != desired;
                *cur = desired;
                changed
            });
            return;
        }
        let config = match &self.config {
            Ok(c) => c.clone(),
            Err(reason) => {
                let mut nb = NbStatus::new("");
                nb.state = "degraded";
                nb.error = Some(reason.clone());
                if let Some(d) = &desired {
                    nb.role = d.role;
                    nb.nexthop = d.nexthop;
                }
                if self.status_of().as_ref() != Some(&nb) {
                    warn!(error = %reason, "OVN northbound side not started; the host side is unaffected");
                    self.set_status(&nb);
                }
                return;
            }
        };
        let sync = self
            .sync
            .take()
            .unwrap_or_else(|| NbSync::new(config.endpoint.clone(), config.tls.clone()));
        let endpoint = config.endpoint.to_string();
        info!(%endpoint, origin = %config.origin, tls = ?config.tls_origin(), "starting the OVN northbound side");
        let (want_tx, want_rx) = watch::channel(desired);
        let (status_tx, status_rx) = watch::channel(NbStatus::new(&endpoint));
        self.set_status(&status_rx.borrow());
        tokio::spawn(ovn::runner::run(
            sync,
            want_rx,
            status_tx,
            self.resync,
            self.retry,
        ));
        tokio::spawn(publish(status_rx, self.status.clone()));
        self.want = Some(want_tx);
    }

    /// The datapath is not OVN (any more): the runner, if it runs, goes
    /// idle and leaves the database alone.
    pub fn not_wanted(&mut self) {
        if self.want.is_some() {
            self.wants(None);
        }
    }

    fn status_of(&self) -> Option<NbStatus> {
        self.status
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .ovn
            .clone()
    }

    fn set_status(&self, nb: &NbStatus) {
        self.status
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .ovn_changed(nb);
    }
}

/// Copies every runner status into the agent's status, logging changes of
/// state (the runner logs each failure itself).
async fn publish(mut rx: watch::Receiver<NbStatus>, status: SharedStatus) {
    let mut last = rx.borrow().state;
    while rx.changed().await.is_ok() {
        let nb = rx.borrow_and_update().clone();
        if nb.state != last {
            match &nb.error {
                Some(e) => {
                    warn!(state = nb.state, endpoint = %nb.endpoint, error = %e, "OVN northbound side")
                }
                None => {
                    info!(state = nb.state, endpoint = %nb.endpoint, policies = nb.policies, routes = nb.routes, "OVN northbound side")
                }
            }
            last = nb.state;
        }
        status
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .ovn_changed(&nb);
    }
}
