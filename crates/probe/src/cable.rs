//! Which inter-cluster cable this node runs, and whether Globalnet's chains
//! are here: read only, from `ip` and the packet-filter listing tools. The
//! agent never touches any of it (docs/KUBERNETES.md, "Who owns what").

use crate::iptables::run;
use serde::Serialize;
use serde_json::Value;

/// The cable objects and Globalnet chains found on the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CableFacts {
    /// IPv4 XFRM policies with non-zero selectors (`ip -4 xfrm policy`):
    /// libreswan's tunnels (pluto's all-zero socket policies not counted).
    pub xfrm_policies: usize,
    /// Kind of the link named `submariner` (WireGuard driver's), if any.
    pub submariner_link: Option<String>,
    /// `vxlan-tunnel` exists: `Some(true)` when it is the agent's (alias
    /// `routeagent`), `Some(false)` when another component's.
    pub vxlan_tunnel_ours: Option<bool>,
    /// Routes in table 100 not made by the agent (proto other than 166).
    pub foreign_table_100_routes: usize,
    /// A `pref 100 lookup 100` rule not made by the agent.
    pub foreign_pref_100_rule: bool,
    /// Globalnet chains found (`iptables nat SUBMARINER-GN-EGRESS`,
    /// `nft SM-GN-EGRESS-PODS`).
    pub globalnet_chains: Vec<String>,
}

impl CableFacts {
    /// Asks the host (`ip -4 xfrm policy`, `ip -d -j link`, `ip -j route
    /// show table 100`, `ip -j rule`, `iptables-save -t nat` of each
    /// variant, `nft list chains`); a missing tool counts as nothing found.
    pub fn detect() -> CableFacts {
        let mut f = CableFacts {
            xfrm_policies: run("ip", &["-4", "xfrm", "policy", "show"])
                .map_or(0, |t| count_xfrm(&t)),
            ..CableFacts::default()
        };
        if let Some(links) = run("ip", &["-d", "-j", "link", "show"]).and_then(json) {
            f.links(&links);
        }
        if let Some(r) = run("ip", &["-j", "route", "show", "table", "100"]).and_then(json) {
            f.foreign_table_100_routes = r.iter().filter(|x| !ours(x)).count();
        }
        if let Some(r) = run("ip", &["-j", "rule", "show"]).and_then(json) {
            f.foreign_pref_100_rule = r
                .iter()
                .any(|x| x["priority"] == 100 && x["table"].as_str() == Some("100") && !ours(x));
        }
        for tool in ["iptables-legacy-save", "iptables-nft-save"] {
            if let Some(t) = run(tool, &["-t", "nat"]) {
                f.globalnet_chains.extend(globalnet_in(&t, tool));
            }
        }
        if let Some(t) = run("nft", &["list", "chains"]) {
            f.globalnet_chains.extend(globalnet_in(&t, "nft"));
        }
        f
    }

    fn links(&mut self, links: &[Value]) {
        for l in links {
            let kind = l["linkinfo"]["info_kind"]
                .as_str()
                .unwrap_or("")
                .to_string();
            match l["ifname"].as_str() {
                Some("submariner") => self.submariner_link = Some(kind),
                Some("vxlan-tunnel") => {
                    self.vxlan_tunnel_ours = Some(l["ifalias"].as_str() == Some(LINK_ALIAS));
                }
                _ => {}
            }
        }
    }

    /// The cable in one phrase: which driver's objects are here.
    pub fn cable(&self) -> String {
        let mut found = Vec::new();
        if self.xfrm_policies > 0 {
            found.push(format!(
                "libreswan/IPsec ({} XFRM policies)",
                self.xfrm_policies
            ));
        }
        if let Some(k) = &self.submariner_link {
            found.push(format!("WireGuard (link submariner, kind {k})"));
        }
        match self.vxlan_tunnel_ours {
            Some(true) => found.push("routeagent's own VXLAN cable (vxlan-tunnel)".into()),
            Some(false) => found.push(format!(
                "Submariner's VXLAN cable (vxlan-tunnel, {} table-100 routes{})",
                self.foreign_table_100_routes,
                if self.foreign_pref_100_rule {
                    ", rule pref 100"
                } else {
                    ""
                }
            )),
            None => {}
        }
        if found.is_empty() {
            "none found (not a gateway, or the gateway engine has not connected yet)".into()
        } else {
            found.join(" + ")
        }
    }
}

/// The alias the agent puts on its links (`plan::host::ownership::LINK_ALIAS`;
/// the probe does not link the planner).
const LINK_ALIAS: &str = "routeagent";

fn json(text: String) -> Option<Vec<Value>> {
    serde_json::from_str(&text).ok()
}

/// Whether an `ip -j` route or rule carries the agent's protocol (166).
fn ours(x: &Value) -> bool {
    match &x["protocol"] {
        Value::String(s) => s == "166",
        Value::Number(n) => n.as_u64() == Some(166),
        _ => false,
    }
}

/// Non-zero-selector policies in `ip xfrm policy` text.
pub fn count_xfrm(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("src ") && !l.starts_with("src 0.0.0.0/0 dst 0.0.0.0/0"))
        .count()
}

/// Globalnet chain names (`SUBMARINER-GN-*`, `SM-GN-*`) declared in
/// `iptables-save` or `nft list chains` text, prefixed with `source`.
pub fn globalnet_in(text: &str, source: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ':')
        .filter(|w| w.starts_with("SUBMARINER-GN-") || w.starts_with("SM-GN-"))
        .map(|w| format!("{source} {w}"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        let x = "src 0.0.0.0/0 dst 0.0.0.0/0\n\tsocket in priority 0\nsrc 10.244.0.0/16 dst 10.245.0.0/16\n\tdir out priority 1\nsrc 10.245.0.0/16 dst 10.244.0.0/16\n";
        assert_eq!(count_xfrm(x), 2);
        let save = "*nat\n:POSTROUTING ACCEPT [0:0]\n:SUBMARINER-GN-EGRESS - [0:0]\n:SM-GN-EGRESS-PODS - [0:0]\n-A SUBMARINER-POSTROUTING -j SUBMARINER-GN-EGRESS\n";
        assert_eq!(
            globalnet_in(save, "iptables-nft-save"),
            [
                "iptables-nft-save SM-GN-EGRESS-PODS",
                "iptables-nft-save SUBMARINER-GN-EGRESS"
            ]
        );
        let links: Vec<Value> = serde_json::from_str(r#"[{"ifname":"vxlan-tunnel","linkinfo":{"info_kind":"vxlan"}},{"ifname":"submariner","linkinfo":{"info_kind":"wireguard"}}]"#).unwrap();
        let mut f = CableFacts::default();
        f.links(&links);
        assert_eq!(f.vxlan_tunnel_ours, Some(false));
        assert_eq!(f.submariner_link.as_deref(), Some("wireguard"));
        assert!(f.cable().contains("WireGuard") && f.cable().contains("Submariner's VXLAN"));
        assert!(ours(&serde_json::json!({"protocol": "166"})));
        assert!(!ours(&serde_json::json!({"protocol": "boot"})));
    }
}
