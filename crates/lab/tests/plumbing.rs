//! The lab's namespaces and traffic helpers, without the agent: nodes are
//! programmed by hand (see `manual` in the crate's unit tests). Needs root.

use lab::{Lab, LabConfig};

fn config(prefix: &str, clusters: usize, nodes: usize) -> LabConfig {
    let mut c = LabConfig::new(prefix);
    c.clusters = clusters;
    c.nodes = nodes;
    c.work_dir = std::env::temp_dir().join(prefix);
    c
}

fn root_state() -> String {
    netns::current_state()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn network_builds_and_goes_away_leaving_root_untouched() {
    netns::require_root();
    let before = root_state();
    let cfg = config("rapl1", 2, 3);
    let mut lab = Lab::up_network(cfg.clone()).unwrap();
    let names = lab::ns::existing("rapl1");
    assert_eq!(names.len(), 1 + 2 * (1 + 3 * 2), "{names:?}");
    // Pods reach each other inside a cluster (CNI-like host-gw routing).
    let a1 = lab.plan.node("a1").unwrap().clone();
    let a3 = lab.plan.node("a3").unwrap().clone();
    lab::traffic::ping(&a1.pod_ns, a3.pod_ip).unwrap();
    // Gateways reach each other over the underlay.
    let b2 = lab.plan.node("b2").unwrap().clone();
    lab::traffic::ping(&a1.ns, b2.public_ip.unwrap()).unwrap();
    // The CNI-like table is there, as rendered.
    let t = lab::ns::exec(&a1.ns, "nft", &["list", "table", "ip", "cni-like"]).unwrap();
    assert_eq!(t, lab::build::cni_table(&lab.plan.clusters[0]));
    assert_eq!(lab.check_cni_tables("test"), 0);
    lab.down().unwrap();
    lab.down().unwrap(); // idempotent
    assert!(lab::ns::existing("rapl1").is_empty());
    assert!(!cfg.work_dir.exists());
    assert_eq!(before, root_state(), "the root namespace changed");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn down_cleans_up_after_a_crash() {
    netns::require_root();
    let cfg = config("rapl2", 2, 2);
    let lab = Lab::up_network(cfg.clone()).unwrap();
    lab.detach(); // as if the process had died
    assert!(!lab::ns::existing("rapl2").is_empty());
    // A half-finished up of the same prefix cleans up first, then down.
    lab::down_prefix("rapl2", &cfg.work_dir).unwrap();
    assert!(lab::ns::existing("rapl2").is_empty());
    assert!(!cfg.work_dir.exists());
}

#[test]
#[ignore = "needs root and network namespaces"]
fn an_agent_that_dies_fails_up_with_its_log_and_leaves_nothing() {
    netns::require_root();
    let mut cfg = config("rapl3", 2, 1);
    // `sleep run --config ...` exits at once with an error on stderr: a
    // crashing agent.
    cfg.agent_binary = "/bin/sleep".into();
    let e = Lab::up(cfg.clone()).unwrap_err().to_string();
    assert!(e.contains("not converged") && e.contains("exited"), "{e}");
    assert!(
        e.contains("unrecognized option '--config'"),
        "the log tail is missing: {e}"
    );
    assert!(
        lab::ns::existing("rapl3").is_empty(),
        "namespaces left behind"
    );
    assert!(!cfg.work_dir.exists());
}

#[test]
#[ignore = "needs root and network namespaces"]
fn an_agent_that_never_answers_times_out_naming_it() {
    netns::require_root();
    let mut cfg = config("rapl4", 2, 1);
    // An agent that stays alive but never serves /status.
    let wrapper = std::env::temp_dir().join("rapl4-agent.sh");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\necho silent agent starting \"$@\"\nexec sleep 30\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    cfg.agent_binary = wrapper.clone();
    cfg.converge_timeout = std::time::Duration::from_secs(1);
    let t = std::time::Instant::now();
    let e = Lab::up(cfg.clone()).unwrap_err().to_string();
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        t.elapsed()
    );
    assert!(e.contains("a1:") && e.contains("b1:"), "{e}");
    assert!(e.contains("silent agent starting run --config"), "{e}");
    assert!(
        lab::ns::existing("rapl4").is_empty(),
        "namespaces left behind"
    );
    let _ = std::fs::remove_file(wrapper);
}
