//! One pass at a time, against the fake backend and a fake host.
mod common;
use agent::reconcile::FilterUpdate;
use agent::Reconciler;
use common::*;
use plan::Role;
use std::sync::Arc;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn first_pass_applies_then_nothing_changes() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let host = Arc::new(FakeHost::default());
        let mut r = Reconciler::new("a2", host.clone(), Some(filter(&fake)));
        let topo = topology(&[("cluster-b", "10.245.0.0/16")], "a1");
        let out = r.pass(&topo).await;
        assert!(out.converged(), "{:?}", out.errors);
        assert_eq!(out.role, Some(Role::NonGateway));
        assert_eq!(out.filter, FilterUpdate::Replaced);
        let dump = fake.0.dump();
        assert!(dump.contains("10.245.0.0/16"), "{dump}");
        let out = r.pass(&topo).await;
        assert_eq!(out.filter, FilterUpdate::Unchanged);
        assert_eq!(out.host_changes, 0);
        assert_eq!(fake.0.applies(), 1, "an unchanged state is not re-applied");
    });
}

#[test]
fn a_new_remote_cluster_only_updates_set_elements() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let mut r = Reconciler::new("a2", Arc::new(FakeHost::default()), Some(filter(&fake)));
        r.pass(&topology(&[("cluster-b", "10.245.0.0/16")], "a1"))
            .await;
        let out = r
            .pass(&topology(
                &[
                    ("cluster-b", "10.245.0.0/16"),
                    ("cluster-c", "10.246.0.0/16"),
                ],
                "a1",
            ))
            .await;
        assert!(out.converged(), "{:?}", out.errors);
        assert_eq!(out.filter, FilterUpdate::Sets);
        assert!(fake.0.dump().contains("10.246.0.0/16"));
        assert_eq!(fake.0.applies(), 1);
    });
}

#[test]
fn a_kernel_refusal_keeps_the_previous_ruleset_and_names_the_rule() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let mut r = Reconciler::new("a1", Arc::new(FakeHost::default()), Some(filter(&fake)));
        r.pass(&topology(&[("cluster-b", "10.245.0.0/16")], "a2"))
            .await;
        let before = fake.0.dump();
        fake.0.refuse(|o| match o {
            packetfilter::Object::Rule { text, .. } if text.contains("maxseg") => Some(95),
            _ => None,
        });
        // Becoming the gateway changes more than sets: a whole replace, refused.
        let out = r
            .pass(&topology(&[("cluster-b", "10.245.0.0/16")], "a1"))
            .await;
        assert!(!out.converged());
        let err = out.error_lines().join("\n");
        assert!(
            err.contains("maxseg") && err.contains("EOPNOTSUPP"),
            "{err}"
        );
        assert_eq!(
            fake.0.dump(),
            before,
            "the kernel keeps the last good ruleset"
        );
        fake.0.accept_all();
        let out = r
            .pass(&topology(&[("cluster-b", "10.245.0.0/16")], "a1"))
            .await;
        assert!(out.converged(), "{:?}", out.errors);
        assert_eq!(out.role, Some(Role::Gateway));
    });
}

#[test]
fn an_unknown_node_is_an_error_not_a_crash() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let mut r = Reconciler::new("zz", Arc::new(FakeHost::default()), Some(filter(&fake)));
        let out = r.pass(&topology(&[], "a1")).await;
        assert!(!out.converged());
        assert!(out.error_lines()[0].contains("zz"), "{:?}", out.errors);
    });
}

#[test]
fn uninstall_removes_the_table_and_the_host_objects() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let host = Arc::new(FakeHost::default());
        let mut r = Reconciler::new("a1", host.clone(), Some(filter(&fake)));
        r.pass(&topology(&[("cluster-b", "10.245.0.0/16")], "a1"))
            .await;
        assert!(!fake.0.dump().is_empty());
        let backends: Vec<Box<dyn packetfilter::Backend>> = vec![Box::new(fake.clone())];
        let done = agent::uninstall(host.as_ref(), &backends, &[]).await;
        assert!(done.errors.is_empty(), "{:?}", done.errors);
        assert_eq!(fake.0.dump(), "");
        assert!(*host.removed.lock().unwrap());
    });
}

#[test]
fn an_unsupported_network_plugin_programs_nothing_and_says_so() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let host = Arc::new(FakeHost::default());
        let mut r = Reconciler::new("a2", host.clone(), Some(filter(&fake)));
        let mut topo = topology(&[("cluster-b", "10.245.0.0/16")], "a1");
        topo.cluster.cni = topology::Cni::parse("cilium");
        let out = r.pass(&topo).await;
        assert!(!out.converged());
        let err = out.error_lines().join("\n");
        assert!(
            err.contains("datapath not supported") && err.contains("cilium"),
            "{err}"
        );
        assert_eq!(fake.0.applies(), 0, "no packet filter programmed");
        assert!(
            host.plans.lock().unwrap().is_empty(),
            "no host object programmed"
        );
        let mut status = agent::Status::new("a2");
        let update = agent::source::SourceUpdate {
            topology: Some(Arc::new(topo.clone())),
            digest: String::new(),
            error: None,
        };
        status.pass_done(&update, &topo, &agent::Trigger::Resync, &out, true);
        assert_eq!(status.datapath, "unsupported");
        assert!(!status.ready);
        assert!(status
            .not_ready_reason
            .as_deref()
            .unwrap_or("")
            .contains("datapath not supported"));
        let metrics = agent::metrics::encode(&status, None);
        assert!(
            metrics.contains("routeagent_datapath_supported{node=\"a2\"} 0"),
            "{metrics}"
        );
    });
}

#[test]
fn host_notices_reach_the_status_warnings() {
    rt().block_on(async {
        let fake = SharedFake::default();
        let host = Arc::new(FakeHost::default());
        host.notices
            .lock()
            .unwrap()
            .push("sysctl net.ipv4.ip_forward is 0, want 1: /proc/sys is read-only here".into());
        let mut r = Reconciler::new("a2", host.clone(), Some(filter(&fake)));
        let topo = topology(&[("cluster-b", "10.245.0.0/16")], "a1");
        let out = r.pass(&topo).await;
        assert!(out.converged(), "{:?}", out.errors);
        let mut status = agent::Status::new("a2");
        let update = agent::source::SourceUpdate {
            topology: Some(Arc::new(topo.clone())),
            digest: String::new(),
            error: None,
        };
        status.pass_done(&update, &topo, &agent::Trigger::Resync, &out, true);
        assert!(
            status.warnings.iter().any(|w| w.contains("ip_forward")),
            "{:?}",
            status.warnings
        );
        assert_eq!(status.datapath, "kube-proxy");
    });
}
