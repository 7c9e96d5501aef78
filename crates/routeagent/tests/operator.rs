//! routeagent's image under Submariner's operator DaemonSet, as the operator
//! renders it (controllers/submariner/route_agent_resources.go): the init
//! container runs `submariner-route-agent.sh` with SUBMARINER_WAITFORNODE
//! and NODE_NAME only and must exit 0 once the Node exists; the main
//! container is privileged, has no command (the image's entrypoint) and the
//! operator's environment. Both run with podman in a node namespace against
//! the kube-source tests' fake API server, served over HTTP on that
//! namespace's loopback and enforcing the operator's Role (403 for
//! routeagents/status, Node writes, ...). The agent converges, its
//! RouteAgent status is written (whole-object fallback on 403) and carries
//! the original sysctl values (the operator mounts no state directory).
//! Fails loudly when podman is missing.
mod fake_api;
mod support;

use fake_api::fake::FakeApi;
use fake_api::serve_in;
use serde_json::json;
use std::process::Command;
use std::time::Duration;
use support::*;

const NS: &str = "submariner-operator";
const ULIMITS: [&str; 4] = [
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];
fn image() -> String {
    let podman = Command::new("podman").arg("--version").output();
    assert!(
        podman.as_ref().is_ok_and(|o| o.status.success()),
        "podman is missing ({podman:?}): run scripts/setup.sh (apt-get install podman runc debootstrap)"
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/image.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("ROUTEAGENT_BINARY", BIN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/image.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

/// Containers by name, removed on drop whatever happens.
struct Containers(Vec<String>);

impl Drop for Containers {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = Command::new("podman")
                .args(["rm", "-f", "--ignore", c])
                .output();
        }
    }
}

fn logs(name: &str) -> String {
    let o = Command::new("podman")
        .args(["logs", name])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn exited(name: &str) -> Option<i32> {
    let o = Command::new("podman")
        .args([
            "inspect",
            "--format",
            "{{.State.Status}} {{.State.ExitCode}}",
            name,
        ])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    let mut it = s.split_whitespace();
    (it.next() == Some("exited")).then(|| it.next().and_then(|c| c.parse().ok()).unwrap_or(-1))
}

#[test]
#[ignore = "needs root, network namespaces and podman"]
fn operator_daemonset_init_waits_for_the_node_then_the_agent_converges_under_its_role() {
    let image = image();
    let ns = node_ns("ra-op");
    ns.sh("sysctl -qw net.ipv4.conf.cni0.rp_filter=1").unwrap();
    let fake = FakeApi::new();
    fake.use_submariner_routeagent_crd();
    fake.enforce_operator_rbac();
    let dir = tempfile::tempdir().unwrap();
    // No TLS in the fake: a kubeconfig naming it (in-cluster configuration
    // would need the service account's CA and token).
    let kubeconfig = serve_in(&ns, &fake, dir.path(), NS);
    let id = std::process::id();
    let names = Containers(vec![format!("ra-op-init-{id}"), format!("ra-op-main-{id}")]);
    let common = |name: &str| {
        let mut c = Command::new("podman");
        c.args(["run", "-d", "--name", name])
            .args(["--network", &format!("ns:{}", ns.path())])
            .args(ULIMITS)
            .args([
                "-v",
                &format!("{}:/etc/kubeconfig:ro", kubeconfig.display()),
            ])
            .args(["-e", "KUBECONFIG=/etc/kubeconfig", "-e", "NODE_NAME=a1"]);
        c
    };

    // Init container: command submariner-route-agent.sh, two variables.
    let out = common(&names.0[0])
        .args([
            "-e",
            "SUBMARINER_WAITFORNODE=true",
            "--entrypoint",
            "submariner-route-agent.sh",
        ])
        .arg(&image)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        exited(&names.0[0]),
        None,
        "waits while the Node is missing: {}",
        logs(&names.0[0])
    );
    for (name, ip) in [("a1", "10.1.0.1"), ("a2", "10.1.0.2")] {
        fake.put("nodes", json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}]}}));
    }
    until("the init container exits", Duration::from_secs(15), || {
        exited(&names.0[0]).is_some()
    });
    assert_eq!(exited(&names.0[0]), Some(0), "{}", logs(&names.0[0]));

    // Gateway a2 and a remote cluster; a RouteAgent left by an earlier pod.
    let ep = |cluster: &str, host: &str, ip: &str, subnets: &[&str]| {
        json!({"apiVersion": "submariner.io/v1", "kind": "Endpoint",
            "metadata": {"name": format!("{cluster}-{host}"), "namespace": NS},
            "spec": {"cluster_id": cluster, "cable_name": format!("cable-{host}"), "hostname": host,
                "private_ip": ip, "public_ip": ip, "nat_enabled": false, "backend": "libreswan",
                "backend_config": {}, "healthCheckIP": "", "subnets": subnets}})
    };
    fake.put(
        "endpoints",
        ep("cluster-a", "a2", "10.1.0.2", &["10.244.0.0/16"]),
    );
    fake.put(
        "endpoints",
        ep("cluster-b", "b-gw", "10.2.0.1", &["10.245.0.0/16"]),
    );
    fake.put(
        "routeagents",
        json!({"metadata": {"name": "a1", "namespace": NS},
        "status": {"version": "old", "statusFailure": "", "remoteEndpoints": []}}),
    );

    // Main container: privileged, no command, the operator's variables.
    let mut main = common(&names.0[1]);
    main.args(["--privileged"]);
    for (k, v) in [
        ("SUBMARINER_NAMESPACE", NS),
        ("SUBMARINER_CLUSTERID", "cluster-a"),
        ("SUBMARINER_DEBUG", "false"),
        ("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16"),
        ("SUBMARINER_SERVICECIDR", "10.96.0.0/16"),
        ("SUBMARINER_GLOBALCIDR", ""),
        ("SUBMARINER_NETWORKPLUGIN", "generic"),
        ("SUBMARINER_HEALTHCHECKENABLED", "true"),
        ("SUBMARINER_HEALTHCHECKINTERVAL", "1"),
        ("SUBMARINER_HEALTHCHECKMAXPACKETLOSSCOUNT", "5"),
    ] {
        main.args(["-e", &format!("{k}={v}")]);
    }
    let out = main.arg(&image).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    until("the agent converges", Duration::from_secs(30), || {
        ns.sh("ip route show table all proto 166")
            .unwrap_or_default()
            .contains("10.245.0.0/16")
    });
    until("the RouteAgent status", Duration::from_secs(15), || {
        fake.get("routeagents", NS, "a1")
            .is_some_and(|o| o["status"]["version"] == json!(env!("CARGO_PKG_VERSION")))
    });
    let o = fake.get("routeagents", NS, "a1").unwrap();
    let originals = o["metadata"]["annotations"]["routeagent.io/sysctl-originals"]
        .as_str()
        .unwrap_or("");
    assert!(
        originals.contains("\"net.ipv4.conf.cni0.rp_filter\":\"1\""),
        "{o:#}\n{}",
        logs(&names.0[1])
    );
    let log = fake.requests();
    assert!(
        log.iter().any(|l| l.method == "PUT"
            && l.path.ends_with("/routeagents/a1/status")
            && l.code == 403),
        "the status subresource was tried and refused"
    );
    let wrong: Vec<_> = log
        .iter()
        .filter(|l| l.code == 403 && !l.path.ends_with("/status"))
        .collect();
    assert!(
        wrong.is_empty(),
        "only routeagents/status may be refused: {wrong:?}"
    );

    // Graceful stop keeps the object (it holds the originals); the
    // uninstall run then restores them and deletes it.
    let stop = Command::new("podman")
        .args(["stop", "-t", "10", &names.0[1]])
        .output()
        .unwrap();
    assert!(stop.status.success());
    assert!(
        fake.get("routeagents", NS, "a1").is_some(),
        "{}",
        logs(&names.0[1])
    );
    let mut un = common(&format!("ra-op-un-{id}"));
    let un_name = format!("ra-op-un-{id}");
    let _cleanup = Containers(vec![un_name.clone()]);
    for (k, v) in [
        ("SUBMARINER_NAMESPACE", NS),
        ("SUBMARINER_CLUSTERID", "cluster-a"),
        ("SUBMARINER_CLUSTERCIDR", "10.244.0.0/16"),
        ("SUBMARINER_UNINSTALL", "true"),
    ] {
        un.args(["-e", &format!("{k}={v}")]);
    }
    assert!(un
        .args(["--privileged"])
        .arg(&image)
        .output()
        .unwrap()
        .status
        .success());
    until("uninstall exits", Duration::from_secs(30), || {
        exited(&un_name).is_some()
    });
    assert_eq!(exited(&un_name), Some(0), "{}", logs(&un_name));
    assert_eq!(
        ns.sh("sysctl -n net.ipv4.conf.cni0.rp_filter")
            .unwrap()
            .trim(),
        "1",
        "{}",
        logs(&un_name)
    );
    assert!(fake.get("routeagents", NS, "a1").is_none());
    assert!(!ns.sh("ip link show").unwrap().contains("vx-submariner"));
}
