//! `cargo run -p probe --bin probe-doctor -- [--json] [--assume-missing a,b]`:
//! the doctor report of the current network namespace (until the CLI has
//! `routeagent doctor`). Exits with the report's status.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = probe::ProbeOptions::default();
    if let Some(i) = args.iter().position(|a| a == "--assume-missing") {
        match probe::parse_assume_missing(args.get(i + 1).map(String::as_str).unwrap_or("")) {
            Ok(f) => opts.assume_missing = f,
            Err(e) => {
                eprintln!("--assume-missing: {e}");
                std::process::exit(64);
            }
        }
    }
    let caps = probe::probe(&opts);
    let choice = capabilities::choose(&caps, capabilities::PacketFilterRequest::Auto);
    let r = probe::doctor::Report::new(&caps, choice.as_ref());
    if args.iter().any(|a| a == "--json") {
        println!("{:#}", r.to_json());
    } else {
        print!("{r}");
    }
    std::process::exit(r.exit_code());
}
