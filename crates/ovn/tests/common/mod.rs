//! A real OVN northbound database for tests: `ovsdb-tool create` from
//! Debian's `ovn-nb.ovsschema` in a temporary directory, `ovsdb-server` on
//! a unix socket there (and, optionally, `pssl:` on the loopback of a
//! network namespace, with certificates made by the `openssl` CLI), killed
//! on drop. `ovn-nbctl` is the independent reader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ovsdb::Endpoint;

/// The schema Debian's ovn-central ships.
pub const SCHEMA: &str = "/usr/share/ovn/ovn-nb.ovsschema";

/// Panics with the fix when a binary or the schema is missing: these
/// tests must never pass without the real database.
pub fn require_tools() {
    for tool in ["ovsdb-tool", "ovsdb-server", "ovn-nbctl"] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{tool} is missing: install ovn-central and openvswitch-common (bash scripts/setup.sh)"
        );
    }
    assert!(
        Path::new(SCHEMA).exists(),
        "{SCHEMA} is missing: install ovn-central"
    );
}

/// TLS material and where `pssl:` listens.
pub struct Ssl {
    /// The namespace `ovsdb-server` runs in.
    pub ns: netns::NetNs,
    /// `pssl:` port on 127.0.0.1 inside it.
    pub port: u16,
}

/// A running northbound database (killed on drop).
pub struct NbServer {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub ssl: Option<Ssl>,
}

impl NbServer {
    /// A fresh database with `ovn_cluster_router`, served on a unix socket.
    pub fn start() -> NbServer {
        require_tools();
        let dir = tempfile::tempdir().unwrap();
        run(Command::new("ovsdb-tool")
            .arg("create")
            .arg(dir.path().join("nb.db"))
            .arg(SCHEMA));
        let mut s = NbServer {
            dir,
            child: None,
            ssl: None,
        };
        s.spawn();
        s.nbctl(&["lr-add", "ovn_cluster_router"]);
        s
    }

    /// Like [`NbServer::start`], inside a fresh namespace, also listening
    /// on `pssl:PORT:127.0.0.1` with certificates for `ovn` signed by a
    /// CA of the test's making.
    pub fn start_ssl() -> NbServer {
        require_tools();
        netns::require_root();
        let dir = tempfile::tempdir().unwrap();
        make_certs(dir.path());
        run(Command::new("ovsdb-tool")
            .arg("create")
            .arg(dir.path().join("nb.db"))
            .arg(SCHEMA));
        let ns = netns::NetNs::new("ra-ovn").unwrap();
        let mut s = NbServer {
            dir,
            child: None,
            ssl: Some(Ssl { ns, port: 6641 }),
        };
        s.spawn();
        s.nbctl(&["lr-add", "ovn_cluster_router"]);
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `unix:DIR/nb.sock`.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Unix(self.path("nb.sock"))
    }

    /// The client's certificate, key and CA.
    pub fn tls(&self) -> ovsdb::TlsFiles {
        let p = |n: &str| self.path(n).to_str().unwrap().to_string();
        ovsdb::TlsFiles::new(&p("client.crt"), &p("client.key"), &p("ca.crt"))
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let mut args: Vec<String> = vec![
            d.join("nb.db").display().to_string(),
            format!("--remote=punix:{}", d.join("nb.sock").display()),
            format!("--unixctl={}", d.join("ctl").display()),
            format!("--log-file={}", d.join("ovsdb-server.log").display()),
            "--no-chdir".into(),
        ];
        let mut cmd = match &self.ssl {
            Some(ssl) => {
                args.push(format!("--remote=pssl:{}:127.0.0.1", ssl.port));
                args.push(format!("--private-key={}", d.join("server.key").display()));
                args.push(format!("--certificate={}", d.join("server.crt").display()));
                args.push(format!("--ca-cert={}", d.join("ca.crt").display()));
                let mut c = ssl.ns.cmd("ovsdb-server");
                c.args(&args);
                c
            }
            None => {
                let mut c = Command::new("ovsdb-server");
                c.args(&args);
                c
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ovsdb-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.nbctl_ok(&["--timeout=1", "show"]) {
            assert!(
                Instant::now() < deadline,
                "ovsdb-server did not come up; see {}",
                d.join("ovsdb-server.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (the database file stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.path("nb.sock"));
    }

    /// Starts the server again on the same database file.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn nbctl_ok(&self, args: &[&str]) -> bool {
        Command::new("ovn-nbctl")
            .arg(format!("--db=unix:{}", self.path("nb.sock").display()))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `ovn-nbctl --db=unix:DIR/nb.sock ARGS`, stdout; panics on failure.
    pub fn nbctl(&self, args: &[&str]) -> String {
        run(Command::new("ovn-nbctl")
            .arg(format!("--db=unix:{}", self.path("nb.sock").display()))
            .args(args))
    }

    /// Every policy and static route as `ovn-nbctl` lists them, one line
    /// per row with all its columns (for byte-identical comparisons).
    pub fn rows(&self, table: &str) -> Vec<String> {
        let out = self.nbctl(&[
            "--format=csv",
            "--data=bare",
            "--no-headings",
            "list",
            table,
        ]);
        let mut v: Vec<String> = out.lines().map(str::to_string).collect();
        v.sort();
        v
    }
}

impl Drop for NbServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A CA, a server certificate for `ovn` and a client certificate, with
/// the `openssl` CLI.
fn make_certs(dir: &Path) {
    let sh = |script: &str| {
        run(Command::new("sh").arg("-ec").arg(script).current_dir(dir));
    };
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
    for (name, cn) in [("server", "ovn"), ("client", "routeagent")] {
        sh(&format!(
            "openssl req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr -subj /CN={cn} 2>/dev/null
             printf 'subjectAltName=DNS:{cn}\\nbasicConstraints=CA:FALSE\\nkeyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth,clientAuth\\n' > {name}.ext
             openssl x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out {name}.crt -days 2 -extfile {name}.ext 2>/dev/null"
        ));
    }
}
