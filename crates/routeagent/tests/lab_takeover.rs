//! End to end: `routeagent lab demo --takeover` (the lab crate's
//! `checks::takeover`): nodes programmed as Submariner's Go route agent
//! leaves them, carrying traffic; routeagent takes over every node while a
//! TCP stream and a 10 ms ping cross clusters; then uninstall and hand-back.
//! Needs root; fails loudly without it. Run it under the shared lab lock
//! (`flock /work/wt/lab.lock cargo test ... --test lab_takeover`).

use lab::LabConfig;

#[test]
#[ignore = "needs root and network namespaces"]
fn takeover_keeps_the_stream_and_hands_back() {
    lab::netns::require_root();
    let mut c = LabConfig::new("ratkl");
    c.agent_binary = env!("CARGO_BIN_EXE_routeagent").into();
    c.work_dir = std::env::temp_dir().join("ratkl");
    let r = lab::checks::takeover::demo(c);
    eprintln!("{r}");
    assert!(r.passed(), "{r}");
    assert!(r.takeover_gap_ms.is_some_and(|g| g < 100), "{r}");
}
