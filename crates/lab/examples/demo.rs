//! Drives the lab against a routeagent binary, as `routeagent lab` does:
//! `cargo run -p lab --example demo -- BINARY [up|down|status|demo|CHECK]
//! [--clusters C] [--nodes N] [--prefix P] [--json]` (default: demo).

use lab::cli::{run, Action};
use lab::{checks, Lab, LabConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(bin) = args.first() else {
        eprintln!("usage: demo BINARY [up|down|status|demo|CHECK] [--clusters C] [--nodes N] [--prefix P] [--json]");
        std::process::exit(2);
    };
    let mut c = LabConfig::new("raex");
    let mut what = "demo".to_string();
    let mut json = false;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let mut num = || it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        match a.as_str() {
            "--clusters" => c.clusters = num(),
            "--nodes" => c.nodes = num(),
            "--prefix" => {
                c = LabConfig {
                    prefix: it.next().cloned().unwrap_or_default(),
                    ..c
                }
            }
            "--json" => json = true,
            other => what = other.to_string(),
        }
    }
    c.work_dir = std::env::temp_dir().join(&c.prefix);
    c.agent_binary = bin.into();
    let action = match what.as_str() {
        "up" => Some(Action::Up),
        "down" => Some(Action::Down),
        "status" => Some(Action::Status),
        "demo" => Some(Action::Demo),
        _ => None,
    };
    if let Some(action) = action {
        match run(action, c, json) {
            Ok(code) => std::process::exit(code),
            Err(e) => {
                eprintln!("lab {what}: {}", errchain::Chain(&e));
                std::process::exit(1);
            }
        }
    }
    let Some(f) = checks::SEQUENCE
        .iter()
        .chain(
            [(
                "three-clusters",
                checks::three_clusters::run as checks::CheckFn,
            )]
            .iter(),
        )
        .find(|(n, _)| *n == what)
        .map(|(_, f)| *f)
    else {
        eprintln!("no check {what}");
        std::process::exit(2);
    };
    let mut lab = Lab::up(c).unwrap_or_else(|e| {
        eprintln!("up failed: {}", errchain::Chain(&e));
        std::process::exit(1)
    });
    match f(&mut lab) {
        Ok(d) => println!("PASS {what}: {d}"),
        Err(e) => println!("FAIL {what}: {}", errchain::Chain(&e)),
    }
    println!("figures: {:?}", lab.figures);
}
