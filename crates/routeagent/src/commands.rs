//! One function per subcommand. Each returns the process exit code.

use crate::cli::*;
use crate::hostops::HostnetOps;
use agent::host::HostOps;
use agent::source::{FileSource, TopologySource};
use agent::{Reconciler, RunOptions, Status};
use anyhow::{bail, Context, Result};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Runs `cmd`; returns the exit code.
pub fn dispatch(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(a) => runtime()?.block_on(run(a)),
        Command::Plan(a) => runtime()?.block_on(plan(a)),
        Command::Apply(a) => runtime()?.block_on(apply(a)),
        Command::Uninstall(a) => runtime()?.block_on(uninstall(a)),
        Command::Doctor(a) => doctor(a),
        Command::Lab(a) => lab(a),
        Command::Bench(a) => bench(a),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// `routeagent run`.
async fn run(a: RunArgs) -> Result<i32> {
    let host = Arc::new(
        HostnetOps::new(&a.state_dir)
            .await
            .context("cannot open rtnetlink")?,
    );
    if a.uninstall {
        let code = uninstall_with(host, &a.state_dir).await?;
        if a.source == SourceKind::Kubernetes {
            crate::kube::Kube::connect(&a.node)
                .await?
                .delete_status()
                .await?;
        }
        return Ok(code);
    }
    let status = Arc::new(RwLock::new(Status {
        node: a.node.clone(),
        role: "unknown".into(),
        backend: "none".into(),
        ..Default::default()
    }));
    let (source, extra, kube) = match a.source {
        SourceKind::File => {
            let path = a
                .config
                .clone()
                .context("--config is required with --source file")?;
            (FileSource::new(path).start(), None, None)
        }
        SourceKind::Kubernetes => {
            let k = crate::kube::Kube::connect(&a.node).await?;
            k.report_every(Duration::from_secs(30), status.clone());
            (k.updates.clone(), Some(k.metrics.clone()), Some(k))
        }
    };
    let (addr, _server) = agent::http::serve(a.listen, status.clone(), extra)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    tracing::info!(%addr, node = %a.node, "serving /healthz /readyz /status /metrics");
    let _kube = kube;
    let resync = a
        .resync_seconds
        .or_else(|| {
            source
                .borrow()
                .topology
                .as_ref()
                .map(|t| t.tunables.resync_period_seconds)
        })
        .unwrap_or(30);
    let opts = RunOptions {
        resync: Duration::from_secs(resync.max(1)),
        ..Default::default()
    };
    let drift = host.monitor();
    let reconciler = Reconciler::new(a.node.clone(), host.clone() as Arc<dyn HostOps>, None);
    let filter_args = a.filter.clone();
    agent::run(
        opts,
        reconciler,
        source,
        move || crate::filter::make(&filter_args),
        drift,
        status,
        shutdown_signal(),
    )
    .await;
    Ok(0)
}

/// `routeagent apply --once`.
async fn apply(a: ApplyArgs) -> Result<i32> {
    let host = Arc::new(
        HostnetOps::new(&a.state_dir)
            .await
            .context("cannot open rtnetlink")?,
    );
    let topo = topology::Topology::load(&a.config)
        .with_context(|| format!("topology {}", a.config.display()))?;
    let filter = crate::filter::make(&a.filter).map_err(|nr| anyhow::anyhow!("{nr}"))?;
    let mut r = Reconciler::new(a.node.clone(), host as Arc<dyn HostOps>, Some(filter));
    let out = r.pass(&topo).await;
    println!(
        "role: {}; host changes: {}; packet filter: {}; {:.1} ms",
        out.role,
        out.host_changes,
        out.filter.as_str(),
        out.duration.as_secs_f64() * 1e3
    );
    for w in &out.warnings {
        println!("warning: {w}");
    }
    for e in &out.errors {
        eprintln!("error: {e}");
    }
    Ok(if out.converged() { 0 } else { 1 })
}

/// `routeagent uninstall`.
async fn uninstall(a: UninstallArgs) -> Result<i32> {
    let host = Arc::new(
        HostnetOps::new(&a.state_dir)
            .await
            .context("cannot open rtnetlink")?,
    );
    uninstall_with(host, &a.state_dir).await
}

async fn uninstall_with(host: Arc<HostnetOps>, state_dir: &std::path::Path) -> Result<i32> {
    let mut errors = vec![];
    // Whatever backend any version used: remove from nftables and both iptables variants.
    let owned = agent::reconcile::owned();
    match packetfilter_nftables::Nftables::new() {
        Ok(b) => {
            if let Err(e) = packetfilter::Backend::remove(&b, &owned) {
                errors.push(format!("nftables: {e}"));
            }
        }
        Err(e) => tracing::debug!(error = %e, "nftables unavailable; nothing to remove there"),
    }
    for v in [
        capabilities::IptablesVariant::Nft,
        capabilities::IptablesVariant::Legacy,
    ] {
        let b = packetfilter_iptables::Iptables::new(v, true);
        if let Err(e) = packetfilter::Backend::remove(&b, &owned) {
            tracing::debug!(variant = ?v, error = %e, "iptables removal skipped");
        }
    }
    if let Err(e) = host.remove_all().await {
        errors.push(format!("host: {e}"));
    }
    if errors.is_empty() {
        println!(
            "uninstalled: packet filter, links, routes, rules removed; sysctls restored from {}",
            state_dir.display()
        );
        Ok(0)
    } else {
        for e in &errors {
            eprintln!("error: {e}");
        }
        Ok(1)
    }
}

/// `routeagent plan`: no privileges needed; assumes a fully capable host
/// (minus --assume-missing) and the interfaces it can see.
async fn plan(a: PlanArgs) -> Result<i32> {
    let topo = topology::Topology::load(&a.config)
        .with_context(|| format!("topology {}", a.config.display()))?;
    let node = topo.node(&a.node)?.clone();
    let mut caps = capabilities::Capabilities::full();
    for f in &a.filter.assume_missing {
        caps.assume_missing(*f);
    }
    let constructs = capabilities::choose(&caps, a.filter.packet_filter)
        .map_err(|nr| anyhow::anyhow!("{nr}"))?;
    let public = topo
        .active_gateway()
        .filter(|g| g.hostname == a.node)
        .and_then(|g| g.public_ip);
    let facts = match hostnet::facts::discover(
        node.ip,
        &topo.cluster.cluster_cidrs,
        topo.tunables.cni_interface.as_deref(),
        public,
    )
    .await
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("note: interfaces not discovered ({e}); assuming uplink eth0 (MTU 1500) holding the node IP and no CNI interface");
            plan::HostFacts {
                uplink: plan::Iface {
                    name: "eth0".into(),
                    mtu: 1500,
                    addr: node.ip,
                },
                cni: None,
                public: None,
            }
        }
    };
    let p = plan::plan(&plan::PlanInput {
        topology: &topo,
        node: &a.node,
        facts: &facts,
        constructs: &constructs,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(0);
    }
    println!(
        "# node {} ({}), backend {} ({} layout)",
        a.node,
        if topo.is_gateway(&a.node) {
            "gateway"
        } else {
            "non-gateway"
        },
        constructs.backend,
        format!("{:?}", constructs.layout).to_lowercase()
    );
    for d in &constructs.degradations {
        println!("# degraded: {}: {}", d.feature, d.reason);
    }
    for w in &p.warnings {
        println!("# warning: {w}");
    }
    println!("\n# host networking");
    for c in plan::ip_commands(&p) {
        println!("{c}");
    }
    println!("\n# packet filter (nft -f)");
    print!("{}", ruleset::render::replace_script(&p.ruleset));
    Ok(0)
}

/// `routeagent doctor`.
fn doctor(a: DoctorArgs) -> Result<i32> {
    let caps = crate::filter::probe(&a.filter);
    let choice = capabilities::choose(&caps, a.filter.packet_filter);
    let report = probe::doctor::Report::new(&caps, choice.as_ref());
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{report}");
    }
    Ok(report.exit_code())
}

/// `routeagent lab`.
fn lab(a: LabArgs) -> Result<i32> {
    let exe = std::env::current_exe().context("cannot find the routeagent binary")?;
    crate::hostops::lab(a, exe)
}

/// `routeagent bench`.
fn bench(a: BenchArgs) -> Result<i32> {
    match a.what {
        BenchWhat::Filter { cidrs, runs, json } => {
            if runs == 0 || cidrs == 0 {
                bail!("--cidrs and --runs must be at least 1");
            }
            let r = bench::filter::run(cidrs, runs)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{r}");
            }
        }
        BenchWhat::Reconcile {
            remote_clusters,
            json,
        } => {
            let exe = std::env::current_exe().context("cannot find the routeagent binary")?;
            let r =
                bench::reconcile::run(&exe, remote_clusters).map_err(|e| anyhow::anyhow!("{e}"))?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!("{r}");
            }
        }
    }
    Ok(0)
}
