//! `apply_many N RUNS [apply-only]`: applies a ruleset with an N-prefix interval set RUNS
//! times inside a throwaway namespace and prints each duration (for
//! profiling with `perf record`).

use packetfilter::Backend;
use ruleset::*;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let with_check = args.next().as_deref() != Some("apply-only");
    let cidrs = (0..n).map(|i| {
        ipnet::IpNet::new(
            std::net::Ipv4Addr::from((20u32 << 24) + ((i * 2) << 8)).into(),
            24,
        )
        .unwrap()
    });
    let set = Set::aggregated("remote", IpVersion::V4, cidrs);
    let t = Table::new(Family::Ip, "routeagent")
        .with_set(set)
        .with_chain(
            Chain::base(
                "forward-x",
                ChainType::Filter,
                Hook::Forward,
                Priority::FILTER,
            )
            .with_rule(
                Rule::matching([Match::daddr_in(IpVersion::V4, "remote")])
                    .counted()
                    .then(Action::Accept),
            ),
        );
    let rs = RuleSet::new(vec![t]);
    let ns = netns::NetNs::new("ra-nftprof").expect("namespace");
    ns.run(|| {
        let nft = packetfilter_nftables::Nftables::new().expect("socket");
        for _ in 0..runs {
            let t = std::time::Instant::now();
            if with_check {
                nft.check(&rs).expect("check");
            }
            let check = t.elapsed();
            let a = nft.apply(&rs).expect("apply");
            println!(
                "check {check:?} apply {:?} ({} messages)",
                a.duration, a.messages
            );
        }
    });
}
