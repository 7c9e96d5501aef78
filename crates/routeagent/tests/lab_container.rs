//! End to end: `routeagent lab demo --agents container` — every node's
//! agent is the project's image (`scripts/image.sh`, holding this test's
//! binary) run by podman in the node's namespace with deploy/daemonset.yaml's
//! security context, mounts and environment (the lab crate's `pod` and
//! `container`), uninstall as deploy/uninstall-daemonset.yaml does it.
//! Needs root and podman; fails loudly without either. Run it under the
//! shared lab lock (`flock /work/wt/lab.lock cargo test ... --test lab_container`).

mod support;
use lab::{AgentMode, LabConfig};
use std::process::Command;

/// Names of the containers labelled as `prefix`'s lab's.
fn containers(prefix: &str) -> String {
    let out = Command::new("podman")
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
        .arg(format!("label={}={prefix}", lab::container::LABEL))
        .output()
        .expect("podman ps");
    assert!(out.status.success(), "podman ps: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
#[ignore = "needs root and network namespaces"]
fn container_demo_passes_every_check_and_leaves_no_container() {
    lab::netns::require_root();
    let image = support::image();
    let before = netns::current_state();
    let prefix = "raectr";
    let mut c = LabConfig::new(prefix);
    c.clusters = 2;
    c.nodes = 2;
    c.agent_binary = support::BIN.into();
    c.work_dir = std::env::temp_dir().join(prefix);
    c.agents = AgentMode::Container;
    c.image = image;
    let report = lab::demo(c);
    eprintln!("{report}");
    let json = report.to_json();
    assert_eq!(json["agents"], "container", "{json}");
    let checks = json["checks"].as_array().unwrap();
    for name in [
        "pod-to-pod",
        "degraded",
        "failover",
        "uninstall",
        "three-clusters",
    ] {
        assert!(
            checks
                .iter()
                .any(|c| c["name"] == name && c["passed"] == true),
            "{name} did not pass: {report}"
        );
    }
    // Every functional check passes and none is skipped; throughput's
    // pass/fail is a figure's target on a shared machine (as in tests/lab.rs).
    let bad: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["name"] != "throughput")
        .filter(|c| c["passed"] != true || c["skipped"] == true)
        .collect();
    assert!(bad.is_empty(), "{report}");
    for p in [prefix.to_string(), format!("{prefix}-3c")] {
        assert_eq!(containers(&p), "", "containers of lab {p} left behind");
        assert!(lab::ns::existing(&p).is_empty(), "namespaces of {p} left");
    }
    assert_eq!(before, netns::current_state(), "the root namespace changed");
}

#[test]
#[ignore = "needs root and network namespaces"]
fn a_failed_container_lab_up_removes_its_containers() {
    lab::netns::require_root();
    let prefix = "raectrf";
    let mut c = LabConfig::new(prefix);
    c.clusters = 1;
    c.nodes = 1;
    c.agent_binary = support::BIN.into();
    c.work_dir = std::env::temp_dir().join(prefix);
    c.agents = AgentMode::Container;
    c.image = support::image();
    // Agents that exit at once (an unknown feature): up fails, drop cleans.
    c.extra_agent_args.insert(
        "a1".into(),
        vec!["--assume-missing".into(), "no-such-feature".into()],
    );
    let e = lab::Lab::up(c).expect_err("an agent with a bad flag must not converge");
    assert!(e.to_string().contains("a1"), "{e}");
    assert_eq!(containers(prefix), "", "containers left behind");
    assert!(lab::ns::existing(prefix).is_empty());
}
