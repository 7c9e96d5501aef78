//! One function per subcommand. Each returns the process exit code.

use crate::cli::*;
use crate::host::HostnetOps;
use crate::uninstall::uninstall_with;
use agent::host::HostOps;
use agent::source::{FileSource, TopologySource};
use agent::{Agent, Reconciler, RunOptions, Status};
use anyhow::{bail, Context, Result};
use std::sync::Arc;
use std::time::Duration;

/// Runs `cmd`; returns the exit code.
pub fn dispatch(cmd: Command) -> Result<i32> {
    match cmd {
        Command::Run(a) => runtime()?.block_on(run(a)),
        Command::Plan(a) => runtime()?.block_on(plan(a)),
        Command::Apply(a) => runtime()?.block_on(apply(a)),
        Command::Uninstall(a) => runtime()?.block_on(uninstall(a)),
        Command::Doctor(a) => crate::doctor::doctor(a),
        Command::WaitForNode(a) => runtime()?.block_on(wait_for_node(a)),
        Command::Lab(a) => lab(a),
        Command::Bench(a) => bench(a),
    }
}

/// A current-thread runtime with IO and timers.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
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
    let host = Arc::new(HostnetOps::new(&a.state_dir).await?);
    if a.uninstall {
        let kube = match a.source {
            SourceKind::Kubernetes => Some(crate::kube::Kube::connect(&a.node).await?),
            SourceKind::File => None,
        };
        if let Some(k) = &kube {
            // The operator's DaemonSet mounts no state dir: the originals
            // may only be on the RouteAgent.
            host.merge_journal(&k.sysctl_originals().await?).await;
        }
        // The datapath decides whether northbound rows are ours to remove.
        let plugin = match (&a.source, &a.config) {
            (SourceKind::File, Some(path)) => topology::Topology::load(path)
                .ok()
                .map(|t| t.cluster.cni.name().to_string()),
            _ => std::env::var("SUBMARINER_NETWORKPLUGIN").ok(),
        };
        let nb = match &kube {
            Some(k) => k.nb_config().await,
            None => ovn::NbConfig::from_env(),
        };
        let code = uninstall_with(host.as_ref(), &a.state_dir, plugin.as_deref(), nb).await;
        if let Some(k) = kube {
            k.delete_status().await?;
        }
        return Ok(code);
    }
    let status = Status::shared(a.node.clone());
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
            let found = k.sysctl_originals().await?;
            host.keep_journal_in(&found, k.journal_store()).await;
            k.report_every(Duration::from_secs(30), status.clone());
            k.keep_route_objects(status.clone());
            (k.updates.clone(), Some(k.metrics.clone()), Some(k))
        }
    };
    let (addr, _server) = agent::http::serve(a.listen, status.clone(), extra)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    tracing::info!(%addr, node = %a.node, "serving /healthz /readyz /status /metrics");
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
    let filter_args = a.filter.clone();
    // Started by the first pass that plans the OVN datapath; a bad
    // configuration or a failed discovery is its degraded reason.
    let nb = match &kube {
        Some(k) => k.nb_config().await,
        None => ovn::NbConfig::from_env(),
    };
    let ovn = agent::ovn::OvnSide::new(nb, status.clone());
    let reconciler = with_takeover(
        Reconciler::new(a.node.clone(), host as Arc<dyn HostOps>, None),
        a.no_takeover,
    )
    .with_ovn(ovn);
    let agent = Agent {
        reconciler,
        source,
        make_filter: move || crate::filter::make(&filter_args),
        drift: crate::host::monitor::start(),
        status,
    };
    agent::run(opts, agent, shutdown_signal()).await;
    if let Some(k) = kube {
        k.stopped().await;
    }
    Ok(0)
}

/// `routeagent apply --once`.
async fn apply(a: ApplyArgs) -> Result<i32> {
    let host = Arc::new(HostnetOps::new(&a.state_dir).await?);
    let topo = topology::Topology::load(&a.config)?;
    let filter = crate::filter::make(&a.filter).map_err(|nr| anyhow::anyhow!("{nr}"))?;
    let mut r = with_takeover(
        Reconciler::new(a.node.clone(), host as Arc<dyn HostOps>, Some(filter)),
        a.no_takeover,
    );
    let out = r.pass(&topo).await;
    println!(
        "role: {}; host changes: {}; packet filter: {}; {:.1} ms",
        out.role.map_or("unknown", plan::Role::as_str),
        out.host_changes,
        out.filter.as_str(),
        out.duration.as_secs_f64() * 1e3
    );
    for w in &out.warnings {
        println!("warning: {w}");
    }
    if let Some(t) = &out.takeover {
        print_takeover(t);
    }
    for e in out.error_lines() {
        eprintln!("error: {e}");
    }
    let mut code = if out.converged() { 0 } else { 1 };
    if topo.cluster.cni.datapath() == Ok(topology::Datapath::Ovn) {
        code = code.max(crate::uninstall::northbound_once(out.northbound.as_ref()).await);
    }
    Ok(code)
}

/// `r` with the takeover from Submariner's Go route agent (only reporting
/// when `disabled`); without it when rtnetlink cannot be opened (logged).
fn with_takeover(r: Reconciler, disabled: bool) -> Reconciler {
    match takeover::GoAgentTakeover::new(!disabled) {
        Ok(t) => r.with_takeover(Arc::new(t)),
        Err(e) => {
            tracing::warn!(error = %errchain::Chain(&e), "cannot look for Submariner's route agent's leftovers");
            r
        }
    }
}

/// Prints a takeover report, one line per object.
fn print_takeover(t: &agent::takeover::TakeoverReport) {
    for (what, lines) in [
        ("adopted", &t.adopted),
        ("removed", &t.removed),
        ("kept (not the Go agent's)", &t.kept),
        ("conflict", &t.conflicts),
        ("takeover error", &t.errors),
    ] {
        for l in lines {
            println!("{what}: {l}");
        }
    }
}

/// `routeagent wait-for-node`: returns 0 once the Node exists.
async fn wait_for_node(a: WaitForNodeArgs) -> Result<i32> {
    let client = kube_source::client_in("default").await?;
    kube_source::wait_for_node(client, &a.node, Duration::from_millis(a.every_ms.max(1))).await;
    Ok(0)
}

/// `routeagent uninstall`.
async fn uninstall(a: UninstallArgs) -> Result<i32> {
    let host = HostnetOps::new(&a.state_dir).await?;
    let nb = ovn::NbConfig::from_env();
    Ok(uninstall_with(&host, &a.state_dir, a.network_plugin.as_deref(), nb).await)
}

/// `routeagent plan`: no privileges needed; assumes a fully capable host
/// (minus --assume-missing) and the interfaces it can see.
async fn plan(a: PlanArgs) -> Result<i32> {
    let topo = topology::Topology::load(&a.config)?;
    let query = plan::FactsQuery::new(&topo, &a.node)?;
    let mut caps = capabilities::Capabilities::full();
    for f in &a.filter.assume_missing {
        caps.assume_missing(*f);
    }
    let constructs = capabilities::choose(&caps, a.filter.packet_filter)
        .map_err(|nr| anyhow::anyhow!("{nr}"))?;
    let host = hostnet::Host::new();
    let discovered = match &host {
        Ok(h) => h
            .discover(&query)
            .await
            .map_err(|e| errchain::Chain(&e).to_string()),
        Err(e) => Err(errchain::Chain(e).to_string()),
    };
    let facts = match discovered {
        Ok(f) => f,
        Err(e) => {
            eprintln!("note: interfaces not discovered ({e}); assuming uplink eth0 (MTU 1500) holding the node IP and no CNI interface");
            plan::HostFacts {
                uplink: plan::Iface {
                    name: "eth0".into(),
                    mtu: 1500,
                    addr: query.node_ip,
                },
                cni: None,
                public: None,
                default_route: None,
                next_hops: Default::default(),
            }
        }
    };
    let input = plan::PlanInput {
        topology: &topo,
        node: &a.node,
        facts: &facts,
        constructs: &constructs,
    };
    // On the OVN datapath, what the node wants in its northbound database.
    let mut northbound = None;
    let p = match topo.cluster.cni.datapath()? {
        topology::Datapath::KubeProxy => plan::plan(&input)?,
        // As the agent plans it: from `ovn-k8s-mp0` as found here (none:
        // the plan says so in its warnings).
        topology::Datapath::Ovn => {
            let ovn = match &host {
                Ok(h) => hostnet::ovn::ovn_facts(h.handle(), &topo.cluster.cluster_cidrs).await?,
                Err(_) => plan::OvnFacts {
                    mp0: plan::ovn::MP0.into(),
                    mp0_addr: None,
                    router: None,
                },
            };
            northbound = Some(ovn::topo::wanted(&topo, &a.node, ovn.mp0_addr));
            plan::plan_ovn(&input, &ovn)?
        }
    };
    if a.json {
        let mut v = serde_json::to_value(&p)?;
        if let Some(want) = &northbound {
            v["northbound"] = serde_json::json!({
                "role": want.as_ref().map(|d| d.role),
                "commands": want.as_ref().map(ovn::Desired::commands).unwrap_or_default(),
            });
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "# node {} ({}), backend {} ({} layout)",
        a.node,
        query.role,
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
    match &northbound {
        Some(Some(want)) => {
            println!("\n# OVN northbound ({}; every row carries external_ids submariner.io/owner=routeagent)", want.role);
            for c in want.commands() {
                println!("{c}");
            }
        }
        Some(None) => println!("\n# OVN northbound: nothing for this node to write"),
        None => {}
    }
    println!("\n# packet filter (nft -f)");
    print!("{}", ruleset::render::replace_script(&p.ruleset));
    Ok(0)
}

/// `routeagent lab ...`: the lab crate does the work and the printing.
fn lab(a: LabArgs) -> Result<i32> {
    let mut config = lab::LabConfig::new(&a.prefix);
    config.clusters = a.clusters;
    config.nodes = a.nodes;
    config.agent_binary = std::env::current_exe().context("cannot find the routeagent binary")?;
    config.cable = match a.cable {
        LabCable::Vxlan => lab::Cable::Vxlan,
        LabCable::Wireguard => lab::Cable::Wireguard,
        LabCable::Mixed => lab::Cable::Mixed,
    };
    config.globalnet = a.globalnet;
    config.agents = match a.agents {
        LabAgents::Process => lab::AgentMode::Process,
        LabAgents::Container => lab::AgentMode::Container,
    };
    config.image = a.image;
    if a.cni == LabCni::OvnKubernetes {
        if a.action != LabAction::Demo || a.takeover || a.agents != LabAgents::Process {
            bail!(
                "--cni ovn-kubernetes goes with `lab demo` and process agents, without --takeover"
            );
        }
        let r = lab::checks::ovn::demo(config);
        print_report(&r, a.json)?;
        return Ok(i32::from(!r.passed()));
    }
    if a.takeover {
        if a.action != LabAction::Demo {
            bail!("--takeover goes with `lab demo`");
        }
        let r = lab::checks::takeover::demo(config);
        print_report(&r, a.json)?;
        return Ok(i32::from(!r.passed()));
    }
    let action = match a.action {
        LabAction::Up => lab::cli::Action::Up,
        LabAction::Down => lab::cli::Action::Down,
        LabAction::Status => lab::cli::Action::Status,
        LabAction::Demo => lab::cli::Action::Demo,
    };
    Ok(lab::cli::run(action, config, a.json)?)
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
        BenchWhat::Failover { runs, prefix, json } => {
            let r = lab::bench::failover(lab_config(&prefix)?, runs)?;
            print_report(&r, json)?;
            return Ok(i32::from(!r.met));
        }
        BenchWhat::Throughput {
            pairs,
            secs,
            prefix,
            json,
        } => {
            let r = lab::bench::throughput(lab_config(&prefix)?, pairs, secs)?;
            print_report(&r, json)?;
            return Ok(i32::from(!r.met));
        }
    }
    Ok(0)
}

/// A 2 x 3 lab named `prefix` running this binary, for the lab benchmarks.
fn lab_config(prefix: &str) -> Result<lab::LabConfig> {
    let mut c = lab::LabConfig::new(prefix);
    c.agent_binary = std::env::current_exe().context("cannot find the routeagent binary")?;
    Ok(c)
}

/// Prints a benchmark report: one JSON object, or its text.
fn print_report<R: serde::Serialize + std::fmt::Display>(r: &R, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        println!("{r}");
    }
    Ok(())
}
