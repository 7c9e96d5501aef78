//! [`NbSync`]: the thin applier. One pass reads routeagent's rows (one
//! transaction of selects), computes [`Changes`] and, if there are any,
//! commits them in one transaction. The connection is a reconnecting
//! [`ovsdb::Session`]: a database that is down makes the pass fail fast
//! with the reason (and [`ovsdb::Error::Backoff`] until the next attempt),
//! never block or panic.

use std::sync::Arc;

use ovsdb::{Endpoint, Session, TlsSource};

use crate::changes::{changes, mutate_counts, transaction, Changes};
use crate::desired::{Desired, CLUSTER_ROUTER};
use crate::error::{Error, Result};
use crate::observed::{parse, read_ops, Observed, DB};

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Policies inserted.
    pub added_policies: usize,
    /// Policies dropped.
    pub removed_policies: usize,
    /// Static routes inserted.
    pub added_routes: usize,
    /// Static routes dropped.
    pub removed_routes: usize,
    /// Owned rows already as wanted.
    pub kept: usize,
}

impl Report {
    fn from(c: &Changes) -> Report {
        Report {
            added_policies: c.add_policies.len(),
            removed_policies: c.remove_policies.len(),
            added_routes: c.add_routes.len(),
            removed_routes: c.remove_routes.len(),
            kept: c.kept,
        }
    }

    /// Whether the pass changed anything.
    pub fn changed(&self) -> bool {
        self.added_policies + self.removed_policies + self.added_routes + self.removed_routes > 0
    }
}

/// routeagent's northbound objects on one router of one database.
#[derive(Debug)]
pub struct NbSync {
    session: Session,
    router: String,
}

impl NbSync {
    /// Objects on [`CLUSTER_ROUTER`] of the database at `endpoint`; `tls`
    /// is read before every connection attempt.
    pub fn new(endpoint: Endpoint, tls: Option<Arc<dyn TlsSource>>) -> NbSync {
        NbSync::with_session(Session::new(endpoint, tls))
    }

    /// Over an existing session (tests set a short backoff).
    pub fn with_session(session: Session) -> NbSync {
        NbSync {
            session,
            router: CLUSTER_ROUTER.to_string(),
        }
    }

    /// The database endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        self.session.endpoint()
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// One pass to `desired` (an empty one removes everything routeagent
    /// owns on the router, as uninstall does).
    pub async fn reconcile(&mut self, desired: &Desired) -> Result<Report> {
        let observed = self.observe().await?;
        let c = changes(&observed, desired);
        if c.is_empty() {
            return Ok(Report::from(&c));
        }
        let ops = transaction(&observed.router, &c);
        tracing::debug!(?ops, "northbound transaction");
        let results = self.transact(ops.clone()).await?;
        if let Some(&count) = mutate_counts(&ops, &results).iter().find(|&&n| n != 1) {
            return Err(Error::RouterChanged {
                router: self.router.clone(),
                count,
            });
        }
        let report = Report::from(&c);
        tracing::info!(?report, "northbound objects converged");
        Ok(report)
    }

    /// Removes every object routeagent owns on the router.
    pub async fn remove_all(&mut self) -> Result<Report> {
        self.reconcile(&Desired::default()).await
    }

    /// `echo`: whether the database answers (for `doctor`).
    pub async fn ping(&mut self) -> Result<()> {
        let res = match self.session.client().await {
            Ok(c) => c.echo().await,
            Err(e) => Err(e),
        };
        self.session.observe(&res);
        res.map_err(|e| self.db_error(e))
    }

    /// The router and routeagent's rows on it.
    pub async fn observe(&mut self) -> Result<Observed> {
        let results = self.transact(read_ops(&self.router)).await?;
        match parse(&results) {
            Ok(Some(o)) => Ok(o),
            Ok(None) => Err(Error::NoRouter {
                router: self.router.clone(),
                endpoint: self.session.endpoint().to_string(),
            }),
            Err(e) => Err(self.db_error(e)),
        }
    }

    async fn transact(&mut self, ops: Vec<serde_json::Value>) -> Result<Vec<serde_json::Value>> {
        let res = match self.session.client().await {
            Ok(c) => c.transact(DB, ops).await,
            Err(e) => Err(e),
        };
        self.session.observe(&res);
        res.map_err(|e| self.db_error(e))
    }

    fn db_error(&self, source: ovsdb::Error) -> Error {
        Error::Db {
            endpoint: self.session.endpoint().to_string(),
            source,
        }
    }
}
