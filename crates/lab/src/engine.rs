//! What the lab plays beside routeagent on each cluster's active gateway,
//! laid out from the facts in submariner-coexistence.md (sections 1 and 2),
//! never from routeagent's code:
//! - Submariner's gateway engine with the WireGuard driver (`--cable
//!   wireguard`): userspace `wireguard-go` link `submariner`, no address,
//!   listen port 4500, one peer per remote active gateway (endpoint = its
//!   public IP, allowed IPs = its Endpoint subnets);
//! - the VXLAN cable driver (`--cable mixed`, every cluster but a):
//!   `vxlan-tunnel` VNI 1000 port 4500, `241.<private b.c.d>/8`, rule
//!   `pref 100 lookup 100`, per remote gateway an all-zero FDB entry to its
//!   public IP and table-100 routes `via 241.<its private b.c.d> src <CNI
//!   IP> metric 100`;
//! - Globalnet's iptables mode (`--globalnet`): in nat POSTROUTING (priority
//!   100, through iptables-nft) `SUBMARINER-GN-EGRESS` -> `SUBMARINER-GN-MARK`
//!   (mark 0xC0000 for remote subnets) and `SM-GN-EGRESS-CLUSTER` (SNAT of
//!   the cluster CIDR to the cluster's global IP).
//!
//! Like the engine, the lab moves all of it when a gateway moves: the new
//! gateway's cable starts (WireGuard: with a fresh key), remote gateways
//! re-point their peers, FDB and routes; the old gateway keeps its WireGuard
//! link (nothing deletes it upstream) and Globalnet flushes its rules there.

use crate::config::Cable;
use crate::ns::{ip_batch, sh};
use crate::{Lab, LabError, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Submariner's WireGuard link.
pub const WG_LINK: &str = "submariner";
/// The cable's UDP port (`CE_IPSEC_NATTPORT` default).
pub const CABLE_PORT: u16 = 4500;
/// The VXLAN cable driver's link.
pub const VXLAN_LINK: &str = "vxlan-tunnel";
/// Globalnet's mark (and mask).
pub const GN_MARK: &str = "0xC0000/0xC0000";

/// What the lab's engines hold: each WireGuard gateway's public key; per
/// VXLAN-cabled gateway, what it programmed ((add, delete) command pairs).
#[derive(Debug, Default)]
pub struct Engine {
    wg_public: BTreeMap<String, String>,
    vxlan: BTreeMap<String, Vec<(String, String)>>,
}

/// `ip netns exec NS unshare -m sh -c 'mount --bind DIR /run && SCRIPT'`:
/// `wireguard-go` and `wg` find each other through `/run/wireguard/NAME.sock`,
/// so every node gets its own `/run` (a dir under the lab's work dir) and
/// no two namespaces' `submariner` sockets collide.
fn wg_sh(ns: &str, run_dir: &Path, script: &str) -> Result<String> {
    std::fs::create_dir_all(run_dir).map_err(|source| LabError::File {
        verb: "create",
        path: run_dir.to_path_buf(),
        source,
    })?;
    let mount = format!("mount --bind {} /run && {script}", run_dir.display());
    crate::ns::exec(ns, "unshare", &["-m", "sh", "-c", &mount])
}

/// The private `/run` of `node`'s WireGuard.
fn run_dir(lab: &Lab, node: &str) -> std::path::PathBuf {
    lab.config.work_dir.join("wg").join(node)
}

/// Starts every cluster's engine pieces on its active gateway.
pub fn start(lab: &mut Lab) -> Result<()> {
    for c in 0..lab.plan.clusters.len() {
        start_cable(lab, c)?;
        globalnet(lab, c)?;
    }
    for c in 0..lab.plan.clusters.len() {
        connect(lab, c)?;
    }
    handshakes(lab)
}

/// Cluster `c`'s gateway moved from node `old` (0-based; already not the
/// active one in `lab`): flush Globalnet there, start the cable on the new
/// gateway and re-point every gateway's peers, the remote ones first.
pub fn moved(lab: &mut Lab, c: usize, old: usize) -> Result<()> {
    let old_node = lab.plan.clusters[c].nodes[old].clone();
    if lab.config.globalnet {
        sh(&old_node.ns, &gn_flush())?;
    }
    if lab.config.cable == Cable::Mixed && !lab.config.cable.routeagent_owns(c) {
        // The driver's Cleanup() on the node that lost the cable.
        ip_batch(
            &old_node.ns,
            &[
                format!("link del {VXLAN_LINK}"),
                "rule del pref 100 lookup 100".into(),
            ],
        )?;
        lab.engine.vxlan.remove(&old_node.name);
    }
    start_cable(lab, c)?;
    globalnet(lab, c)?;
    // The remote gateways learn the new peer first: a WireGuard handshake
    // the new gateway sends before its peer knows its key is dropped and
    // retried only after REKEY_TIMEOUT (5 s).
    for r in (0..lab.plan.clusters.len()).filter(|r| *r != c) {
        connect(lab, r)?;
    }
    connect(lab, c)?;
    handshakes(lab)
}

/// Waits (up to 15 s) until every active gateway's WireGuard peers have
/// completed a handshake (`wg show submariner latest-handshakes`), as the
/// gateway engine reports a cable connected only then: a handshake whose
/// initiation reached a peer that did not know the sender yet is retried
/// only after REKEY_TIMEOUT (5 s), and checks must not time that.
fn handshakes(lab: &Lab) -> Result<()> {
    if lab.config.cable != Cable::Wireguard {
        return Ok(());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    for c in 0..lab.plan.clusters.len() {
        let gw = lab.gateway(c).clone();
        loop {
            let out = wg_sh(
                &gw.ns,
                &run_dir(lab, &gw.name),
                &format!("wg show {WG_LINK} latest-handshakes"),
            )?;
            let waiting: Vec<&str> = out
                .lines()
                .filter(|l| l.split_whitespace().nth(1) == Some("0"))
                .collect();
            if waiting.is_empty() {
                break;
            }
            // Re-arming the persistent keepalive sends one at once (the
            // first may have gone out before wireguard-go saw its link up).
            let kick: String = waiting
                .iter()
                .filter_map(|l| l.split_whitespace().next())
                .map(|k| format!("wg set {WG_LINK} peer {k} persistent-keepalive 0 && wg set {WG_LINK} peer {k} persistent-keepalive 10; "))
                .collect();
            wg_sh(&gw.ns, &run_dir(lab, &gw.name), &kick)?;
            if std::time::Instant::now() > deadline {
                return Err(LabError::Agent {
                    node: gw.name.clone(),
                    detail: format!(
                        "WireGuard peers without a handshake after 15 s: {}",
                        waiting.join(", ")
                    ),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    Ok(())
}

/// What the WireGuard cables look like now, for a failed check's report:
/// per active gateway `wg show submariner` (peers' endpoints, latest
/// handshakes, transfer) and `ip route show table 150`; empty for other
/// cables.
pub fn state(lab: &Lab) -> String {
    if lab.config.cable != Cable::Wireguard {
        return String::new();
    }
    let mut out = String::new();
    for c in 0..lab.plan.clusters.len() {
        let gw = lab.gateway(c).clone();
        let wg = wg_sh(
            &gw.ns,
            &run_dir(lab, &gw.name),
            &format!("wg show {WG_LINK}; ip route show table 150"),
        );
        let text = wg.unwrap_or_else(|e| e.to_string());
        out.push_str(&format!("== {}\n{text}\n", gw.name));
    }
    out
}

/// Removes what the engines made on every node (their `Cleanup()` at
/// uninstall): WireGuard links (wireguard-go exits with its link), the
/// VXLAN cable and its rule, Globalnet's rules.
pub fn cleanup(lab: &mut Lab) -> Result<()> {
    for (c, n) in lab.plan.nodes() {
        if n.public_ip.is_none() {
            continue;
        }
        if lab.config.globalnet {
            sh(&n.ns, &gn_flush())?;
        }
        let ci = c.index - 1;
        if lab.config.cable.routeagent_owns(ci) {
            continue;
        }
        let link = lab.config.cable.interface(ci);
        let mut script = format!("if ip link show {link} >/dev/null 2>&1; then ip link del {link}");
        if link == VXLAN_LINK {
            script.push_str(" && ip rule del pref 100 lookup 100");
        }
        script.push_str("; fi");
        sh(&n.ns, &script)?;
    }
    lab.engine.wg_public.clear();
    lab.engine.vxlan.clear();
    Ok(())
}

/// Creates the cable of cluster `c` on its active gateway, if the lab makes it.
fn start_cable(lab: &mut Lab, c: usize) -> Result<()> {
    let gw = lab.gateway(c).clone();
    match lab.config.cable {
        Cable::Wireguard => {
            let dir = run_dir(lab, &gw.name);
            // Like the driver: delete and recreate the link, fresh key.
            let key = wg_sh(
                &gw.ns,
                &dir,
                &format!(
                    "ip link del {WG_LINK} 2>/dev/null; \
                     WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go {WG_LINK} </dev/null >/dev/null 2>&1 && \
                     umask 077 && wg genkey >/run/key && \
                     wg set {WG_LINK} listen-port {CABLE_PORT} private-key /run/key && \
                     ip link set {WG_LINK} up && wg show {WG_LINK} public-key"
                ),
            )?;
            lab.engine
                .wg_public
                .insert(gw.name.clone(), key.trim().to_string());
        }
        Cable::Mixed if !lab.config.cable.routeagent_owns(c) => {
            let o = gw.ip.octets();
            sh(
                &gw.ns,
                &format!(
                    "ip link show {VXLAN_LINK} >/dev/null 2>&1 || {{ \
                     ip link add {VXLAN_LINK} type vxlan id 1000 dstport {CABLE_PORT} nolearning && \
                     ip link set {VXLAN_LINK} mtu 1450 && \
                     ip addr add 241.{}.{}.{}/8 dev {VXLAN_LINK} && ip link set {VXLAN_LINK} up && \
                     sysctl -qw net.ipv4.conf.{VXLAN_LINK}.rp_filter=2 net.ipv4.conf.{VXLAN_LINK}.forwarding=1 && \
                     ip rule add pref 100 lookup 100; }}",
                    o[1], o[2], o[3]
                ),
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Points cluster `c`'s active gateway at every remote active gateway:
/// WireGuard peers (exactly those), or the VXLAN cable's FDB and table 100.
fn connect(lab: &mut Lab, c: usize) -> Result<()> {
    let gw = lab.gateway(c).clone();
    let remotes: Vec<usize> = (0..lab.plan.clusters.len()).filter(|r| *r != c).collect();
    match lab.config.cable {
        Cable::Wireguard => {
            let mut conf = format!("[Interface]\nListenPort = {CABLE_PORT}\nPrivateKey = KEY\n");
            for r in &remotes {
                let rg = lab.gateway(*r).clone();
                let Some(public) = lab.engine.wg_public.get(&rg.name) else {
                    continue;
                };
                let ip = rg.public_ip.unwrap_or(rg.ip);
                conf.push_str(&format!(
                    "\n[Peer]\nPublicKey = {public}\nAllowedIPs = {}\nEndpoint = {ip}:{CABLE_PORT}\nPersistentKeepalive = 10\n",
                    lab.plan.subnets(*r, lab.config.globalnet).join(", ")
                ));
            }
            let dir = run_dir(lab, &gw.name);
            let conf = conf.replace("\n", "\\n");
            wg_sh(
                &gw.ns,
                &dir,
                &format!(
                    "printf '{conf}' | sed \"s|KEY|$(cat /run/key)|\" >/run/conf && wg syncconf {WG_LINK} /run/conf"
                ),
            )?;
        }
        Cable::Mixed if !lab.config.cable.routeagent_owns(c) => {
            let mut want = Vec::new();
            for r in &remotes {
                let rg = lab.gateway(*r).clone();
                let o = rg.ip.octets();
                let dst = rg.public_ip.unwrap_or(rg.ip);
                let fdb = format!("00:00:00:00:00:00 dev {VXLAN_LINK} dst {dst}");
                want.push((
                    format!("bridge fdb append {fdb}"),
                    format!("bridge fdb del {fdb}"),
                ));
                for s in lab.plan.subnets(*r, lab.config.globalnet) {
                    want.push((
                        format!(
                            "ip route add {s} via 241.{}.{}.{} dev {VXLAN_LINK} src {} metric 100 proto boot table 100",
                            o[1], o[2], o[3], gw.cni_ip
                        ),
                        format!("ip route del {s} table 100"),
                    ));
                }
            }
            let had = lab.engine.vxlan.get(&gw.name).cloned().unwrap_or_default();
            if had != want {
                // Disconnect what is gone (whoever removed it already),
                // then connect what is new.
                let gone = had
                    .iter()
                    .filter(|p| !want.contains(p))
                    .map(|p| format!("{} 2>/dev/null; ", p.1));
                let new: Vec<String> = want
                    .iter()
                    .filter(|p| !had.contains(p))
                    .map(|p| p.0.clone())
                    .collect();
                sh(&gw.ns, &(gone.collect::<String>() + &new.join(" && ")))?;
                lab.engine.vxlan.insert(gw.name.clone(), want);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Globalnet's egress on cluster `c`'s active gateway: the jumps into the
/// chains the skeleton ([`crate::foreign`]) holds, the mark per remote
/// subnet, the cluster SNAT.
fn globalnet(lab: &Lab, c: usize) -> Result<()> {
    if !lab.config.globalnet {
        return Ok(());
    }
    let gw = lab.gateway(c);
    let cl = &lab.plan.clusters[c];
    let mut s = vec![
        "-A SUBMARINER-GN-EGRESS -j SUBMARINER-GN-MARK".to_string(),
        "-A SUBMARINER-GN-EGRESS -j SM-GN-EGRESS-CLUSTER".to_string(),
    ];
    for r in (0..lab.plan.clusters.len()).filter(|r| *r != c) {
        for sub in lab.plan.subnets(r, true) {
            s.push(format!(
                "-A SUBMARINER-GN-MARK -d {sub} -j MARK --set-xmark {GN_MARK}"
            ));
        }
    }
    s.push(format!(
        "-A SM-GN-EGRESS-CLUSTER -s {} -m mark --mark {GN_MARK} -j SNAT --to-source {}",
        cl.pod_cidr, cl.global_ip
    ));
    let script: Vec<String> = s
        .iter()
        .map(|r| format!("iptables-nft -t nat {r}"))
        .collect();
    sh(&gw.ns, &script.join(" && ")).map(drop)
}

/// What Globalnet does on leaving the gateway role (and the lab at
/// cleanup): flush its egress chains.
fn gn_flush() -> String {
    [
        "SUBMARINER-GN-EGRESS",
        "SUBMARINER-GN-MARK",
        "SM-GN-EGRESS-CLUSTER",
    ]
    .iter()
    .map(|c| format!("iptables-nft -t nat -F {c}"))
    .collect::<Vec<_>>()
    .join(" && ")
}
