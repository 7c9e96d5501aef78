//! [`Host`]: an rtnetlink connection plus the sysctl journal; converges a
//! [`HostPlan`] and removes everything the agent owns.

use crate::error::{Error, Result};
use crate::links::{ensure_vxlan, is_owned_name, list_links, list_owned_links, remove_link};
use crate::report::{ConvergeReport, Outcome};
use crate::snapshot::HostSnapshot;
use crate::sysctl::{ensure_sysctls, restore, SysctlJournal};
use crate::{addresses, fdb, routes, rules};
use plan::{FactsQuery, HostFacts, HostPlan};
use rtnetlink::Handle;

/// The host's networking, as the agent programs it.
#[derive(Debug)]
pub struct Host {
    handle: Handle,
    journal: SysctlJournal,
    /// The plan the kernel is known to hold: the last one a converge
    /// brought the host to without an error.
    last: Option<HostPlan>,
    /// The notices of the last converge, logged again only when they change.
    notices: Vec<String>,
}

impl Host {
    /// Opens an rtnetlink socket (strict checking on when the kernel has it,
    /// for filtered dumps) in the calling thread's network namespace
    /// and spawns its connection task on the current tokio runtime (any
    /// flavour, IO enabled; a current-thread runtime made inside
    /// `NetNs::run` works). Starts with an empty sysctl journal.
    pub fn new() -> Result<Host> {
        Host::with_journal(SysctlJournal::default())
    }

    /// Like [`Host::new`], resuming a journal the agent persisted.
    pub fn with_journal(journal: SysctlJournal) -> Result<Host> {
        let rt = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let (conn, handle, _strict) =
            crate::netlink::connect().map_err(|cause| Error::Socket { cause })?;
        rt.spawn(conn);
        Ok(Host {
            handle,
            journal,
            last: None,
            notices: Vec::new(),
        })
    }

    /// The rtnetlink handle, for the per-object functions of this crate.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The facts the planner needs, answering `q` (`ip -j link` + `ip -j
    /// addr`): the one way into discovery.
    pub async fn discover(&self, q: &FactsQuery) -> Result<HostFacts> {
        crate::facts::discover(&self.handle, q).await
    }

    /// [`crate::snapshot::snapshot_with`] on this host's connection.
    pub async fn snapshot(&self, sysctl_keys: &[&str]) -> Result<HostSnapshot> {
        crate::snapshot::snapshot_with(&self.handle, sysctl_keys).await
    }

    /// Original values of the sysctls changed so far (persist it).
    pub fn journal(&self) -> &SysctlJournal {
        &self.journal
    }

    /// The notices of the last full converge (settings left as they are,
    /// each with its fix); a converge of changes keeps them.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Adds journaled originals found elsewhere (another copy of the
    /// journal); keys already journaled here keep their value.
    pub fn merge_journal(&mut self, other: &SysctlJournal) {
        for (k, v) in &other.originals {
            self.journal
                .originals
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
    }

    /// [`crate::sysctl::record_originals`] for `plan`'s sysctls: journals
    /// the originals of the keys a converge would change, writing nothing;
    /// true when the journal grew (persist it before converging).
    pub async fn record_sysctl_originals(&mut self, plan: &HostPlan) -> bool {
        crate::sysctl::record_originals(&self.handle, &plan.sysctls, &mut self.journal).await
    }

    /// Brings links, addresses, FDB entries, routes, rules and sysctls to
    /// `plan` (not the packet filter), touching only what the agent owns.
    /// Idempotent: on a host that already matches, nothing is sent to the
    /// kernel and the report counts zero changes. One object failing does
    /// not stop the others: its error is in the report. `Err` only when the
    /// links cannot even be listed (no usable netlink connection).
    pub async fn converge(&mut self, plan: &HostPlan) -> Result<ConvergeReport> {
        self.last = None;
        let report = self.converge_all(plan).await?;
        if report.errors.is_empty() {
            self.last = Some(plan.clone());
        }
        Ok(report)
    }

    /// Like [`Host::converge`], but trusting that the kernel still holds
    /// the plan of the last successful converge: when only routes and FDB
    /// entries differ from it, sends just those (no dumps); otherwise, or
    /// when any of those requests fails, does a full [`Host::converge`]. What a
    /// topology change costs; drift is the monitor's and the periodic full
    /// converge's job.
    pub async fn converge_changes(&mut self, plan: &HostPlan) -> Result<ConvergeReport> {
        let Some(last) = self.last.take() else {
            return self.converge(plan).await;
        };
        if !only_routes_and_fdb_differ(&last, plan) {
            return self.converge(plan).await;
        }
        let links = list_links(&self.handle).await?;
        let mut report = ConvergeReport::default();
        for r in routes::apply_route_delta(&self.handle, &last.routes, &plan.routes, &links).await {
            report.note(|r| &mut r.routes, r);
        }
        for r in fdb::apply_fdb_delta(&self.handle, &last.fdb, &plan.fdb, &links).await {
            report.note(|r| &mut r.fdb, r);
        }
        if !report.errors.is_empty() {
            tracing::info!(
                errors = report.errors.len(),
                "route or FDB delta incomplete; converging in full"
            );
            return self.converge(plan).await;
        }
        if !report.is_noop() {
            tracing::info!(%report, "host converged (changes only)");
        }
        self.last = Some(plan.clone());
        Ok(report)
    }

    async fn converge_all(&mut self, plan: &HostPlan) -> Result<ConvergeReport> {
        let h = &self.handle;
        let mut report = ConvergeReport::default();
        let before = list_links(h).await?;
        for link in &plan.links {
            if !is_owned_name(&link.name) {
                report.errors.push(Error::Invalid {
                    object: format!("link {}", link.name),
                    reason: format!(
                        "not a name the agent owns ({:?}); hostnet only creates its own links",
                        plan::host::ownership::LINKS
                    ),
                });
                continue;
            }
            let r = ensure_vxlan(h, link, &before).await;
            report.note(|r| &mut r.links, r);
        }
        for l in before.by_name.values().filter(|l| l.is_owned()) {
            if !plan.links.iter().any(|p| p.name == l.name) {
                let r = remove_link(h, &l.name).await;
                report.note(|r| &mut r.links, r);
            }
        }
        let links = match list_links(h).await {
            Ok(l) => l,
            Err(e) => {
                report.errors.push(e);
                return Ok(report);
            }
        };
        let step = addresses::ensure_addresses(h, &plan.addresses, &links).await;
        collect(&mut report, |r| &mut r.addresses, step);
        let step = fdb::ensure_fdb(h, &plan.fdb, &plan.links, &links).await;
        collect(&mut report, |r| &mut r.fdb, step);
        let step = routes::ensure_routes(h, &plan.routes, &links).await;
        collect(&mut report, |r| &mut r.routes, step);
        let step = rules::ensure_rules(h, &plan.rules).await;
        collect(&mut report, |r| &mut r.rules, step);
        ensure_sysctls(h, &plan.sysctls, &mut self.journal, &mut report).await;
        if report.links.total() + report.addresses.total() + report.fdb.total() > 0 {
            announce_tunnels(plan);
        }
        if !report.is_noop() {
            tracing::info!(%report, "host converged");
        }
        if report.notices != self.notices {
            for n in &report.notices {
                tracing::warn!(notice = %n, "host setting left as it is");
            }
            self.notices.clone_from(&report.notices);
        }
        Ok(report)
    }

    /// Removes everything the agent owns: its links ([`crate::links::LinkState::is_owned`]:
    /// never Submariner's `vxlan-tunnel`; their addresses, FDB entries and
    /// routes go with them), proto-166 routes in every table, its proto-166
    /// rules; then restores the journaled sysctls (keys of removed links are
    /// skipped). Equals `ip link del vx-submariner; ip route flush table all
    /// proto 166; ip rule del pref P lookup T proto 166 ...; sysctl -w KEY=ORIG`.
    /// Idempotent.
    pub async fn remove_all(&mut self) -> Result<ConvergeReport> {
        self.last = None;
        let h = &self.handle;
        let mut report = ConvergeReport::default();
        match list_owned_links(h).await {
            Ok(list) => {
                for l in list {
                    let r = remove_link(h, &l.name).await;
                    report.note(|r| &mut r.links, r);
                }
            }
            Err(e) => report.errors.push(e),
        }
        match routes::list_owned_routes(h).await {
            Ok(list) => {
                for r in list {
                    let r = routes::delete_route(h, &r).await;
                    report.note(|r| &mut r.routes, r);
                }
            }
            Err(e) => report.errors.push(e),
        }
        match rules::list_owned_rules(h).await {
            Ok(mut list) => {
                list.sort_by_key(|o| o.protocol == 0);
                for r in list {
                    let r = rules::delete_rule(h, &r).await;
                    report.note(|r| &mut r.rules, r);
                }
            }
            Err(e) => report.errors.push(e),
        }
        for r in restore(h, &mut self.journal).await {
            report.note(|r| &mut r.sysctls, r);
        }
        Ok(report)
    }
}

/// After links, addresses or FDB entries changed: one gratuitous ARP per
/// IPv4 address of each owned link (see [`crate::announce`]), so peers that
/// asked before this end was ready stop waiting for their next retry.
/// Best effort: a failure is logged, the pass is not failed for it.
fn announce_tunnels(plan: &HostPlan) {
    for a in plan.addresses.iter().filter(|a| is_owned_name(&a.dev)) {
        if let ipnet::IpNet::V4(net) = a.addr {
            if let Err(e) = crate::announce::announce(&a.dev, net.addr()) {
                tracing::warn!(error = %e, "cannot announce the tunnel address");
            }
        }
    }
}

fn collect(
    report: &mut ConvergeReport,
    kind: fn(&mut ConvergeReport) -> &mut crate::report::Changes,
    step: Result<Vec<Result<Outcome>>>,
) {
    match step {
        Ok(results) => {
            for r in results {
                report.note(kind, r);
            }
        }
        Err(e) => report.errors.push(e),
    }
}

/// Whether `a` and `b` differ at most in routes and FDB entries (the packet
/// filter and the warnings are not the host's business). Destructured, so a
/// new `HostPlan` field must be classified here.
fn only_routes_and_fdb_differ(a: &HostPlan, b: &HostPlan) -> bool {
    let HostPlan {
        links,
        addresses,
        fdb: _,
        routes: _,
        rules,
        sysctls,
        ruleset: _,
        warnings: _,
    } = a;
    *links == b.links && *addresses == b.addresses && *rules == b.rules && *sysctls == b.sysctls
}
