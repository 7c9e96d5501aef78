//! Network namespaces that are always removed.
//!
//! # Layout
//! - [`NetNs`]: a named namespace (`ip netns add NAME`) deleted on drop,
//!   after killing every process still inside it.
//! - [`NetNs::run`]: run a closure on a thread that has entered the
//!   namespace (netlink sockets opened there stay bound to it).
//! - [`NetNs::cmd`] / [`NetNs::sh`]: run a program inside (`ip netns exec`).
//! - [`current_state`]: the namespace's networking as text, to compare.
//! - [`require_root`]: panics loudly when namespaces cannot be made: kernel
//!   tests must never pass silently.
//!
//! Nothing here touches the root namespace beyond creating and deleting the
//! namespace mounts under /run/netns.

#![allow(unsafe_code)] // setns(2) has no safe wrapper in std

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace, removed when dropped (unless [`NetNs::keep`]).
#[derive(Debug)]
pub struct NetNs {
    name: String,
    keep: bool,
}

impl NetNs {
    /// Creates a fresh namespace named `PREFIX-PID-N` with loopback up
    /// (`ip netns add NAME && ip -n NAME link set lo up`).
    pub fn new(prefix: &str) -> io::Result<NetNs> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self::create(&format!("{prefix}-{}-{n}", std::process::id()))
    }

    /// Creates a namespace with exactly this name; fails if it exists.
    pub fn create(name: &str) -> io::Result<NetNs> {
        run_ok(Command::new("ip").args(["netns", "add", name]))?;
        let ns = NetNs {
            name: name.to_string(),
            keep: false,
        };
        run_ok(Command::new("ip").args(["-n", name, "link", "set", "lo", "up"]))?;
        Ok(ns)
    }

    /// Takes charge of an existing namespace (it will be deleted on drop).
    pub fn adopt(name: &str) -> NetNs {
        NetNs {
            name: name.to_string(),
            keep: false,
        }
    }

    /// Leaves the namespace in place when dropped; returns its name.
    pub fn keep(mut self) -> String {
        self.keep = true;
        self.name.clone()
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path of its handle, `/run/netns/NAME`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// Runs `f` on a new thread that has entered the namespace; returns its
    /// result (a panic in `f` is propagated).
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = self.path();
        std::thread::scope(|s| {
            s.spawn(move || {
                enter(&path)
                    .unwrap_or_else(|e| panic!("cannot enter network namespace {path}: {e}"));
                f()
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }

    /// `ip netns exec NAME PROGRAM`: a command to add arguments to.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `sh -c SCRIPT` inside; returns stdout, or an error carrying
    /// stderr when it exits non-zero.
    pub fn sh(&self, script: &str) -> io::Result<String> {
        let out = run_ok(self.cmd("sh").args(["-c", script]))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// PIDs of processes inside (`ip netns pids NAME`).
    pub fn pids(&self) -> Vec<i32> {
        Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Kills every process inside and deletes the namespace
    /// (`ip netns del NAME`). Deleting one that is gone is success.
    pub fn delete(name: &str) -> io::Result<()> {
        let ns = NetNs {
            name: name.to_string(),
            keep: true,
        };
        for pid in ns.pids() {
            // SAFETY: kill(2) with a pid read from the kernel; no memory involved.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if std::path::Path::new(&ns.path()).exists() {
            run_ok(Command::new("ip").args(["netns", "del", name]))?;
        }
        Ok(())
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = NetNs::delete(&self.name) {
                eprintln!(
                    "warning: could not delete network namespace {}: {e}",
                    self.name
                );
            }
        }
    }
}

/// Enters the network namespace at `path` on the current thread (`setns`).
pub fn enter(path: &str) -> io::Result<()> {
    let f = File::open(path)?;
    // SAFETY: setns on a valid, open namespace fd; affects only this thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Names of the namespaces that exist (`ip netns list`).
pub fn list() -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The networking state of the calling process's namespace as text
/// (`ip -o link`, `ip -o addr`, `ip route show table all`, `ip rule`,
/// `nft list ruleset`): tests compare it before and after to prove they left
/// the root namespace untouched.
pub fn current_state() -> String {
    let run = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| format!("<{args:?}: {e}>"))
    };
    [
        run(&["ip", "-o", "link"]),
        run(&["ip", "-o", "addr"]),
        run(&["ip", "route", "show", "table", "all"]),
        run(&["ip", "rule"]),
        run(&["nft", "list", "ruleset"]),
    ]
    .join("\n")
}

/// Panics with a clear message unless this process can create network
/// namespaces (root with CAP_SYS_ADMIN and iproute2 installed). Kernel tests
/// are `#[ignore = "needs root and network namespaces"]` and call this first,
/// so when they are asked for (`--include-ignored`, as `scripts/test.sh`
/// does) they fail loudly instead of passing silently.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert!(
        euid == 0,
        "this test needs root (network namespaces); run it as root, e.g. `sudo -E cargo test -- --include-ignored` or `bash scripts/test.sh`"
    );
    if let Err(e) = NetNs::new("ra-check") {
        panic!("this test needs network namespaces but `ip netns add` failed: {e}; install iproute2 and run as root");
    }
}

fn run_ok(c: &mut Command) -> io::Result<Output> {
    let out = c
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("{c:?}: {e}")))?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{c:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs root and network namespaces"]
    fn namespace_is_removed_on_drop_and_isolated() {
        require_root();
        let name;
        {
            let ns = NetNs::new("ra-nstest").unwrap();
            name = ns.name().to_string();
            assert!(list().contains(&name));
            let links = ns.sh("ip -o link").unwrap();
            assert_eq!(
                links.lines().count(),
                1,
                "a fresh namespace has only lo: {links}"
            );
            let inside = ns.run(|| std::fs::read_link("/proc/thread-self/ns/net").unwrap());
            let outside = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
            assert_ne!(inside, outside);
        }
        assert!(!list().contains(&name), "namespace {name} left behind");
    }
}
