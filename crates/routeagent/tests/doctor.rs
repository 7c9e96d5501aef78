//! `routeagent doctor` against the real kernel, inside a throwaway
//! namespace: what the report says when the agent lacks CAP_NET_ADMIN.

use netns::NetNs;

#[test]
#[ignore = "needs root and network namespaces"]
fn without_cap_net_admin_the_fix_says_so() {
    // `routeagent doctor --json` run with CAP_NET_ADMIN dropped (setpriv), inside a namespace.
    netns::require_root();
    let ns = NetNs::new("ra-probe").unwrap();
    let exe = env!("CARGO_BIN_EXE_routeagent");
    let out = ns
        .cmd("setpriv")
        .args([
            "--bounding-set",
            "-net_admin",
            "--inh-caps",
            "-net_admin",
            exe,
            "doctor",
            "--json",
        ])
        .output()
        .expect("setpriv (util-linux) is needed for this test");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(j["features"]["nftables"]["enabled"], false, "{j:#}");
    assert!(j["features"]["nftables"]["fix"]
        .as_str()
        .unwrap()
        .contains("CAP_NET_ADMIN"));
    assert_eq!(j["features"]["iptables-nft"]["enabled"], false);
    assert!(j["backend"]["chosen"].is_null());
    assert!(
        j["backend"]["not_ready"]["fix"]
            .as_str()
            .unwrap()
            .contains("CAP_NET_ADMIN"),
        "{j:#}"
    );
    assert_eq!(j["exit_code"], 2);
    assert_eq!(out.status.code(), Some(2));
}
