//! Runs the lab demo (or one check) against a routeagent binary:
//! `cargo run -p lab --example demo -- BINARY [CHECK] [--clusters C] [--nodes N] [--json]`.

use lab::{checks, Lab, LabConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(bin) = args.first() else {
        eprintln!("usage: demo BINARY [CHECK|up|down] [--clusters C] [--nodes N] [--json]");
        std::process::exit(2);
    };
    let mut c = LabConfig::new("raex");
    c.agent_binary = bin.into();
    let mut check = None;
    let mut json = false;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--clusters" => c.clusters = it.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--nodes" => c.nodes = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--json" => json = true,
            other => check = Some(other.to_string()),
        }
    }
    let Some(name) = check else {
        let report = lab::demo(c);
        if json {
            println!("{}", report.to_json());
        } else {
            println!("{report}");
        }
        std::process::exit(if report.passed() { 0 } else { 1 });
    };
    if name == "down" {
        lab::down_prefix(&c.prefix, &c.work_dir).expect("down");
        return;
    }
    let t = std::time::Instant::now();
    let mut lab = Lab::up(c).unwrap_or_else(|e| {
        eprintln!("up failed: {e}");
        std::process::exit(1)
    });
    eprintln!("up in {:?}: {}", t.elapsed(), lab.status());
    let f = checks::SEQUENCE
        .iter()
        .chain([("three-clusters", checks::three_clusters::run as checks::CheckFn)].iter())
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f);
    match f {
        Some(f) => match f(&mut lab) {
            Ok(d) => println!("PASS {name}: {d}"),
            Err(e) => println!("FAIL {name}: {e}"),
        },
        None if name == "up" => {
            lab.detach();
            return;
        }
        None => eprintln!("no check {name}"),
    }
    println!("figures: {:?}", lab.figures);
}
