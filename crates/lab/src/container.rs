//! Agents as containers (`routeagent lab --agents container`): the
//! project's image (`bash scripts/image.sh`) run by podman inside each
//! node's namespace, with the security context, mounts and environment of
//! deploy/daemonset.yaml ([`crate::pod::translate`]), the lab's topology
//! directory mounted read-only and the lab's arguments. Every container is
//! named `PREFIX-NODE-PID-N` and labelled `routeagent.lab=PREFIX`: stopping
//! an agent removes its container, and [`remove_all`] (from
//! [`crate::down_prefix`]) removes whatever a lab left, also after a crash.

use crate::pod::{translate, HostPathType, PodFacts};
use crate::{LabError, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The label every lab container carries, with the lab's prefix as value.
pub const LABEL: &str = "routeagent.lab";
/// podman's default rlimits exceed these machines' hard limits.
pub const ULIMITS: [&str; 4] = [
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];
/// Where the lab's topology directory appears inside a container.
pub const CONFIG_DIR: &str = "/etc/routeagent/lab";

/// Which manifest and container a lab container reproduces.
#[derive(Debug, Clone, Copy)]
pub struct Manifest {
    /// The manifest's text ([`crate::pod::DAEMONSET`]).
    pub text: &'static str,
    /// Its path in the repository, for errors.
    pub source: &'static str,
    /// The container's name in it.
    pub container: &'static str,
}

/// deploy/daemonset.yaml's `routeagent` container: the agent.
pub const AGENT: Manifest = Manifest {
    text: crate::pod::DAEMONSET,
    source: "deploy/daemonset.yaml",
    container: "routeagent",
};
/// deploy/uninstall-daemonset.yaml's `uninstall` init container.
pub const UNINSTALL: Manifest = Manifest {
    text: crate::pod::UNINSTALL_DAEMONSET,
    source: "deploy/uninstall-daemonset.yaml",
    container: "uninstall",
};

/// One container to run for a node.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The image (`localhost/routeagent:dev`).
    pub image: &'a str,
    /// The lab's prefix (name and label).
    pub prefix: &'a str,
    /// The node.
    pub node: &'a str,
    /// Its namespace.
    pub ns: &'a str,
    /// The node's filesystem root for hostPath volumes.
    pub host_root: &'a Path,
    /// The directory of the topology files, mounted at [`CONFIG_DIR`].
    pub config_dir: &'a Path,
}

/// A new container name for `node`: `PREFIX-NODE-PID-N`.
pub fn name(prefix: &str, node: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{node}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `podman run --rm --pull=never --name NAME --label routeagent.lab=PREFIX
/// --ulimit ... FLAGS --volume CONFIG_DIR:/etc/routeagent/lab:ro IMAGE
/// ARGS...` where FLAGS are `manifest`'s translated for this node; creates
/// the host paths its hostPath volumes ask for first.
pub fn command(run: &Run, manifest: Manifest, name: &str, args: &[String]) -> Result<Command> {
    let err = |detail: String| LabError::Agent {
        node: run.node.to_string(),
        detail,
    };
    let netns = Path::new("/run/netns").join(run.ns);
    let facts = PodFacts {
        node_name: run.node,
        pod_name: name,
        netns: &netns,
        host_root: run.host_root,
    };
    let pod = translate(manifest.text, manifest.source, manifest.container, &facts)?;
    for h in &pod.host_paths {
        let made = match h.kind {
            HostPathType::DirectoryOrCreate => std::fs::create_dir_all(&h.path),
            HostPathType::FileOrCreate => (|| {
                if let Some(dir) = h.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&h.path)
                    .map(drop)
            })(),
            HostPathType::Any | HostPathType::Directory | HostPathType::File => Ok(()),
        };
        made.map_err(|e| err(format!("hostPath {}: {e}", h.path.display())))?;
        let ok = match h.kind {
            HostPathType::Directory | HostPathType::DirectoryOrCreate => h.path.is_dir(),
            HostPathType::File | HostPathType::FileOrCreate => h.path.is_file(),
            HostPathType::Any => h.path.exists(),
        };
        if !ok {
            return Err(err(format!(
                "hostPath {} is missing or of the wrong type ({:?})",
                h.path.display(),
                h.kind
            )));
        }
    }
    let mut cmd = Command::new("podman");
    cmd.args(["run", "--rm", "--pull=never", "--name", name])
        .arg(format!("--label={LABEL}={}", run.prefix))
        .args(ULIMITS)
        .args(&pod.flags)
        .arg(format!(
            "--volume={}:{CONFIG_DIR}:ro",
            run.config_dir.display()
        ))
        .arg(run.image)
        .args(args)
        .stdin(Stdio::null());
    Ok(cmd)
}

/// Runs `manifest`'s container once with `args` (doctor, uninstall) and
/// waits: (exit code, stdout, stderr).
pub fn run_once(run: &Run, manifest: Manifest, args: &[String]) -> Result<(i32, String, String)> {
    let name = name(run.prefix, run.node);
    let mut cmd = command(run, manifest, &name, args)?;
    let out = cmd.output();
    remove(&name);
    let out = out.map_err(|e| LabError::Command {
        ns: run.ns.to_string(),
        command: format!("podman run {} ...", run.image),
        stderr: e.to_string(),
    })?;
    Ok(crate::ns::outcome(&out))
}

/// Refuses to start when podman or `image` is missing, naming the fix.
pub fn preflight(image: &str) -> Result<()> {
    let err = |detail: String| LabError::Config(format!("--agents container: {detail}"));
    let version = Command::new("podman").arg("--version").output();
    if !version.as_ref().is_ok_and(|o| o.status.success()) {
        return Err(err(format!(
            "podman is missing ({}): apt-get install podman runc (scripts/setup.sh)",
            match version {
                Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            }
        )));
    }
    let exists = Command::new("podman")
        .args(["image", "exists", image])
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        return Err(err(format!(
            "no image {image}: build it with `bash scripts/image.sh`"
        )));
    }
    Ok(())
}

/// The host pid of container `name`'s first process (`podman inspect
/// --format {{.State.Pid}} NAME`), when it runs.
pub fn pid(name: &str) -> Option<i32> {
    let out = Command::new("podman")
        .args(["inspect", "--format", "{{.State.Pid}}", name])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
}

/// `podman stop --time 3 NAME` (SIGTERM, then SIGKILL), then [`remove`].
pub fn stop(name: &str) {
    let _ = Command::new("podman")
        .args(["stop", "--ignore", "--time", "3", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    remove(name);
}

/// `podman rm -f --ignore NAME`.
pub fn remove(name: &str) {
    let _ = Command::new("podman")
        .args(["rm", "-f", "--ignore", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Removes every container labelled `routeagent.lab=PREFIX` (`podman rm
/// -f` of `podman ps -a --filter label=...`); nothing to do without podman.
pub fn remove_all(prefix: &str) -> Result<()> {
    let filter = format!("label={LABEL}={prefix}");
    let listed = match Command::new("podman")
        .args(["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"])
        .stdin(Stdio::null())
        .output()
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        r => r,
    };
    let err = |stderr: String| LabError::Command {
        ns: "root".into(),
        command: format!("podman ps -a --filter {filter}"),
        stderr,
    };
    let out = listed.map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    let out = Command::new("podman")
        .args(["rm", "-f", "--ignore"])
        .args(&names)
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(LabError::Command {
            ns: "root".into(),
            command: format!("podman rm -f {}", names.join(" ")),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}
