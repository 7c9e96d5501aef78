//! [`GoAgentTakeover`]: `agent::takeover::Takeover` over this crate.

use crate::{host, iptables, nft, Leftovers};
use agent::host::BoxFuture;
use agent::takeover::{Takeover, TakeoverReport};
use packetfilter_nftables::Nftables;
use plan::HostPlan;

/// Takes the node over from the Go route agent, or (disabled) only reports
/// what it left and what that conflicts with.
pub struct GoAgentTakeover {
    host: hostnet::Host,
    nft: Option<Nftables>,
    enabled: bool,
}

impl GoAgentTakeover {
    /// Opens rtnetlink (and nftables netlink, when it can) in the calling
    /// thread's network namespace, on the current tokio runtime. With
    /// `enabled` false (`--no-takeover`) nothing is ever changed.
    pub fn new(enabled: bool) -> hostnet::Result<GoAgentTakeover> {
        Ok(GoAgentTakeover {
            host: hostnet::Host::new()?,
            nft: Nftables::new().ok(),
            enabled,
        })
    }

    async fn prepare_now(&self, plan: &HostPlan) -> TakeoverReport {
        let found = Leftovers::discover(self.host.handle(), self.nft.as_ref()).await;
        let mut r = TakeoverReport {
            found: found.found(),
            kept: found.kept(),
            ..Default::default()
        };
        if r.found.is_empty() {
            return r;
        }
        if !self.enabled {
            r.conflicts = r
                .found
                .iter()
                .map(|l| format!("{l}: left in place (takeover disabled); its rules keep deciding traffic next to this agent's, and its routes block this agent's"))
                .collect();
            return r;
        }
        if let Some(h) = &found.host {
            if let Some((same, line)) = h.link_fate(plan) {
                if same {
                    r.adopted.push(line);
                } else {
                    r.removed.push(line);
                }
            }
            let (adopted, errors) = host::reown(self.host.handle(), plan, h).await;
            r.adopted.extend(adopted);
            r.errors.extend(errors);
        }
        // Values the Go agent already set are not changed, so not journaled:
        // uninstall leaves them as the Go agent wants them.
        for s in &plan.sysctls {
            let now = hostnet::sysctl::read_sysctl(self.host.handle(), &s.key).await;
            if now.is_ok_and(|v| v.trim() == s.value) {
                r.adopted.push(format!(
                    "sysctl {}={} (already set; kept on uninstall)",
                    s.key, s.value
                ));
            }
        }
        r
    }

    async fn finish_now(&self, plan: &HostPlan) -> TakeoverReport {
        let mut r = TakeoverReport::default();
        if !self.enabled {
            return r;
        }
        // Packet filter first: iptables rules and chains (which use the
        // ipsets), then the ipsets, then the nftables tables.
        for (var, v) in crate::IPTABLES {
            let Some(tables) = iptables::discover(var, v) else {
                continue;
            };
            let tool = iptables::tool_name(var, v);
            match iptables::remove(var, v, &tables) {
                Ok(()) => {
                    for t in &tables {
                        r.removed
                            .extend(t.found.iter().map(|l| format!("{tool} {l}")));
                    }
                }
                Err(e) => r.errors.push(format!("{tool}: {e}")),
            }
        }
        for s in iptables::discover_ipsets() {
            match iptables::destroy_ipset(&s) {
                Ok(()) => r.removed.push(format!("ipset {s}")),
                Err(e) => r.errors.push(e),
            }
        }
        if let Some(n) = &self.nft {
            for t in nft::discover(n) {
                match nft::remove(n, &t) {
                    Ok(()) => r.removed.extend(t.found.iter().map(|l| format!("nft {l}"))),
                    Err(e) => r
                        .errors
                        .push(format!("nft {} {}: {e}", t.family.as_str(), t.table)),
                }
            }
        }
        let (removed, errors) = host::remove_stale(self.host.handle(), plan).await;
        r.removed.extend(removed);
        r.errors.extend(errors);
        r
    }
}

impl Takeover for GoAgentTakeover {
    fn prepare<'a>(&'a self, plan: &'a HostPlan) -> BoxFuture<'a, TakeoverReport> {
        Box::pin(self.prepare_now(plan))
    }

    fn finish<'a>(&'a self, plan: &'a HostPlan) -> BoxFuture<'a, TakeoverReport> {
        Box::pin(self.finish_now(plan))
    }
}
