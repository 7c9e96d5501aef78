//! `cargo run --release -p bench --example filter -- N RUNS`: the filter
//! benchmark, human-readable and as JSON.

fn main() {
    let mut args = std::env::args().skip(1);
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    match bench::filter::run(n, runs) {
        Ok(r) => {
            print!("{r}");
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        }
        Err(e) => {
            eprintln!("error: {}", errchain::Chain(&e));
            std::process::exit(1);
        }
    }
}
