//! What `routeagent lab up|down|status|demo` does, printing included, so
//! the binary only parses flags and calls [`run`].

use crate::{demo, down_prefix, ns, status_prefix, Lab, LabConfig, Result};

/// A `routeagent lab` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Build the lab, start the agents, wait for convergence, leave it running.
    Up,
    /// Remove everything a lab with the prefix made (idempotent).
    Down,
    /// Namespaces and each agent's `/status`.
    Status,
    /// Up, every check, down; the summary or one JSON object.
    Demo,
}

/// Runs `action`, printing to stdout; the process exit code (demo: 0 when
/// every check passed, else 1; status: 1 when no lab with the prefix exists).
pub fn run(action: Action, config: LabConfig, json: bool) -> Result<i32> {
    match action {
        Action::Up => {
            let lab = Lab::up(config.clone())?;
            if json {
                println!("{}", lab.status());
            } else {
                let names = ns::existing(&config.prefix);
                println!(
                    "lab {} is up: {} clusters x {} nodes in {} namespaces, {} agents converged \
                     in {} ms\n  topology files, agent logs and state: {}\n  \
                     enter a node: ip netns exec {}-a1 bash    tear down: routeagent lab down --prefix {}",
                    config.prefix,
                    config.clusters,
                    config.nodes,
                    names.len(),
                    config.clusters * config.nodes,
                    lab.figures.converge_ms.unwrap_or_default(),
                    config.work_dir.display(),
                    config.prefix,
                    config.prefix
                );
            }
            lab.detach();
            Ok(0)
        }
        Action::Down => {
            let n = ns::existing(&config.prefix).len();
            down_prefix(&config.prefix, &config.work_dir)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"prefix": config.prefix, "removed_namespaces": n})
                );
            } else {
                println!("lab {}: removed {n} namespaces", config.prefix);
            }
            Ok(0)
        }
        Action::Status => {
            let s = status_prefix(&config.prefix, config.listen_port);
            let exists = s["namespaces"].as_array().is_some_and(|a| !a.is_empty());
            if json {
                println!("{s}");
            } else if !exists {
                println!("no lab with prefix {}", config.prefix);
            } else {
                println!(
                    "lab {}: {} namespaces",
                    config.prefix,
                    s["namespaces"].as_array().map_or(0, Vec::len)
                );
                for (node, st) in s["agents"].as_object().into_iter().flatten() {
                    match st.get("error") {
                        Some(e) => println!("  {node:<4} unreachable: {e}"),
                        None => println!(
                            "  {node:<4} {:<11} converged={} backend={} digest={} degradations={}",
                            st["role"].as_str().unwrap_or("?"),
                            st["converged"],
                            st["backend"].as_str().unwrap_or("?"),
                            st["config_digest"].as_str().unwrap_or("?"),
                            st["degradations"].as_array().map_or(0, Vec::len)
                        ),
                    }
                }
            }
            Ok(if exists { 0 } else { 1 })
        }
        Action::Demo => {
            let report = demo(config);
            if json {
                println!("{}", report.to_json());
            } else {
                println!("{report}");
            }
            Ok(if report.passed() { 0 } else { 1 })
        }
    }
}
