//! Test doubles: a fake host and a topology.
#![allow(dead_code, missing_docs)]

use agent::error::BoxError;
use agent::host::{BoxFuture, HostOps, HostReport, Scope};
use agent::reconcile::Filter;
use capabilities::{choose, Capabilities, PacketFilterRequest};
use packetfilter::Fake;
use plan::{FactsQuery, HostFacts, HostPlan, Iface, OvnFacts};
use std::sync::{Arc, Mutex};

/// Remembers the last plan it was asked to converge.
#[derive(Default)]
pub struct FakeHost {
    pub plans: Mutex<Vec<HostPlan>>,
    pub removed: Mutex<bool>,
    /// Notices every converge reports.
    pub notices: Mutex<Vec<String>>,
}

impl HostOps for FakeHost {
    fn facts<'a>(&'a self, q: &'a FactsQuery) -> BoxFuture<'a, Result<HostFacts, BoxError>> {
        let node_ip = q.node_ip;
        Box::pin(async move {
            Ok(HostFacts {
                uplink: Iface {
                    name: "eth0".into(),
                    mtu: 1500,
                    addr: node_ip,
                },
                cni: Some(Iface {
                    name: "cni0".into(),
                    mtu: 1450,
                    addr: "10.244.1.1".parse().unwrap(),
                }),
                public: None,
                default_route: None,
                next_hops: Default::default(),
            })
        })
    }
    /// `ovn-k8s-mp0` holds 10.244.1.2, the cluster router is 10.244.1.1.
    fn ovn_facts<'a>(
        &'a self,
        _cluster_cidrs: &'a [ipnet::IpNet],
    ) -> BoxFuture<'a, Result<OvnFacts, BoxError>> {
        Box::pin(async move {
            Ok(OvnFacts {
                mp0: plan::ovn::MP0.into(),
                mp0_addr: Some("10.244.1.2".parse().unwrap()),
                router: Some("10.244.1.1".parse().unwrap()),
            })
        })
    }
    fn converge<'a>(&'a self, plan: &'a HostPlan, _scope: Scope) -> BoxFuture<'a, HostReport> {
        Box::pin(async move {
            let mut plans = self.plans.lock().unwrap();
            let changes = usize::from(plans.last() != Some(plan));
            plans.push(plan.clone());
            HostReport {
                changes,
                notices: self.notices.lock().unwrap().clone(),
                ..HostReport::default()
            }
        })
    }
    fn remove_all(&self) -> BoxFuture<'_, HostReport> {
        Box::pin(async move {
            *self.removed.lock().unwrap() = true;
            HostReport::default()
        })
    }
}

/// A fake backend shared between the agent and the test.
#[derive(Clone, Default)]
pub struct SharedFake(pub Arc<Fake>);

impl packetfilter::Backend for SharedFake {
    fn name(&self) -> &str {
        "fake"
    }
    fn apply(&self, d: &ruleset::RuleSet) -> packetfilter::Result<packetfilter::Applied> {
        self.0.apply(d)
    }
    fn check(&self, d: &ruleset::RuleSet) -> packetfilter::Result<()> {
        self.0.check(d)
    }
    fn remove(&self, o: &packetfilter::Owned) -> packetfilter::Result<()> {
        self.0.remove(o)
    }
    fn update_sets(&self, d: &[ruleset::model::SetDelta]) -> packetfilter::Result<()> {
        self.0.update_sets(d)
    }
    fn verify(&self, d: &ruleset::RuleSet) -> packetfilter::Result<()> {
        self.0.verify(d)
    }
}

pub fn filter(fake: &SharedFake) -> Filter {
    let constructs = choose(&Capabilities::full(), PacketFilterRequest::Auto).unwrap();
    Filter {
        backend: Box::new(fake.clone()),
        constructs,
    }
}

pub fn topology_yaml(remotes: &[(&str, &str)], gateway: &str) -> String {
    let mut s = format!(
        "cluster:\n  id: cluster-a\n  clusterCIDRs: [10.244.0.0/16]\n  serviceCIDRs: [10.96.0.0/16]\n  cable: vxlan\n  nodes:\n    - {{name: a1, ip: 10.1.0.1}}\n    - {{name: a2, ip: 10.1.0.2}}\n  gateways:\n    - {{hostname: {gateway}, privateIP: 10.1.0.{}, publicIP: 192.168.50.1}}\n",
        if gateway == "a1" { 1 } else { 2 }
    );
    if !remotes.is_empty() {
        s.push_str("remoteClusters:\n");
        for (i, (id, cidr)) in remotes.iter().enumerate() {
            s.push_str(&format!("  - id: {id}\n    subnets: [{cidr}]\n    gateway: {{hostname: {id}-gw, privateIP: 10.{}.0.1, publicIP: 192.168.50.{}}}\n", i + 2, i + 2));
        }
    }
    s
}

pub fn topology(remotes: &[(&str, &str)], gateway: &str) -> topology::Topology {
    topology::Topology::from_yaml(&topology_yaml(remotes, gateway)).unwrap()
}
