//! The planner: from a topology snapshot, this node, the host's facts and
//! the chosen packet-filter constructs to a [`HostPlan`], the whole desired
//! state of the host. Pure and deterministic: the same input gives the same
//! plan, whatever the order of nodes, clusters and CIDRs in the topology.
//!
//! # Layout
//! - [`host`]: the host objects a plan holds ([`Link`], [`Address`],
//!   [`FdbEntry`], [`Route`], [`RoutingRule`], [`Sysctl`]) and what the agent
//!   owns ([`host::ownership`]). Pure data; `hostnet` programs them.
//! - [`query`]: [`FactsQuery`] (which node, which [`Role`], which
//!   interfaces to look for), worked out once from topology + node.
//! - [`input`]: [`PlanInput`] and the normalised view of it every step
//!   reads (sorted nodes, clusters and CIDRs; CNI interface and address).
//! - [`tunnel`]: the 240.b.c.d / 241.b.c.d tunnel addresses derived from
//!   underlay addresses, and their collisions.
//! - [`links`]: `vx-submariner`, its address and (gateway) FDB entries.
//! - [`cable`]: the cable routeagent builds itself (`cluster.cable`),
//!   behind the [`cable::Cable`] trait; [`cable::VxlanCable`] is
//!   `vxlan-tunnel`. Without `cluster.cable` the cable is external and the
//!   plan holds no cable object.
//! - [`routes`]: main-table routes (non-gateway), table 150 and its rule
//!   (gateway, whatever the cable), table 100 and its rule (own cable).
//! - [`sysctls`]: rp_filter, forwarding.
//! - [`filter`]: the packet-filter [`ruleset::RuleSet`] for the chosen
//!   [`capabilities::Constructs`].
//! - [`ovn`]: [`plan_ovn`], the OVN-Kubernetes datapath's host side
//!   (rules `to`/`from` remote subnets, tables 149/150 into
//!   `ovn-k8s-mp0`), from [`OvnFacts`].
//! - [`commands`]: [`ip_commands`], the plan as `ip`/`bridge`/`sysctl` lines.
//! - [`error`] holds [`PlanError`].
//!
//! [`plan`] runs the steps in that order and sorts every list.

pub mod cable;
pub mod commands;
pub mod error;
pub mod filter;
pub mod host;
pub mod input;
pub mod links;
pub mod ovn;
pub mod query;
pub mod routes;
pub mod sysctls;
pub mod tunnel;

pub use commands::ip_commands;
pub use error::PlanError;
pub use host::{
    Address, FdbEntry, HostFacts, HostPlan, Iface, Link, LinkKind, Route, RoutingRule, Sysctl,
    Vxlan,
};
pub use input::PlanInput;
pub use ovn::{plan_ovn, OvnFacts};
pub use query::{FactsQuery, Role};

use cable::Cable;

/// Plans the whole desired state of `input.node`.
///
/// Errors: the topology is invalid, the node is not in it, or a tunnel MTU
/// would be below 576. Problems that still leave a usable plan (tunnel
/// address collisions, no gateway, no CNI address) are in
/// [`HostPlan::warnings`].
pub fn plan(input: &PlanInput<'_>) -> Result<HostPlan, PlanError> {
    let ctx = input::Ctx::new(input)?;
    let mut warnings = Vec::new();
    let mut p = HostPlan::default();
    if ctx.facts.uplink.addr != ctx.node.ip {
        warnings.push(format!(
            "uplink {} holds {}, not node {}'s ip {} from the topology: check --node and cluster.nodes",
            ctx.facts.uplink.name, ctx.facts.uplink.addr, ctx.node.name, ctx.node.ip
        ));
    }
    if ctx.cni_name.is_none() {
        warnings.push("no CNI interface found: its rp_filter is left as is and routes carry no src address; set tunables.cniInterface".into());
    }

    let vx = links::vx_submariner(&ctx, &mut warnings)?;
    p.links.push(vx.link);
    p.addresses.push(vx.address);
    p.fdb.extend(vx.fdb);

    let mut tunnel_ifaces = vec![links::VX_SUBMARINER.to_string()];
    let mut udp_ports = vec![ctx.tunables().vxlan_port];
    if let Some(local) = ctx.gateway.filter(|_| ctx.is_gateway) {
        own_cable(
            &ctx,
            local,
            &mut p,
            &mut warnings,
            &mut tunnel_ifaces,
            &mut udp_ports,
        )?;
        let dev = ctx.cable_dev(local, &mut warnings);
        let (r, rules) = routes::table_150(&ctx, &dev, &mut warnings);
        p.routes.extend(r);
        p.rules.extend(rules);
    } else {
        p.routes
            .extend(routes::non_gateway(&ctx, vx.gateway_addr, &mut warnings));
    }

    finish(
        &ctx,
        p,
        &tunnel_ifaces,
        &udp_ports,
        &filter::Datapath::KubeProxy,
        warnings,
    )
}

/// The steps every datapath ends with: sysctls and the packet filter for
/// `tunnel_ifaces`, `udp_ports` and `datapath`, the ruleset validated, every list sorted and
/// deduplicated so the plan does not depend on input order.
pub(crate) fn finish(
    ctx: &input::Ctx<'_>,
    mut p: HostPlan,
    tunnel_ifaces: &[String],
    udp_ports: &[u16],
    datapath: &filter::Datapath,
    mut warnings: Vec<String>,
) -> Result<HostPlan, PlanError> {
    p.sysctls = sysctls::plan(ctx, tunnel_ifaces);
    p.ruleset = filter::ruleset(ctx, tunnel_ifaces, udp_ports, datapath, &mut warnings);
    ruleset::validate(&p.ruleset).map_err(|e| PlanError::Ruleset(Box::new(e)))?;
    p.addresses.sort();
    p.fdb.sort();
    p.fdb.dedup();
    p.routes.sort();
    p.rules.sort();
    p.rules.dedup();
    p.sysctls.sort();
    p.sysctls.dedup();
    warnings.sort();
    warnings.dedup();
    p.warnings = warnings;
    Ok(p)
}

/// The cable routeagent builds itself when `cluster.cable` says so (none
/// otherwise: the cable is external): its links, addresses and FDB entries,
/// table 100 and its rule; its interface and UDP ports join
/// `tunnel_ifaces` and `udp_ports` for the packet filter.
pub(crate) fn own_cable(
    ctx: &input::Ctx<'_>,
    local: &topology::Endpoint,
    p: &mut HostPlan,
    warnings: &mut Vec<String>,
    tunnel_ifaces: &mut Vec<String>,
    udp_ports: &mut Vec<u16>,
) -> Result<(), PlanError> {
    let Some(kind) = ctx.topo.cluster.cable else {
        return Ok(());
    };
    let cable: &dyn Cable = match kind {
        topology::CableKind::Vxlan => &cable::VxlanCable,
    };
    let c = cable.plan(&cable::CableContext {
        node: ctx.node,
        local,
        remotes: &ctx.remotes,
        facts: ctx.facts,
        tunables: ctx.tunables(),
    })?;
    p.links.extend(c.links);
    p.addresses.extend(c.addresses);
    p.fdb.extend(c.fdb);
    warnings.extend(c.warnings);
    tunnel_ifaces.push(cable.ifname().to_string());
    udp_ports.extend(c.udp_ports);
    let (r, rules) = routes::cable_table(ctx, &c.peers, warnings);
    p.routes.extend(r);
    p.rules.extend(rules);
    Ok(())
}
