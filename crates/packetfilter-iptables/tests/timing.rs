//! How long apply takes (run with `--ignored --nocapture`).

mod common;

use capabilities::IptablesVariant::{Legacy, Nft};
use packetfilter::Backend;

#[test]
#[ignore = "timing aid"]
fn apply_timing() {
    for variant in [Nft, Legacy] {
        for ipset in [true, false] {
            let ns = netns::NetNs::new("ra-iptt").unwrap();
            let b = packetfilter_iptables::Iptables::new(variant, ipset);
            let rs = common::sample();
            let mut ms = Vec::new();
            for _ in 0..5 {
                let t = std::time::Instant::now();
                ns.run(|| b.apply(&rs)).unwrap();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(f64::total_cmp);
            println!("{variant:?} ipset={ipset}: median apply {:.1} ms", ms[2]);
        }
    }
}
