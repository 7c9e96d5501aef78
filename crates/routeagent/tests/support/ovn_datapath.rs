//! A real OVN datapath on one chassis, in a network namespace of its own:
//! the southbound and Open_vSwitch databases (`ovsdb-tool create`,
//! `ovsdb-server --remote=punix:`), `ovn-northd`, `ovs-vswitchd` with the
//! userspace datapath (`ovs-vsctl add-br br-int -- set bridge br-int
//! datapath_type=netdev`) and `ovn-controller`
//! (`external_ids:ovn-bridge-datapath-type=netdev`), each with `--pidfile`,
//! `--log-file` and (where it takes one) `--unixctl` in a temporary
//! directory that is also its OVS_RUNDIR / OVN_RUNDIR / *_DBDIR / *_LOGDIR.
//! No kernel module: the netdev datapath reads and writes its ports with
//! AF_PACKET, and its own `br-int` port is a tap inside the namespace.
//!
//! Ports are veth pairs: one end in a node's or pod's namespace (with the
//! logical port's MAC), the other a plain port on br-int bound to the
//! logical switch port by `external_ids:iface-id`. The northbound database
//! is the caller's (its unix socket); the logical topology is the caller's
//! too, through [`OvnDatapath::nbctl`] and the helpers below.
//!
//! Every daemon is killed and reaped on drop, then the namespace and the
//! directory are removed.

#![allow(dead_code)]

use netns::NetNs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any daemon or database gets to answer: the machine may be loaded.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The binaries the datapath needs, and the Debian package of each.
const TOOLS: [(&str, &str); 7] = [
    ("ovsdb-server", "openvswitch-common"),
    ("ovsdb-tool", "openvswitch-common"),
    ("ovsdb-client", "openvswitch-common"),
    ("ovs-vsctl", "openvswitch-common"),
    ("ovs-vswitchd", "openvswitch-switch"),
    ("ovn-northd", "ovn-central"),
    ("ovn-controller", "ovn-host"),
];

/// One chassis: databases and daemons inside [`OvnDatapath::ns`].
pub struct OvnDatapath {
    procs: Vec<(&'static str, Child)>,
    /// The namespace of br-int and every OVN/OVS daemon.
    pub ns: NetNs,
    dir: tempfile::TempDir,
    nb: PathBuf,
}

/// Panics with the fix when a binary is missing: the test must never pass
/// without the real datapath.
pub fn require_tools() {
    for (tool, package) in TOOLS {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{tool} is missing: install {package} (bash scripts/setup.sh)"
        );
    }
}

/// OVN-Kubernetes' MAC for an address: `0a:58:` and the address's bytes.
pub fn mac(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("0a:58:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

impl OvnDatapath {
    /// Starts the chassis against the northbound database at `nb` (a unix
    /// socket): SB and Open_vSwitch databases, `ovn-northd`,
    /// `ovs-vswitchd`, br-int (netdev, `fail-mode=secure`) and
    /// `ovn-controller` as chassis `chassis-1`.
    pub fn start(nb: &Path) -> OvnDatapath {
        require_tools();
        netns::require_root();
        let mut dp = OvnDatapath {
            procs: Vec::new(),
            ns: NetNs::new("ra-ovndp-ovs").expect("namespace"),
            dir: tempfile::tempdir().unwrap(),
            nb: nb.to_path_buf(),
        };
        dp.database("sb", "/usr/share/ovn/ovn-sb.ovsschema");
        dp.database("conf", "/usr/share/openvswitch/vswitch.ovsschema");
        dp.vsctl(&["--no-wait", "init"]);
        let d = dp.dir.path().to_path_buf();
        let nb_remote = format!("--ovnnb-db=unix:{}", nb.display());
        let sb_remote = format!("--ovnsb-db=unix:{}", dp.sock("sb").display());
        dp.spawn("ovn-northd", &[&nb_remote, &sb_remote, &ctl(&d, "northd")]);
        let db = format!("unix:{}", dp.sock("conf").display());
        dp.spawn("ovs-vswitchd", &[&db, &ctl(&d, "vswitchd")]);
        // Without --no-wait, ovs-vsctl returns once ovs-vswitchd has made the bridge.
        dp.vsctl(&[
            "add-br",
            "br-int",
            "--",
            "set",
            "bridge",
            "br-int",
            "datapath_type=netdev",
            "fail-mode=secure",
            "other-config:disable-in-band=true",
        ]);
        let sb = format!("external_ids:ovn-remote=unix:{}", dp.sock("sb").display());
        dp.vsctl(&[
            "set",
            "open_vswitch",
            ".",
            "external_ids:system-id=chassis-1",
            &sb,
            "external_ids:ovn-encap-type=geneve",
            "external_ids:ovn-encap-ip=127.0.0.1",
            "external_ids:ovn-bridge-datapath-type=netdev",
        ]);
        // ovn-controller takes no --unixctl: its socket is OVN_RUNDIR/ovn-controller.PID.ctl.
        dp.spawn("ovn-controller", &[&db]);
        let root = Command::new("ip")
            .args(["link", "show", "br-int"])
            .output()
            .unwrap();
        assert!(
            !root.status.success(),
            "br-int appeared in the root network namespace"
        );
        dp.ns
            .sh("ip link show br-int")
            .expect("br-int (tap) in the switch's namespace");
        dp
    }

    /// The directory holding every database, socket, pidfile and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn sock(&self, db: &str) -> PathBuf {
        self.dir.path().join(format!("{db}.sock"))
    }

    /// A command run inside the namespace with this instance's directories.
    fn cmd(&self, program: &str) -> Command {
        let mut c = self.ns.cmd(program);
        let d = self.dir.path();
        for var in [
            "OVS_RUNDIR",
            "OVS_DBDIR",
            "OVS_LOGDIR",
            "OVS_SYSCONFDIR",
            "OVN_RUNDIR",
            "OVN_DBDIR",
            "OVN_LOGDIR",
            "OVN_SYSCONFDIR",
        ] {
            c.env(var, d);
        }
        c
    }

    /// Starts `program ARGS --pidfile=DIR/NAME.pid --log-file=DIR/NAME.log
    /// --no-chdir` in the foreground (not `--detach`: the test reaps it).
    fn spawn(&mut self, name: &'static str, args: &[&str]) {
        let d = self.dir.path();
        let child = self
            .cmd(name)
            .args(args)
            .arg(format!(
                "--pidfile={}",
                d.join(format!("{name}.pid")).display()
            ))
            .arg(format!(
                "--log-file={}",
                d.join(format!("{name}.log")).display()
            ))
            .arg("--no-chdir")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        self.procs.push((name, child));
    }

    /// `ovsdb-tool create DIR/NAME.db SCHEMA` and `ovsdb-server` on
    /// `punix:DIR/NAME.sock`; returns once `ovsdb-client list-dbs` answers.
    fn database(&mut self, name: &'static str, schema: &str) {
        let db = self.dir.path().join(format!("{name}.db"));
        output(
            Command::new("ovsdb-tool")
                .arg("create")
                .arg(&db)
                .arg(schema),
        );
        let remote = format!("--remote=punix:{}", self.sock(name).display());
        let server = match name {
            "sb" => "ovsdb-server-sb",
            _ => "ovsdb-server-conf",
        };
        let d = self.dir.path().to_path_buf();
        let child = self
            .cmd("ovsdb-server")
            .arg(&db)
            .arg(&remote)
            .arg(ctl(&d, server))
            .arg(format!(
                "--pidfile={}",
                d.join(format!("{server}.pid")).display()
            ))
            .arg(format!(
                "--log-file={}",
                d.join(format!("{server}.log")).display()
            ))
            .arg("--no-chdir")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ovsdb-server");
        self.procs.push((server, child));
        let sock = format!("unix:{}", self.sock(name).display());
        self.wait(&format!("{server} answering"), || {
            Command::new("ovsdb-client")
                .args(["--timeout=1", "list-dbs", &sock])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    /// `ovs-vsctl --db=unix:DIR/conf.sock --timeout=30 ARGS`; stdout.
    pub fn vsctl(&self, args: &[&str]) -> String {
        output(
            self.cmd("ovs-vsctl")
                .arg(format!("--db=unix:{}", self.sock("conf").display()))
                .arg(format!("--timeout={}", DEADLINE.as_secs()))
                .args(args),
        )
    }

    /// `ovn-nbctl --db=unix:NB --timeout=30 ARGS`; stdout.
    pub fn nbctl(&self, args: &[&str]) -> String {
        output(
            Command::new("ovn-nbctl")
                .arg(format!("--db=unix:{}", self.nb.display()))
                .arg(format!("--timeout={}", DEADLINE.as_secs()))
                .args(args),
        )
    }

    /// The OVN-Kubernetes shape of one node on `ovn_cluster_router`:
    /// router port `rtos-NODE` holding `gateway` (e.g. 10.244.1.1/24) and
    /// the node's logical switch `NODE` attached to it by `stor-NODE`
    /// (`ovn-nbctl lrp-add`, `ls-add`, `lsp-add` + `lsp-set-type router`).
    pub fn node_switch(&self, node: &str, gateway: &str) {
        let ip: Ipv4Addr = gateway.split('/').next().unwrap().parse().unwrap();
        let (rtos, stor) = (format!("rtos-{node}"), format!("stor-{node}"));
        let opt = format!("router-port={rtos}");
        self.nbctl(&[
            "lrp-add",
            "ovn_cluster_router",
            &rtos,
            &mac(ip),
            gateway,
            "--",
            "ls-add",
            node,
            "--",
            "lsp-add",
            node,
            &stor,
            "--",
            "lsp-set-type",
            &stor,
            "router",
            "--",
            "lsp-set-addresses",
            &stor,
            "router",
            "--",
            "lsp-set-options",
            &stor,
            &opt,
        ]);
    }

    /// Logical switch port `port` on `switch` with addresses "MAC IP" (no
    /// port security, as OVN-Kubernetes' management port), and its wire:
    /// `ip link add IFNAME address MAC type veth peer name PORT netns OVS`
    /// run inside `ns`, the address `cidr` on IFNAME, TX checksum
    /// offload off on it (`ethtool -K IFNAME tx off`: the userspace
    /// datapath reads frames with AF_PACKET and forwards a partial
    /// checksum as it is), and `ovs-vsctl add-port br-int PORT -- set
    /// interface PORT external_ids:iface-id=PORT`.
    pub fn attach(&self, ns: &NetNs, ifname: &str, switch: &str, port: &str, cidr: &str) {
        let ip: Ipv4Addr = cidr.split('/').next().unwrap().parse().unwrap();
        let mac = mac(ip);
        self.nbctl(&[
            "lsp-add",
            switch,
            port,
            "--",
            "lsp-set-addresses",
            port,
            &format!("{mac} {ip}"),
        ]);
        ns.sh(&format!(
            "set -e
             ip link add {ifname} address {mac} type veth peer name {port} netns {ovs}
             sysctl -qw net.ipv6.conf.{ifname}.disable_ipv6=1
             ip addr add {cidr} dev {ifname}
             ethtool -K {ifname} tx off >/dev/null
             ip link set {ifname} up",
            ovs = self.ns.name()
        ))
        .unwrap_or_else(|e| panic!("{ifname} in {}: {e}", ns.name()));
        self.ns
            .sh(&format!("ip link set {port} up"))
            .expect("switch end up");
        let id = format!("external_ids:iface-id={port}");
        self.vsctl(&[
            "add-port",
            "br-int",
            port,
            "--",
            "set",
            "interface",
            port,
            &id,
        ]);
    }

    /// Waits until ovn-controller has bound `port` and northd reported it
    /// (`ovn-nbctl wait-until Logical_Switch_Port PORT up=true`).
    pub fn wait_up(&self, port: &str) {
        self.nbctl(&["wait-until", "Logical_Switch_Port", port, "up=true"]);
    }

    /// Waits until the chassis has the flows for every northbound change
    /// made so far (`ovn-nbctl --wait=hv sync`).
    pub fn sync(&self) {
        self.nbctl(&["--wait=hv", "sync"]);
    }

    /// Polls `f` every 20 ms until true; panics after [`DEADLINE`] with
    /// the daemons' logs' tails.
    pub fn wait(&self, what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last lines of every daemon's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for (name, _) in &self.procs {
            let log = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                .unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            s.push_str(&format!("== {name}.log\n"));
            for l in &lines[lines.len().saturating_sub(8)..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

impl Drop for OvnDatapath {
    /// Kills and reaps every daemon, newest first; then the namespace
    /// (with br-int and the switch ends of the veths, which takes their
    /// peers along) and the directory go as the fields drop.
    fn drop(&mut self) {
        while let Some((_, mut child)) = self.procs.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `--unixctl=DIR/NAME.ctl`.
fn ctl(dir: &Path, name: &str) -> String {
    format!("--unixctl={}", dir.join(format!("{name}.ctl")).display())
}

/// Runs `cmd`; its stdout, or a panic with its stderr.
fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
