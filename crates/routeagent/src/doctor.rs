//! `routeagent doctor`: the probe's report, whether the cluster's network
//! plugin has a datapath this agent programs, and on the OVN datapath the
//! northbound database: its endpoint and whether it answers.

use crate::cli::{DoctorArgs, SourceKind};
use anyhow::Result;
use std::time::Duration;

/// How long `doctor` waits for the northbound database.
const NB_TIMEOUT: Duration = Duration::from_secs(5);

/// `routeagent doctor`; the exit code (2 when the datapath is not
/// supported; a northbound database that does not answer is 1, degraded).
pub fn doctor(a: DoctorArgs) -> Result<i32> {
    let caps = crate::filter::probe(&a.filter);
    let choice = capabilities::choose(&caps, a.filter.packet_filter);
    let report = probe::doctor::Report::new(&caps, choice.as_ref())
        .with_cable(probe::cable::CableFacts::detect());
    let leftovers = takeover::Leftovers::discover_now();
    let cni = match (&a.network_plugin, &a.config) {
        (Some(p), _) => topology::Cni::parse(p),
        (None, Some(path)) => topology::Topology::load(path)?.cluster.cni,
        (None, None) => topology::Cni::Generic,
    };
    let datapath = cni.datapath();
    let nb = match datapath {
        Ok(topology::Datapath::Ovn) => Some(northbound(&a)?),
        _ => None,
    };
    let mut code = match &datapath {
        Err(_) => 2,
        Ok(_) => report.exit_code(),
    };
    if nb.as_ref().is_some_and(|p| !p.answers || !p.router) {
        code = code.max(1);
    }
    if a.json {
        let mut v = report.to_json();
        v["go_agent_leftovers"] = leftovers_json(&leftovers);
        v["datapath"] = serde_json::json!({
            "cni": cni.name(),
            "supported": datapath.is_ok(),
            "datapath": datapath.as_ref().ok().map(|d| d.as_str()),
            "reason": datapath.as_ref().err().map(ToString::to_string),
        });
        if let Some(p) = &nb {
            v["ovn_northbound"] = serde_json::to_value(p)?;
        }
        v["exit_code"] = code.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{report}");
        match &datapath {
            Ok(d) => println!("datapath: {} (network plugin {})", d.as_str(), cni.name()),
            Err(e) => println!("datapath: NOT SUPPORTED: {e}"),
        }
        if let Some(p) = &nb {
            print_northbound(p);
        }
        print_leftovers(&leftovers);
        println!("\nexit status {code}");
    }
    Ok(code)
}

/// The northbound database as the agent would find it in `a.source`'s
/// mode (`OVN_NB_DB`; in Kubernetes mode discovery and certificates
/// through the API; the usual sockets), asked once (`ovn-nbctl
/// --db=ENDPOINT lr-list`, in effect). A configuration error is a probe
/// that did not answer, with the error.
fn northbound(a: &DoctorArgs) -> Result<ovn::doctor::NbProbe> {
    let rt = crate::commands::runtime()?;
    let failed = |endpoint: String, origin: String, error: String| ovn::doctor::NbProbe {
        endpoint,
        origin,
        tls: None,
        answers: false,
        router: false,
        owned: 0,
        error: Some(error),
    };
    let cfg = match a.source {
        SourceKind::File => ovn::NbConfig::from_env().map_err(|e| errchain::Chain(&e).to_string()),
        SourceKind::Kubernetes => rt.block_on(async {
            let node = a
                .node
                .as_deref()
                .ok_or("--node (NODE_NAME) is needed with --source kubernetes")?;
            let client = kube_source::client_in("default")
                .await
                .map_err(|e| errchain::Chain(&e).to_string())?;
            crate::kube::nb_config(&client, node)
                .await
                .map_err(|e| errchain::Chain(&e).to_string())
        }),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            let env = std::env::var(ovn::config::NB_DB_VAR).unwrap_or_default();
            return Ok(failed(env, String::new(), e));
        }
    };
    let probed =
        rt.block_on(async { tokio::time::timeout(NB_TIMEOUT, ovn::doctor::probe(&cfg)).await });
    Ok(probed.unwrap_or_else(|_| ovn::doctor::NbProbe {
        tls: cfg.tls_origin(),
        ..failed(
            cfg.endpoint.to_string(),
            cfg.origin.clone(),
            format!("no answer within {} s", NB_TIMEOUT.as_secs()),
        )
    }))
}

/// `doctor`'s OVN section.
fn print_northbound(p: &ovn::doctor::NbProbe) {
    println!("\nOVN northbound database: {}", p.endpoint);
    if !p.origin.is_empty() {
        println!("  from: {}", p.origin);
    }
    if let Some(t) = &p.tls {
        println!("  TLS: {t}");
    }
    if p.answers {
        println!(
            "  answers; ovn_cluster_router {}; objects routeagent owns: {}",
            if p.router { "present" } else { "MISSING" },
            p.owned
        );
    } else {
        println!("  DOES NOT ANSWER (the OVN part degrades; the host side works; exit status at least 1)");
    }
    if let Some(e) = &p.error {
        println!("  error: {e}");
        println!("  fix: set OVN_NB_DB (unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT with OVN_CERT, OVN_PK, OVN_CA) to the database ovn-nbctl uses, or fix what the error names (docs/KUBERNETES.md, OVN-Kubernetes)");
    }
}

/// `doctor`'s `go_agent_leftovers`: `{"found": [...], "kept": [...]}`, or
/// `{"error": "..."}` when the host could not be read.
fn leftovers_json(l: &Result<takeover::Leftovers, String>) -> serde_json::Value {
    match l {
        Ok(l) => serde_json::json!({"found": l.found(), "kept": l.kept()}),
        Err(e) => serde_json::json!({"error": e}),
    }
}

/// `doctor`'s section on what Submariner's Go route agent left.
fn print_leftovers(l: &Result<takeover::Leftovers, String>) {
    println!("\nSubmariner route agent leftovers (taken over at start unless --no-takeover):");
    match l {
        Ok(l) if l.is_empty() => println!("  none"),
        Ok(l) => {
            for f in l.found() {
                println!("  {f}");
            }
            for k in l.kept() {
                println!("  kept: {k}");
            }
        }
        Err(e) => println!("  cannot read the host: {e}"),
    }
}
