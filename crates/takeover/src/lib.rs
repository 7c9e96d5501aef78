//! Taking a node over from Submariner's Go route agent, make-before-break,
//! and recognising what it left (coexistence facts, section 4): the Go
//! agent cleans nothing when its pod stops.
//!
//! Order of a takeover (one agent pass, see `agent::takeover`):
//! 1. [`Leftovers`] are discovered before anything changes (also shown by
//!    `routeagent doctor`);
//! 2. its routes the plan also has are re-owned in place (`ip route
//!    replace ... proto 166`), and a `vx-submariner` with the planned
//!    parameters is kept (the converge adopts it);
//! 3. the agent converges and installs its own packet filter;
//! 4. only then the Go agent's iptables rules, jumps and chains (both
//!    variants), ipsets and nftables tables or chains go, then its stale
//!    routes and rules.
//!
//! Never touched, even when they share a name or table: Globalnet's chains,
//! rules and sets (`SUBMARINER-GN-*`, `SM-GN-*`, its jump in
//! `SUBMARINER-POSTROUTING`), the gateway engine's cable objects
//! (`vxlan-tunnel`, table 100, rule pref 100, XFRM, `submariner`),
//! kube-proxy's and the CNI's rules.
//!
//! # Layout
//! - [`names`]: the Go agent's names; what in a shared chain is its.
//! - [`iptables`]: `iptables-save` recognised (pure), `iptables-restore`
//!   removal per variant; ipsets.
//! - [`nft`]: its nftables tables recognised (pure, over
//!   `packetfilter_nftables::inspect` summaries) and removed in one batch.
//! - [`host`]: its routes, rules and link; re-owning and stale removal.
//! - [`GoAgentTakeover`] (`takeover.rs`): `agent::takeover::Takeover` over
//!   all of the above; [`Leftovers`] (this file): what a host holds.

pub mod host;
pub mod iptables;
pub mod names;
pub mod nft;
mod takeover;

pub use takeover::GoAgentTakeover;

use capabilities::IptablesVariant;
use packetfilter_nftables::Nftables;
use ruleset::IpVersion;

/// Lines found and kept for one group of objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The Go agent's objects.
    pub found: Vec<String>,
    /// Others' objects next to them, left alone.
    pub kept: Vec<String>,
}

/// The iptables variants and IP versions the Go agent may have used.
pub const IPTABLES: [(IptablesVariant, IpVersion); 4] = [
    (IptablesVariant::Legacy, IpVersion::V4),
    (IptablesVariant::Nft, IpVersion::V4),
    (IptablesVariant::Legacy, IpVersion::V6),
    (IptablesVariant::Nft, IpVersion::V6),
];

/// Everything of the Go route agent's found on a host.
#[derive(Debug, Clone)]
pub struct Leftovers {
    /// Per iptables variant and version that has any: its tables.
    pub iptables: Vec<(IptablesVariant, IpVersion, Vec<iptables::TableCleanup>)>,
    /// Its ipsets.
    pub ipsets: Vec<String>,
    /// Its nftables tables.
    pub nft: Vec<nft::TableCleanup>,
    /// Its routes, rules and link (`None` when rtnetlink failed).
    pub host: Option<host::HostLeftovers>,
}

impl Leftovers {
    /// Reads the host: `iptables-save` of each variant, `ipset list -n`,
    /// the nftables tables, routes, rules and links.
    pub async fn discover(handle: &rtnetlink::Handle, nft: Option<&Nftables>) -> Leftovers {
        let iptables = IPTABLES
            .iter()
            .filter_map(|(var, v)| {
                let t = iptables::discover(*var, *v)?;
                (!t.is_empty()).then_some((*var, *v, t))
            })
            .collect();
        let host = match host::discover(handle).await {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %errchain::Chain(&e), "cannot read routes and rules");
                None
            }
        };
        Leftovers {
            iptables,
            ipsets: iptables::discover_ipsets(),
            nft: nft.map(nft::discover).unwrap_or_default(),
            host,
        }
    }

    /// [`Leftovers::discover`] on a runtime of its own, in the calling
    /// thread's network namespace (for `routeagent doctor`).
    pub fn discover_now() -> Result<Leftovers, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
        rt.block_on(async {
            let h = hostnet::Host::new().map_err(|e| errchain::Chain(&e).to_string())?;
            let nft = Nftables::new().ok();
            Ok(Leftovers::discover(h.handle(), nft.as_ref()).await)
        })
    }

    /// Whether nothing of the Go agent's is here.
    pub fn is_empty(&self) -> bool {
        self.found().is_empty()
    }

    /// One line per object of the Go agent's.
    pub fn found(&self) -> Vec<String> {
        self.lines().found
    }

    /// One line per object of others sharing a name or table with it.
    pub fn kept(&self) -> Vec<String> {
        self.lines().kept
    }

    fn lines(&self) -> Found {
        let mut f = Found::default();
        for (var, v, tables) in &self.iptables {
            let tool = iptables::tool_name(*var, *v);
            for t in tables {
                f.found
                    .extend(t.found.iter().map(|l| format!("{tool} {l}")));
                f.kept.extend(t.kept.iter().map(|l| format!("{tool} {l}")));
            }
        }
        f.found
            .extend(self.ipsets.iter().map(|s| format!("ipset {s}")));
        for t in &self.nft {
            f.found.extend(t.found.iter().map(|l| format!("nft {l}")));
            f.kept.extend(t.kept.iter().map(|l| format!("nft {l}")));
        }
        if let Some(h) = &self.host {
            f.found.extend(h.lines());
        }
        f
    }
}
