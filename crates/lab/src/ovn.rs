//! [`OvnChassis`]: a real OVN datapath on one chassis, inside one lab
//! namespace (`PREFIX-ul`, the switch every node's port hangs on): the
//! northbound, southbound and Open_vSwitch databases (`ovsdb-tool
//! create`, `ovsdb-server --remote=punix:`), `ovn-northd`, `ovs-vswitchd`
//! with the userspace datapath (`ovs-vsctl add-br br-int -- set bridge
//! br-int datapath_type=netdev`) and `ovn-controller`
//! (`external_ids:ovn-bridge-datapath-type=netdev`). Each daemon has
//! `--pidfile`, `--log-file` and (where it takes one) `--unixctl` in the
//! chassis directory, which is also its OVS_RUNDIR / OVN_RUNDIR /
//! *_DBDIR / *_LOGDIR: nothing goes to /var/run/openvswitch. No kernel
//! module: the netdev datapath reads and writes its ports with AF_PACKET,
//! and br-int's own port is a tap inside the namespace.
//!
//! Ports are veth pairs: one end in a node's or pod's namespace (with the
//! logical port's MAC), the other a plain port on br-int bound to the
//! logical switch port by `external_ids:iface-id`. Every daemon is killed
//! and reaped on drop; the namespace is the lab's to delete.

use crate::ns::{output, sh};
use crate::{LabError, Result};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon, a database or the datapath gets: the machine may be loaded.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The binaries the datapath needs, and the Debian package of each.
const TOOLS: [(&str, &str); 9] = [
    ("ovsdb-server", "openvswitch-common"),
    ("ovsdb-tool", "openvswitch-common"),
    ("ovsdb-client", "openvswitch-common"),
    ("ovs-vsctl", "openvswitch-common"),
    ("ovs-vswitchd", "openvswitch-switch"),
    ("ovn-nbctl", "ovn-common"),
    ("ovn-northd", "ovn-central"),
    ("ovn-controller", "ovn-host"),
    ("ethtool", "ethtool"),
];

/// The environment variables pointing OVS and OVN at their directories.
const DIR_VARS: [&str; 8] = [
    "OVS_RUNDIR",
    "OVS_DBDIR",
    "OVS_LOGDIR",
    "OVS_SYSCONFDIR",
    "OVN_RUNDIR",
    "OVN_DBDIR",
    "OVN_LOGDIR",
    "OVN_SYSCONFDIR",
];

/// One chassis: databases and daemons inside [`OvnChassis::ns`].
#[derive(Debug)]
pub struct OvnChassis {
    /// The namespace of br-int and every OVN/OVS daemon.
    pub ns: String,
    /// Databases, sockets, pidfiles and logs.
    pub dir: PathBuf,
    procs: Vec<(&'static str, Child)>,
}

/// An error naming the tool that is missing and its package.
pub fn require_tools() -> Result<()> {
    for (tool, package) in TOOLS {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(LabError::Config(format!(
                "{tool} is missing: install {package} (bash scripts/setup.sh)"
            )));
        }
    }
    Ok(())
}

/// OVN-Kubernetes' MAC for an address: `0a:58:` and the address's bytes.
pub fn mac(ip: Ipv4Addr) -> String {
    let o = ip.octets();
    format!("0a:58:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
}

/// The address of `cidr` (`10.244.1.2/24` -> 10.244.1.2).
fn addr(cidr: &str) -> Result<Ipv4Addr> {
    cidr.split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| LabError::Config(format!("{cidr:?} is not an IPv4 address/prefix")))
}

impl OvnChassis {
    /// Starts the chassis in the existing namespace `ns`, its files in
    /// `dir` (created): NB database with `ovn_cluster_router` (`ovn-nbctl
    /// lr-add`), SB and Open_vSwitch databases, `ovn-northd`,
    /// `ovs-vswitchd`, br-int (netdev, `fail-mode=secure`) and
    /// `ovn-controller` as chassis `chassis-1`.
    pub fn start(ns: &str, dir: &Path) -> Result<OvnChassis> {
        require_tools()?;
        std::fs::create_dir_all(dir).map_err(|source| LabError::File {
            verb: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let mut c = OvnChassis {
            ns: ns.to_string(),
            dir: dir.to_path_buf(),
            procs: Vec::new(),
        };
        c.database("nb", "/usr/share/ovn/ovn-nb.ovsschema")?;
        c.database("sb", "/usr/share/ovn/ovn-sb.ovsschema")?;
        c.database("conf", "/usr/share/openvswitch/vswitch.ovsschema")?;
        c.nbctl(&["lr-add", "ovn_cluster_router"])?;
        c.vsctl(&["--no-wait", "init"])?;
        let nb = format!("--ovnnb-db={}", c.nb_db());
        let sb = format!("unix:{}", c.sock("sb").display());
        let conf = format!("unix:{}", c.sock("conf").display());
        c.spawn(
            "ovn-northd",
            "ovn-northd",
            &[&nb, &format!("--ovnsb-db={sb}"), &c.ctl("northd")],
        )?;
        c.spawn("ovs-vswitchd", "ovs-vswitchd", &[&conf, &c.ctl("vswitchd")])?;
        // Without --no-wait, ovs-vsctl returns once ovs-vswitchd has made the bridge.
        c.vsctl(&[
            "add-br",
            "br-int",
            "--",
            "set",
            "bridge",
            "br-int",
            "datapath_type=netdev",
            "fail-mode=secure",
            "other-config:disable-in-band=true",
        ])?;
        c.vsctl(&[
            "set",
            "open_vswitch",
            ".",
            "external_ids:system-id=chassis-1",
            &format!("external_ids:ovn-remote={sb}"),
            "external_ids:ovn-encap-type=geneve",
            "external_ids:ovn-encap-ip=127.0.0.1",
            "external_ids:ovn-bridge-datapath-type=netdev",
        ])?;
        // ovn-controller takes no --unixctl: its socket is OVN_RUNDIR/ovn-controller.PID.ctl.
        c.spawn("ovn-controller", "ovn-controller", &[&conf])?;
        // br-int's tap is in the namespace, and nothing of OVS in the root one.
        sh(&c.ns, "ip link show br-int")?;
        let root = Command::new("ip").args(["link", "show", "br-int"]).output();
        if root.is_ok_and(|o| o.status.success()) {
            return Err(LabError::Config(
                "br-int appeared in the root network namespace: is an Open vSwitch service running? \
                 (systemctl disable --now openvswitch-switch ovn-host)"
                    .into(),
            ));
        }
        Ok(c)
    }

    /// `unix:DIR/nb.sock`: the northbound database, for `OVN_NB_DB`.
    pub fn nb_db(&self) -> String {
        format!("unix:{}", self.sock("nb").display())
    }

    fn sock(&self, db: &str) -> PathBuf {
        self.dir.join(format!("{db}.sock"))
    }

    fn ctl(&self, name: &str) -> String {
        format!(
            "--unixctl={}",
            self.dir.join(format!("{name}.ctl")).display()
        )
    }

    /// `ip netns exec NS PROGRAM` with this chassis's directories.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, program]);
        for var in DIR_VARS {
            c.env(var, &self.dir);
        }
        c
    }

    /// Starts `PROGRAM ARGS --pidfile=DIR/NAME.pid --log-file=DIR/NAME.log
    /// --no-chdir` in the foreground (not `--detach`: [`Drop`] reaps it).
    fn spawn(&mut self, name: &'static str, program: &str, args: &[&str]) -> Result<()> {
        let mut cmd = self.cmd(program);
        cmd.args(args)
            .arg(format!(
                "--pidfile={}",
                self.dir.join(format!("{name}.pid")).display()
            ))
            .arg(format!(
                "--log-file={}",
                self.dir.join(format!("{name}.log")).display()
            ))
            .arg("--no-chdir")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().map_err(|e| LabError::Command {
            ns: self.ns.clone(),
            command: program.into(),
            stderr: e.to_string(),
        })?;
        self.procs.push((name, child));
        Ok(())
    }

    /// `ovsdb-tool create DIR/NAME.db SCHEMA` and `ovsdb-server` on
    /// `punix:DIR/NAME.sock`; returns once `ovsdb-client list-dbs` answers.
    fn database(&mut self, name: &'static str, schema: &str) -> Result<()> {
        let db = self.dir.join(format!("{name}.db"));
        output(
            "root",
            Command::new("ovsdb-tool")
                .arg("create")
                .arg(&db)
                .arg(schema),
            None,
        )?;
        let server = match name {
            "nb" => "ovsdb-server-nb",
            "sb" => "ovsdb-server-sb",
            _ => "ovsdb-server-conf",
        };
        let remote = format!("--remote=punix:{}", self.sock(name).display());
        let ctl = self.ctl(server);
        self.spawn(
            server,
            "ovsdb-server",
            &[db.to_str().unwrap_or_default(), &remote, &ctl],
        )?;
        let sock = format!("unix:{}", self.sock(name).display());
        self.wait(&format!("{server} answering"), || {
            Command::new("ovsdb-client")
                .args(["--timeout=1", "list-dbs", &sock])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
    }

    /// `ovs-vsctl --db=unix:DIR/conf.sock --timeout=30 ARGS`; stdout.
    pub fn vsctl(&self, args: &[&str]) -> Result<String> {
        let mut c = self.cmd("ovs-vsctl");
        c.arg(format!("--db=unix:{}", self.sock("conf").display()))
            .arg(format!("--timeout={}", DEADLINE.as_secs()))
            .args(args);
        output(&self.ns, &mut c, None)
    }

    /// `ovn-nbctl --db=unix:DIR/nb.sock --timeout=30 ARGS`; stdout.
    pub fn nbctl(&self, args: &[&str]) -> Result<String> {
        let mut c = self.cmd("ovn-nbctl");
        c.arg(format!("--db={}", self.nb_db()))
            .arg(format!("--timeout={}", DEADLINE.as_secs()))
            .args(args);
        output(&self.ns, &mut c, None)
    }

    /// The OVN-Kubernetes shape of one node on `ovn_cluster_router`:
    /// router port `rtos-NODE` holding `gateway` (e.g. 10.244.1.1/24) and
    /// the node's logical switch `NODE` attached to it by `stor-NODE`
    /// (`ovn-nbctl lrp-add`, `ls-add`, `lsp-add` + `lsp-set-type router`).
    pub fn node_switch(&self, node: &str, gateway: &str) -> Result<()> {
        let (rtos, stor) = (format!("rtos-{node}"), format!("stor-{node}"));
        let opt = format!("router-port={rtos}");
        self.nbctl(&[
            "lrp-add",
            "ovn_cluster_router",
            &rtos,
            &mac(addr(gateway)?),
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
        ])
        .map(drop)
    }

    /// Logical switch port `port` on `switch` with addresses "MAC IP" (no
    /// port security, as OVN-Kubernetes' management port), and its wire:
    /// `ip link add IFNAME address MAC type veth peer name PORT netns UL`
    /// run inside namespace `ns`, the address `cidr` on IFNAME, TX
    /// checksum offload off on it (`ethtool -K IFNAME tx off`: the
    /// userspace datapath reads frames with AF_PACKET and passes a partial
    /// checksum on as it is), and `ovs-vsctl add-port br-int PORT -- set
    /// interface PORT external_ids:iface-id=PORT`.
    pub fn attach(
        &self,
        ns: &str,
        ifname: &str,
        switch: &str,
        port: &str,
        cidr: &str,
    ) -> Result<()> {
        let ip = addr(cidr)?;
        let mac = mac(ip);
        self.nbctl(&[
            "lsp-add",
            switch,
            port,
            "--",
            "lsp-set-addresses",
            port,
            &format!("{mac} {ip}"),
        ])?;
        sh(
            ns,
            &format!(
                "set -e
                 ip link add {ifname} address {mac} type veth peer name {port} netns {ul}
                 sysctl -qw net.ipv6.conf.{ifname}.disable_ipv6=1
                 ip addr add {cidr} dev {ifname}
                 ethtool -K {ifname} tx off >/dev/null
                 ip link set {ifname} up",
                ul = self.ns
            ),
        )?;
        sh(&self.ns, &format!("ip link set {port} up"))?;
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
        ])
        .map(drop)
    }

    /// Waits until ovn-controller has bound `port` and northd has reported
    /// it (`ovn-nbctl wait-until Logical_Switch_Port PORT up=true`).
    pub fn wait_up(&self, port: &str) -> Result<()> {
        self.nbctl(&["wait-until", "Logical_Switch_Port", port, "up=true"])
            .map(drop)
    }

    /// Waits until the chassis has the flows for every northbound change
    /// made so far (`ovn-nbctl --wait=hv sync`).
    pub fn sync(&self) -> Result<()> {
        self.nbctl(&["--wait=hv", "sync"]).map(drop)
    }

    /// Polls `f` every 20 ms until true; after [`DEADLINE`] an error with
    /// the tails of the daemons' logs.
    pub fn wait(&self, what: &str, mut f: impl FnMut() -> bool) -> Result<()> {
        let start = Instant::now();
        while !f() {
            if start.elapsed() > DEADLINE {
                return Err(LabError::Agent {
                    node: self.ns.clone(),
                    detail: format!("timed out waiting for {what}\n{}", self.logs()),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The last lines of every daemon's log, for error messages.
    pub fn logs(&self) -> String {
        self.procs
            .iter()
            .map(|(name, _)| {
                let log = self.dir.join(format!("{name}.log"));
                format!(
                    "--- {} ---\n{}\n",
                    log.display(),
                    crate::agents::log_tail(&log, 8)
                )
            })
            .collect()
    }
}

impl Drop for OvnChassis {
    /// Kills and reaps every daemon, newest first.
    fn drop(&mut self) {
        while let Some((_, mut child)) = self.procs.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
