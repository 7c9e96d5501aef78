//! The agents: one `routeagent run` per node namespace, as a process or as
//! a container ([`crate::container`]), their `/status` (HTTP over the
//! namespace's own 127.0.0.1), restarts and waiting for convergence.

use crate::ns::in_ns;
use crate::{LabError, Result};
use serde_json::Value;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A running agent.
#[derive(Debug)]
pub struct Agent {
    /// Node name (`a1`).
    pub node: String,
    /// Its namespace.
    pub ns: String,
    /// The process (`ip netns exec` execs the agent, so this is its pid),
    /// or the attached `podman run` of its container.
    pub child: Child,
    /// Its container's name, when it runs as one.
    pub container: Option<String>,
    /// The container's first process (the agent), once looked up.
    container_pid: OnceLock<i32>,
    /// The extra arguments it was started with.
    pub extra: Vec<String>,
    /// Its log file.
    pub log: PathBuf,
}

/// What [`spawn`] needs to start one agent.
#[derive(Debug, Clone)]
pub struct AgentSpec<'a> {
    /// The `routeagent` binary.
    pub binary: &'a Path,
    /// Node name.
    pub node: &'a str,
    /// Node namespace.
    pub ns: &'a str,
    /// Topology file of its cluster.
    pub config: &'a Path,
    /// Its state dir.
    pub state_dir: &'a Path,
    /// Its log (appended to).
    pub log: &'a Path,
    /// Listen port on the namespace's 127.0.0.1.
    pub port: u16,
    /// Extra `run` arguments.
    pub extra: &'a [String],
    /// Extra environment of the agent process (e.g. `OVN_NB_DB`); process
    /// agents only: a container has its manifest's environment.
    pub env: &'a [(&'a str, String)],
    /// Run it as a container of this image, named and labelled with this
    /// lab prefix: (image, prefix).
    pub container: Option<(&'a str, &'a str)>,
}

/// `ip netns exec NS routeagent run --config F --node N --listen
/// 127.0.0.1:PORT --state-dir D EXTRA... >>LOG 2>&1`; as a container,
/// `podman run ... IMAGE run --config /etc/routeagent/lab/F --listen
/// 127.0.0.1:PORT EXTRA... >>LOG 2>&1` ([`crate::container::command`]: the
/// node name comes from the manifest's `NODE_NAME`, the state dir is its
/// hostPath volume under D).
pub fn spawn(spec: &AgentSpec) -> Result<Agent> {
    let err = |detail: String| LabError::Agent {
        node: spec.node.to_string(),
        detail,
    };
    std::fs::create_dir_all(spec.state_dir)
        .map_err(|e| err(format!("state dir {}: {e}", spec.state_dir.display())))?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(spec.log)
        .map_err(|e| err(format!("log {}: {e}", spec.log.display())))?;
    let log2 = log
        .try_clone()
        .map_err(|e| err(format!("log {}: {e}", spec.log.display())))?;
    let listen = format!("127.0.0.1:{}", spec.port);
    let (mut cmd, container) = match spec.container {
        None => {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", spec.ns])
                .arg(spec.binary)
                .arg("run")
                .arg("--config")
                .arg(spec.config)
                .args(["--node", spec.node, "--listen", &listen])
                .arg("--state-dir")
                .arg(spec.state_dir)
                .args(spec.extra)
                .envs(spec.env.iter().map(|(k, v)| (*k, v)));
            (cmd, None)
        }
        Some((image, prefix)) => {
            let name = crate::container::name(prefix, spec.node);
            let run = container_run(spec, image, prefix)?;
            let file = spec
                .config
                .file_name()
                .unwrap_or_default()
                .to_string_lossy();
            let mut args: Vec<String> = vec![
                "run".into(),
                "--config".into(),
                format!("{}/{file}", crate::container::CONFIG_DIR),
                "--listen".into(),
                listen.clone(),
            ];
            args.extend(spec.extra.iter().cloned());
            let cmd = crate::container::command(&run, crate::container::AGENT, &name, &args)?;
            (cmd, Some(name))
        }
    };
    cmd.stdin(Stdio::null()).stdout(log).stderr(log2);
    let child = cmd.spawn().map_err(|e| {
        err(format!(
            "cannot start `{cmd:?}`: {e}; is {} there?",
            if spec.container.is_some() {
                "podman".into()
            } else {
                spec.binary.display().to_string()
            }
        ))
    })?;
    Ok(Agent {
        node: spec.node.to_string(),
        ns: spec.ns.to_string(),
        child,
        container,
        container_pid: OnceLock::new(),
        extra: spec.extra.to_vec(),
        log: spec.log.to_path_buf(),
    })
}

/// The container of `spec`'s node: its node root for hostPath volumes is
/// the state dir; the topology file's directory is mounted.
pub fn container_run<'a>(
    spec: &'a AgentSpec,
    image: &'a str,
    prefix: &'a str,
) -> Result<crate::container::Run<'a>> {
    Ok(crate::container::Run {
        image,
        prefix,
        node: spec.node,
        ns: spec.ns,
        host_root: spec.state_dir,
        config_dir: spec.config.parent().ok_or_else(|| LabError::Agent {
            node: spec.node.to_string(),
            detail: format!("topology file {} has no directory", spec.config.display()),
        })?,
    })
}

/// The agent's pid: the process's, or its container's first process
/// (looked up once).
fn pid(agent: &Agent) -> Option<i32> {
    let Some(name) = &agent.container else {
        return i32::try_from(agent.child.id()).ok();
    };
    if let Some(p) = agent.container_pid.get() {
        return Some(*p);
    }
    let p = crate::container::pid(name)?;
    Some(*agent.container_pid.get_or_init(|| p))
}

/// Sends `sig` to the agent (`kill -SIG PID`; a container's agent is its
/// first process, which takes SIGSTOP from this namespace like any other).
#[allow(unsafe_code)]
pub fn signal(agent: &Agent, sig: i32) {
    if let Some(pid) = pid(agent) {
        // SAFETY: kill(2) on our own child's pid; no memory involved.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Stops the agent: SIGCONT (in case it was stopped), SIGTERM, up to 3 s
/// to exit, then SIGKILL; reaps it. A container is stopped and removed
/// ([`crate::container::stop`]) whether or not it still runs; then its
/// `podman run` is reaped.
pub fn stop(agent: &mut Agent) {
    if let Some(name) = &agent.container {
        if !matches!(agent.child.try_wait(), Ok(Some(_))) {
            signal(agent, libc::SIGCONT);
        }
        crate::container::stop(name);
    } else {
        if matches!(agent.child.try_wait(), Ok(Some(_))) {
            return;
        }
        signal(agent, libc::SIGCONT);
        signal(agent, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if matches!(agent.child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = agent.child.kill();
    let _ = agent.child.wait();
}

/// `GET PATH` on `127.0.0.1:PORT` inside `ns`: (status code, body).
pub fn http_get(ns: &str, port: u16, path: &str) -> Result<(u16, String)> {
    let err = |detail: String| LabError::Command {
        ns: ns.to_string(),
        command: format!("GET http://127.0.0.1:{port}{path}"),
        stderr: detail,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = in_ns(ns, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(500))
    })?
    .map_err(|e| err(e.to_string()))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| err(e.to_string()))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| err(e.to_string()))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| err(format!("not an HTTP response: {text:.200}")))?;
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| err(format!("no status line: {head:.200}")))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Ok((
        code,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    ))
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The agent's `/status` as JSON.
pub fn status(ns: &str, port: u16) -> Result<Value> {
    let (code, body) = http_get(ns, port, "/status")?;
    serde_json::from_str(&body).map_err(|e| LabError::Command {
        ns: ns.to_string(),
        command: format!("GET http://127.0.0.1:{port}/status"),
        stderr: format!("HTTP {code}, body is not JSON ({e}): {body:.300}"),
    })
}

/// Why `status` is not converged on the config with `digest`, or `None`.
pub fn not_converged(status: &Value, digest: &str) -> Option<String> {
    let converged = status["converged"].as_bool() == Some(true);
    let got = status["config_digest"].as_str().unwrap_or("?");
    if converged && got == digest {
        return None;
    }
    Some(format!(
        "converged={} config_digest={got} (want {digest}) errors={}",
        status["converged"], status["errors"]
    ))
}

/// The last `n` lines of `path` (for error messages).
pub fn log_tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Waits until every agent in `agents` (with its expected digest) reports
/// converged on that digest; an agent that exits fails at once.
pub fn wait_converged(
    agents: &mut [(&mut Agent, String)],
    port: u16,
    timeout: Duration,
) -> Result<()> {
    let start = Instant::now();
    let mut why: Vec<Option<String>> = vec![Some("not polled yet".into()); agents.len()];
    loop {
        for (i, (agent, digest)) in agents.iter_mut().enumerate() {
            if why[i].is_none() {
                continue;
            }
            if let Ok(Some(code)) = agent.child.try_wait() {
                return Err(LabError::NotConverged {
                    seconds: start.elapsed().as_secs(),
                    not_converged: vec![format!("{}: exited with {code}", agent.node)],
                    logs: format!(
                        "--- {} ---\n{}",
                        agent.log.display(),
                        log_tail(&agent.log, 20)
                    ),
                });
            }
            why[i] = match status(&agent.ns, port) {
                Ok(s) => not_converged(&s, digest),
                Err(e) => Some(e.to_string()),
            };
        }
        if why.iter().all(Option::is_none) {
            return Ok(());
        }
        if start.elapsed() > timeout {
            let mut names = Vec::new();
            let mut logs = String::new();
            for (i, (agent, _)) in agents.iter().enumerate() {
                if let Some(w) = &why[i] {
                    names.push(format!("{}: {w}", agent.node));
                    logs.push_str(&format!(
                        "--- {} ---\n{}\n",
                        agent.log.display(),
                        log_tail(&agent.log, 15)
                    ));
                }
            }
            return Err(LabError::NotConverged {
                seconds: timeout.as_secs(),
                not_converged: names,
                logs,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }

    #[test]
    fn convergence_needs_the_digest() {
        let s = serde_json::json!({"converged": true, "config_digest": "00000000000000aa"});
        assert_eq!(not_converged(&s, "00000000000000aa"), None);
        assert!(not_converged(&s, "00000000000000bb").is_some());
        let s = serde_json::json!({"converged": false, "config_digest": "00000000000000aa"});
        assert!(not_converged(&s, "00000000000000aa").is_some());
    }
}
