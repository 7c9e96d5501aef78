//! Where the probe's time goes (run with `--ignored --nocapture`).

#[test]
#[ignore = "timing aid"]
fn timing() {
    use probe::nft::Asker;
    let ns = netns::NetNs::new("ra-tim").unwrap();
    let mut qs: Vec<ruleset::Table> = probe::questions::matrix()
        .into_iter()
        .map(|x| x.3)
        .collect();
    qs.extend(probe::questions::expressions().into_iter().map(|q| q.table));
    ns.run(|| {
        let t = std::time::Instant::now();
        let n = probe::netlink::Netlink::open().unwrap();
        println!("open {:?}", t.elapsed());
        for q in &qs[..5] {
            let t = std::time::Instant::now();
            let _ = n.ask(std::slice::from_ref(q));
            println!("q {:?}", t.elapsed());
        }
        let t = std::time::Instant::now();
        let _ = n.ask(&qs);
        println!("all netlink {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let _ = probe::nft::NftCheck.ask(&qs);
        println!("all nft {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let _ = probe::iptables::probe();
        println!("iptables {:?}", t.elapsed());
        let t = std::time::Instant::now();
        let _ = probe::kernel::probe();
        println!("kernel {:?}", t.elapsed());
    });
}
