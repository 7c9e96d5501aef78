//! Every file in examples/ parses and validates, and round-trips.

use topology::Topology;

#[test]
fn every_example_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "yaml") {
            let t = Topology::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let back = Topology::from_yaml(&t.to_yaml().unwrap()).unwrap();
            assert_eq!(t, back, "{}", p.display());
            n += 1;
        }
    }
    assert!(n >= 3, "expected at least 3 examples, found {n}");
}

#[test]
fn lab_examples_match_the_lab() {
    let a = Topology::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/two-clusters-a.yaml"
    ))
    .unwrap();
    let b = Topology::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/two-clusters-b.yaml"
    ))
    .unwrap();
    assert_eq!(a.local_cluster_id(), "cluster-a");
    assert_eq!(a.cluster.nodes.len(), 3);
    assert_eq!(a.active_gateway().unwrap().hostname, "a1");
    assert_eq!(a.node("a3").unwrap().ip.to_string(), "10.1.0.3");
    assert_eq!(b.node("b2").unwrap().ip.to_string(), "10.2.0.2");
    // each side's remote is the other's local
    assert_eq!(a.remote_clusters[0].subnets, b.local_cidrs());
    assert_eq!(b.remote_clusters[0].subnets, a.local_cidrs());
    assert_eq!(&a.remote_clusters[0].gateway, b.active_gateway().unwrap());
    assert_eq!(&b.remote_clusters[0].gateway, a.active_gateway().unwrap());
}
