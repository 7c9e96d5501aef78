//! The Go agent's routes, rules and VXLAN link: recognised (pure:
//! [`is_go_route`], [`is_go_rule`]), re-owned in place where the plan has
//! the same route (`ip route replace ... proto 166`: one atomic kernel
//! operation, no gap), and the rest removed once the agent's own state is
//! in place.

use crate::names;
use hostnet::links::{list_links, LinkState, LinkTable};
use hostnet::routes::{delete_route, list_routes, replace_route, RouteState};
use hostnet::rules::{add_rule, delete_rule, list_rules, RuleState};
use plan::{HostPlan, LinkKind};
use rtnetlink::Handle;
use ruleset::IpVersion;

/// A route the Go agent left: `proto static` in table 150 (the gateway's
/// routes to remote clusters) or through `vx-submariner` (a non-gateway's).
pub fn is_go_route(r: &RouteState, vx_index: Option<u32>) -> bool {
    r.protocol == names::PROTO_STATIC
        && (r.table == names::TABLE || (vx_index.is_some() && r.oif == vx_index))
}

/// The Go agent's gateway rule: `pref 150 lookup 150`, no selector, with
/// a protocol other than the agent's (it sets none: 0).
pub fn is_go_rule(r: &RuleState) -> bool {
    r.version == IpVersion::V4
        && r.pref == Some(names::TABLE)
        && r.table == names::TABLE
        && r.action == 1
        && r.selectors.is_empty()
        && r.protocol != plan::host::ROUTE_PROTOCOL
}

/// How a route is named in reports: `ip route` words.
pub fn describe_route(r: &RouteState, links: &LinkTable) -> String {
    let mut s = format!("route {}", r.dst);
    if let Some(v) = r.via {
        s.push_str(&format!(" via {v}"));
    }
    if let Some(d) = r.oif.and_then(|i| links.name(i)) {
        s.push_str(&format!(" dev {d}"));
    }
    if let Some(src) = r.src {
        s.push_str(&format!(" src {src}"));
    }
    format!("{s} table {} proto {}", r.table, r.protocol)
}

/// The Go agent's routes, rules and link on this host.
#[derive(Debug, Clone)]
pub struct HostLeftovers {
    /// Its routes.
    pub routes: Vec<RouteState>,
    /// Its rules.
    pub rules: Vec<RuleState>,
    /// `vx-submariner`, when it exists (either agent may have made it).
    pub link: Option<LinkState>,
    /// The link table the above was read with.
    pub links: LinkTable,
}

/// `ip route show table all proto static` + `ip rule` + `ip -d link show
/// vx-submariner`, filtered to the Go agent's objects.
pub async fn discover(handle: &Handle) -> hostnet::Result<HostLeftovers> {
    let links = list_links(handle).await?;
    let link = links.get(names::VXLAN).cloned();
    let vx = link.as_ref().map(|l| l.index);
    let routes = list_routes(handle)
        .await?
        .into_iter()
        .filter(|r| is_go_route(r, vx))
        .collect();
    let rules = list_rules(handle)
        .await?
        .into_iter()
        .filter(is_go_rule)
        .collect();
    Ok(HostLeftovers {
        routes,
        rules,
        link,
        links,
    })
}

impl HostLeftovers {
    /// One line per object found (`doctor`, `/status`).
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .routes
            .iter()
            .map(|r| describe_route(r, &self.links))
            .collect();
        out.extend(self.rules.iter().map(|r| format!("rule {r}")));
        if !self.routes.is_empty() || !self.rules.is_empty() {
            if let Some(l) = &self.link {
                out.push(format!("link {} (mtu {})", l.name, l.mtu));
            }
        }
        out
    }

    /// Whether the existing `vx-submariner` can stay as it is under `plan`
    /// (same VNI, port, local and remote address, underlay, no learning,
    /// same MTU): a line saying what happens to it, `None` without link.
    pub fn link_fate(&self, plan: &HostPlan) -> Option<(bool, String)> {
        let have = self.link.as_ref()?;
        let want = plan.links.iter().find(|l| l.name == names::VXLAN)?;
        let LinkKind::Vxlan(v) = &want.kind;
        let underlay = v.underlay.as_deref().and_then(|d| self.links.index(d));
        let same = have.vxlan.as_ref().is_some_and(|x| {
            x.vni == v.vni
                && x.port == v.port
                && x.local == v.local
                && x.remote == v.remote
                && x.underlay == underlay
                && !x.learning
        }) && want.mtu.is_none_or(|m| m == have.mtu);
        let line = if same {
            format!(
                "link {} (same VNI, port, addresses, underlay and MTU)",
                have.name
            )
        } else {
            format!(
                "link {} differs from the plan ({:?}, mtu {}): re-created",
                have.name, have.vxlan, have.mtu
            )
        };
        Some((same, line))
    }
}

/// Re-owns, in place, every Go route whose table and destination the plan
/// also has: `ip route replace` of the route as it is, with protocol 166.
/// The converge that follows then updates it like any of its own routes
/// (one more atomic replace when the plan differs). Returns the adopted
/// routes and the errors.
pub async fn reown(
    handle: &Handle,
    plan: &HostPlan,
    found: &HostLeftovers,
) -> (Vec<String>, Vec<String>) {
    let mut adopted = Vec::new();
    let mut errors = Vec::new();
    let planned = |r: &RouteState| {
        plan.routes.iter().any(|p| {
            let table = if p.table == 0 { 254 } else { p.table };
            table == r.table && p.dst.trunc() == r.dst
        })
    };
    for r in found.routes.iter().filter(|r| planned(r)) {
        let Some(oif) = r.oif else { continue };
        let line = describe_route(r, &found.links);
        match replace_route(handle, &r.to_plan(&found.links), oif).await {
            Ok(()) => adopted.push(line),
            Err(e) => errors.push(format!("{line}: {}", errchain::Chain(&e))),
        }
    }
    (adopted, errors)
}

/// After the agent's own routes, rules and packet filter are in place:
/// deletes the Go agent's routes that are still there (`ip route del`),
/// then its rules (`ip rule del pref 150 lookup 150`, which the kernel
/// applies to the first rule of that priority and table whatever its
/// protocol: when that was the agent's own, it is added back and the next
/// round takes the Go agent's). Returns what was removed and the errors.
pub async fn remove_stale(handle: &Handle, plan: &HostPlan) -> (Vec<String>, Vec<String>) {
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    let found = match discover(handle).await {
        Ok(f) => f,
        Err(e) => return (removed, vec![errchain::Chain(&e).to_string()]),
    };
    for r in &found.routes {
        let line = describe_route(r, &found.links);
        match delete_route(handle, r).await {
            Ok(_) => removed.push(line),
            Err(e) => errors.push(format!("{line}: {}", errchain::Chain(&e))),
        }
    }
    // A delete without protocol takes the first rule of that priority and
    // table, which may be the agent's own when it was added first: then the
    // agent's goes back (behind the Go agent's) and the next round deletes
    // the Go agent's. Both look up the same table, so traffic sees no
    // difference at any moment.
    for _ in 0..=found.rules.len() * 2 {
        let now = match list_rules(handle).await {
            Ok(now) => now,
            Err(e) => {
                errors.push(errchain::Chain(&e).to_string());
                break;
            }
        };
        let Some(go) = now.iter().find(|r| is_go_rule(r)) else {
            break;
        };
        if let Err(e) = delete_rule(handle, go).await {
            errors.push(format!("rule {go}: {}", errchain::Chain(&e)));
            break;
        }
        if let Err(e) = add_missing(handle, plan).await {
            errors.push(e);
            break;
        }
    }
    if let Ok(now) = list_rules(handle).await {
        let left = now.iter().filter(|r| is_go_rule(r)).count();
        for r in found.rules.iter().skip(left) {
            removed.push(format!("rule {r}"));
        }
        if left > 0 {
            errors.push(format!(
                "{left} rule(s) pref 150 lookup 150 without protocol 166 remain"
            ));
        }
    }
    (removed, errors)
}

/// `ip rule add pref P lookup T proto 166` for every planned rule missing.
async fn add_missing(handle: &Handle, plan: &HostPlan) -> Result<(), String> {
    let now = list_rules(handle)
        .await
        .map_err(|e| errchain::Chain(&e).to_string())?;
    for want in &plan.rules {
        if !now.iter().any(|r| r.is(want)) {
            add_rule(handle, want)
                .await
                .map_err(|e| errchain::Chain(&e).to_string())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(table: u32, protocol: u8, oif: u32) -> RouteState {
        RouteState {
            table,
            dst: "10.245.0.0/16".parse().unwrap(),
            tos: 0,
            via: None,
            oif: Some(oif),
            src: None,
            protocol,
            scope: 253,
            kind: 1,
            metric: None,
            onlink: false,
        }
    }

    #[test]
    fn only_static_routes_in_table_150_or_through_the_vxlan_are_the_go_agents() {
        assert!(is_go_route(&route(150, 4, 2), Some(9)));
        assert!(is_go_route(&route(254, 4, 9), Some(9)));
        assert!(!is_go_route(&route(254, 4, 2), Some(9)));
        assert!(!is_go_route(&route(150, 166, 2), Some(9)));
        assert!(
            !is_go_route(&route(100, 4, 2), None),
            "table 100 is the VXLAN cable's"
        );
        assert!(!is_go_route(&route(150, 3, 2), Some(9)));
    }

    #[test]
    fn the_go_rule_has_no_selector_and_not_our_protocol() {
        let r = RuleState {
            version: IpVersion::V4,
            pref: Some(150),
            table: 150,
            action: 1,
            protocol: 0,
            selectors: vec![],
            from: None,
            to: None,
        };
        assert!(is_go_rule(&r));
        assert!(!is_go_rule(&RuleState {
            protocol: 166,
            ..r.clone()
        }));
        assert!(!is_go_rule(&RuleState {
            selectors: vec!["to 10.245.0.0/16".into()],
            ..r.clone()
        }));
        assert!(!is_go_rule(&RuleState {
            pref: Some(100),
            table: 100,
            ..r
        }));
    }
}
