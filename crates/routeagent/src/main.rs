//! The `routeagent` binary: thin wiring of the library crates.
//!
//! # Layout
//! - [`cli`]: clap definitions (flags and their environment variables).
//! - [`filter`]: probe -> choose -> construct the packet-filter backend.
//! - [`host`]: the agent's `HostOps` over `hostnet`, the sysctl journal
//!   file, the netlink monitor as drift events.
//! - [`kube`]: the Kubernetes source, health checks and RouteAgent status.
//! - [`commands`]: one function per subcommand.
//! - [`doctor`]: `routeagent doctor` (probe report, datapath, OVN
//!   northbound database).
//! - [`uninstall`]: `routeagent uninstall` and `run --uninstall` (host,
//!   packet filter, and the OVN northbound rows on that datapath).

mod cli;
mod commands;
mod doctor;
mod filter;
mod host;
mod kube;
mod uninstall;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(cli.log_filter())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let code = match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}`: the error and each of its causes once, joined by ": "
            // (library errors never repeat their source in their message).
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
