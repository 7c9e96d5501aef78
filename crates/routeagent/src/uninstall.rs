//! `routeagent uninstall` and `run --uninstall`: the packet filter, host
//! objects and sysctls ([`agent::uninstall`]), and on the OVN datapath
//! routeagent's rows in the northbound database; and the one-shot
//! northbound write of `apply --once` ([`northbound_once`]), which shares
//! its timeout.

use crate::host::HostnetOps;
use packetfilter::Backend;
use std::time::Duration;

/// How long the northbound removal may take before it counts as failed.
const NB_TIMEOUT: Duration = Duration::from_secs(15);

/// Removes everything the agent owns, whatever backend any version used:
/// nftables (an error when it fails) and both iptables variants (best
/// effort: a variant may not exist here); with `network_plugin` naming
/// OVN-Kubernetes, also its northbound rows ([`remove_northbound`]) in
/// the database `nb` names (as `run` finds it in its mode). Prints what it
/// did; the exit code.
pub async fn uninstall_with(
    host: &HostnetOps,
    state_dir: &std::path::Path,
    network_plugin: Option<&str>,
    nb: ovn::Result<ovn::NbConfig>,
) -> i32 {
    let mut required: Vec<Box<dyn Backend>> = vec![];
    match packetfilter_nftables::Nftables::new() {
        Ok(b) => required.push(Box::new(b)),
        Err(e) => {
            tracing::debug!(error = %errchain::Chain(&e), "nftables unavailable; nothing to remove there")
        }
    }
    let best_effort: Vec<Box<dyn Backend>> = [
        capabilities::IptablesVariant::Nft,
        capabilities::IptablesVariant::Legacy,
    ]
    .into_iter()
    .map(|v| Box::new(packetfilter_iptables::Iptables::new(v, true)) as Box<dyn Backend>)
    .collect();
    let done = agent::uninstall(host, &required, &best_effort).await;
    let mut code = 0;
    if done.errors.is_empty() {
        println!(
            "uninstalled: packet filter, links, routes, rules removed; sysctls restored from {}",
            state_dir.display()
        );
    } else {
        for e in &done.errors {
            eprintln!("error: {}", errchain::Chain(e));
        }
        code = 1;
    }
    let ovn = network_plugin
        .map(topology::Cni::parse)
        .is_some_and(|c| c.datapath() == Ok(topology::Datapath::Ovn));
    if ovn {
        match remove_northbound(nb).await {
            Ok(Some(r)) => println!(
                "uninstalled: northbound: {} logical router policies and {} static routes removed",
                r.removed_policies, r.removed_routes
            ),
            Ok(None) => println!("uninstalled: northbound: no cluster router, nothing to remove"),
            Err(e) => {
                eprintln!("error: northbound rows left in place: {e:#}");
                code = 1;
            }
        }
    }
    code
}

/// `apply --once`'s northbound step: writes `want` (this node's objects,
/// `None`: nothing to write here) into the database the agent would use,
/// once, within [`NB_TIMEOUT`]; prints what it did. Returns 1 when the
/// database did not take it (the host side is done either way).
pub async fn northbound_once(want: Option<&ovn::Desired>) -> i32 {
    let Some(want) = want else {
        println!("northbound: nothing to write on this node");
        return 0;
    };
    let cfg = match ovn::NbConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: northbound: {}", errchain::Chain(&e));
            return 1;
        }
    };
    let endpoint = cfg.endpoint.to_string();
    let mut nb = ovn::NbSync::new(cfg.endpoint, cfg.tls);
    match tokio::time::timeout(NB_TIMEOUT, nb.reconcile(want)).await {
        Ok(Ok(r)) => {
            println!(
                "northbound ({}): {} policies, {} static routes; {} added, {} removed",
                want.role,
                want.policies.len(),
                want.routes.len(),
                r.added_policies + r.added_routes,
                r.removed_policies + r.removed_routes
            );
            0
        }
        Ok(Err(e)) => {
            eprintln!("error: northbound: {}", errchain::Chain(&e));
            1
        }
        Err(_) => {
            eprintln!(
                "error: northbound: the database at {endpoint} did not answer within {} s",
                NB_TIMEOUT.as_secs()
            );
            1
        }
    }
}

/// Removes routeagent's logical router policies and static routes on the
/// cluster router, recognised by their `external_ids` owner (like
/// `ovn-nbctl lr-policy-del` / `lr-route-del` of each such row; OVN-
/// Kubernetes' and others' rows stay) of the database `cfg` names.
/// `Ok(None)`: there is no cluster router, so nothing of ours either.
async fn remove_northbound(cfg: ovn::Result<ovn::NbConfig>) -> anyhow::Result<Option<ovn::Report>> {
    let cfg = cfg?;
    let endpoint = cfg.endpoint.to_string();
    let mut nb = ovn::NbSync::new(cfg.endpoint, cfg.tls);
    match tokio::time::timeout(NB_TIMEOUT, nb.remove_all()).await {
        Ok(Ok(r)) => Ok(Some(r)),
        Ok(Err(ovn::Error::NoRouter { .. })) => Ok(None),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => anyhow::bail!(
            "the northbound database at {endpoint} did not answer within {} s",
            NB_TIMEOUT.as_secs()
        ),
    }
}
