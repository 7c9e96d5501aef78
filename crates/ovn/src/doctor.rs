//! [`probe`]: the OVN part of `routeagent doctor`: the endpoint, whether
//! the database answers, and whether the cluster router is there.

use serde::Serialize;

use crate::config::NbConfig;
use crate::sync::NbSync;

/// What `doctor` says about the northbound database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbProbe {
    /// The endpoint tried.
    pub endpoint: String,
    /// Where it came from (`OVN_NB_DB`, a discovery rule, a socket).
    pub origin: String,
    /// Where the TLS material comes from (`ssl:` only).
    pub tls: Option<String>,
    /// Whether it answered `echo`.
    pub answers: bool,
    /// Whether `ovn_cluster_router` exists.
    pub router: bool,
    /// Objects routeagent owns on it (policies + static routes).
    pub owned: usize,
    /// Why not, with its causes.
    pub error: Option<String>,
}

/// Asks the database once (`ovn-nbctl --db=ENDPOINT lr-list`, in effect).
pub async fn probe(cfg: &NbConfig) -> NbProbe {
    let mut sync = NbSync::new(cfg.endpoint.clone(), cfg.tls.clone());
    let mut p = NbProbe {
        endpoint: cfg.endpoint.to_string(),
        origin: cfg.origin.clone(),
        tls: cfg.tls_origin(),
        answers: false,
        router: false,
        owned: 0,
        error: None,
    };
    if let Err(e) = sync.ping().await {
        p.error = Some(errchain::Chain(&e).to_string());
        return p;
    }
    p.answers = true;
    match sync.observe().await {
        Ok(o) => {
            p.router = true;
            p.owned = o.policies.len() + o.routes.len();
        }
        Err(e) => p.error = Some(errchain::Chain(&e).to_string()),
    }
    p
}
