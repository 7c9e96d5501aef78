//! Backend choice: probe the host once, choose constructs, build the backend.

use crate::cli::FilterArgs;
use agent::reconcile::Filter;
use capabilities::{choose, BackendKind, Capabilities, IptablesVariant, NotReady};
use packetfilter::Backend;

/// Probes the host (`--assume-missing` applied on top of the real probe).
pub fn probe(args: &FilterArgs) -> Capabilities {
    probe::probe(&probe::ProbeOptions {
        assume_missing: args.assume_missing.clone(),
    })
}

/// Builds the backend for `kind` in the current network namespace.
pub fn backend(kind: BackendKind, ipset: bool) -> Result<Box<dyn Backend>, String> {
    match kind {
        BackendKind::Nftables => packetfilter_nftables::Nftables::new()
            .map(|b| Box::new(b) as Box<dyn Backend>)
            .map_err(|e| errchain::Chain(&e).to_string()),
        BackendKind::IptablesNft => Ok(Box::new(packetfilter_iptables::Iptables::new(
            IptablesVariant::Nft,
            ipset,
        ))),
        BackendKind::IptablesLegacy => Ok(Box::new(packetfilter_iptables::Iptables::new(
            IptablesVariant::Legacy,
            ipset,
        ))),
    }
}

/// Probe, choose and construct: what the reconcile loop calls until it
/// succeeds.
pub fn make(args: &FilterArgs) -> Result<Filter, NotReady> {
    let caps = probe(args);
    let constructs = choose(&caps, args.packet_filter)?;
    let backend = backend(constructs.backend, constructs.ipset).map_err(|e| NotReady {
        reason: format!("cannot open the {} backend: {e}", constructs.backend),
        fix: "check CAP_NET_ADMIN and the doctor report".into(),
    })?;
    Ok(Filter {
        backend,
        constructs,
    })
}
