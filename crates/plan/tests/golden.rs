//! Golden plans: the full nft text, ip commands and warnings of typical
//! nodes. Regenerate with `UPDATE_GOLDEN=1 cargo test -p plan --test golden`
//! and review the diff.

mod common;

use common::*;
use topology::Topology;

fn check(name: &str, p: &plan::HostPlan) {
    let text = render(p);
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_GOLDEN=1 to create it"));
    if want != text {
        for (i, (w, g)) in want.lines().zip(text.lines()).enumerate() {
            if w != g {
                panic!("{name}: first difference at line {}:\n want: {w}\n  got: {g}\n\nfull plan:\n{text}", i + 1);
            }
        }
        panic!("{name}: lengths differ\n\nfull plan:\n{text}");
    }
}

#[test]
fn gateway_node() {
    let t = example("two-clusters-a");
    check("gateway", &plan_for(&t, "a1", Switches::ALL_ON));
}

#[test]
fn non_gateway_node() {
    let t = example("two-clusters-a");
    check("non-gateway", &plan_for(&t, "a2", Switches::ALL_ON));
}

/// No MSS clamp, no self-SNAT, split tables, no comments.
#[test]
fn degraded() {
    let t = example("two-clusters-b");
    let s = Switches {
        inet: false,
        mss_clamp: false,
        self_snat: false,
        comments: false,
        ..Switches::ALL_ON
    };
    check("degraded", &plan_for(&t, "b1", s));
}

/// No interval sets (rules per prefix pair), no CNI address known (so
/// masquerade), a fixed MSS, three clusters.
#[test]
fn expanded_without_sets_or_cni() {
    let mut t = example("three-clusters-c");
    t.tunables.mss = Some(1300);
    let mut facts = lab_facts(&t, "c2");
    facts.cni = None;
    let c = constructs(Switches {
        interval_sets: false,
        comments: false,
        ..Switches::ALL_ON
    });
    let p = plan::plan(&plan::PlanInput {
        topology: &t,
        node: "c2",
        facts: &facts,
        constructs: &c,
    })
    .unwrap();
    check("expanded", &p);
}

#[test]
fn no_remote_clusters() {
    let mut t: Topology = example("two-clusters-a");
    t.remote_clusters.clear();
    let p = plan_for(&t, "a1", Switches::ALL_ON);
    assert!(p.routes.is_empty() && p.rules.is_empty());
    check("no-remotes", &p);
}
