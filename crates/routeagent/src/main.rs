//! The `routeagent` binary: thin wiring of the library crates.
//!
//! # Layout
//! - [`cli`]: clap definitions (flags and their environment variables).
//! - [`filter`]: probe -> choose -> construct the packet-filter backend.
//! - [`hostops`]: the agent's `HostOps` over `hostnet`.
//! - [`commands`]: one function per subcommand.

mod cli;
mod commands;
mod filter;
mod hostops;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let code = match commands::dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}
