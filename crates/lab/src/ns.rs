//! Running things inside the lab's namespaces, with errors that name the
//! namespace, the command and its stderr.

use crate::{LabError, Result};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `f` on a thread that has entered namespace `ns` (`setns`); sockets
/// opened there stay in `ns` after `f` returns.
pub fn in_ns<R: Send>(ns: &str, f: impl FnOnce() -> R + Send) -> Result<R> {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|s| {
        s.spawn(move || {
            netns::enter(&path).map_err(|e| LabError::Command {
                ns: ns.to_string(),
                command: "setns".into(),
                stderr: e.to_string(),
            })?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Runs `cmd`, feeding it `stdin`; stdout, or [`LabError::Command`].
pub fn output(ns: &str, cmd: &mut Command, stdin: Option<&str>) -> Result<String> {
    let line = format!("{cmd:?}").replace('"', "");
    let err = |stderr: String| LabError::Command {
        ns: ns.to_string(),
        command: line.clone(),
        stderr,
    };
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|e| err(format!("writing stdin: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        let mut msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if let Some(text) = stdin {
            msg.push_str(&format!("\n(input was:\n{text})"));
        }
        return Err(err(msg));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `ip netns exec NS PROGRAM ARGS...`: stdout or the error.
pub fn exec(ns: &str, program: &str, args: &[&str]) -> Result<String> {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, program]).args(args);
    output(ns, &mut c, None)
}

/// `ip netns exec NS sh -c SCRIPT`.
pub fn sh(ns: &str, script: &str) -> Result<String> {
    exec(ns, "sh", &["-c", script])
}

/// `ip -n NS -batch -` with one `ip` command per line (much faster than
/// one process per command).
pub fn ip_batch(ns: &str, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut c = Command::new("ip");
    c.args(["-n", ns, "-batch", "-"]);
    output(ns, &mut c, Some(&(lines.join("\n") + "\n"))).map(drop)
}

/// `ip netns exec NS nft -f -` with `text`.
pub fn nft(ns: &str, text: &str) -> Result<()> {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns, "nft", "-f", "-"]);
    output(ns, &mut c, Some(text)).map(drop)
}

/// `ip netns add NAME` (and `lo` up).
pub fn create(name: &str) -> Result<()> {
    netns::NetNs::create(name)
        .map(|ns| drop(ns.keep()))
        .map_err(|e| LabError::Command {
            ns: "root".into(),
            command: format!("ip netns add {name}"),
            stderr: e.to_string(),
        })
}

/// Whether `name` is one of the namespaces a lab with `prefix` makes:
/// `PREFIX-ul`, `PREFIX-<l>br`, `PREFIX-<l><i>` or `PREFIX-<l><i>p`
/// (never another prefix's, nor anything else on the machine).
pub fn is_lab_namespace(prefix: &str, name: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    if rest == "ul" {
        return true;
    }
    let mut chars = rest.chars();
    match chars.next() {
        Some('a'..='i') => {}
        _ => return false,
    }
    let tail: &str = chars.as_str();
    if tail == "br" {
        return true;
    }
    let digits = tail.strip_suffix('p').unwrap_or(tail);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// The lab namespaces with `prefix` that exist now.
pub fn existing(prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = netns::list()
        .into_iter()
        .filter(|n| is_lab_namespace(prefix, n))
        .collect();
    v.sort();
    v
}

/// Kills every process inside each lab namespace with `prefix` and deletes
/// it (`ip netns pids` + `kill -9` + `ip netns del`); idempotent.
pub fn delete_all(prefix: &str) -> Result<()> {
    let mut failed = Vec::new();
    for name in existing(prefix) {
        if let Err(e) = netns::NetNs::delete(&name) {
            failed.push(format!("{name}: {e}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(LabError::Command {
            ns: "root".into(),
            command: "ip netns del".into(),
            stderr: failed.join("; "),
        })
    }
}

/// `ip netns exec NS PROGRAM ARGS...` whatever its exit status:
/// (exit code, stdout, stderr).
pub fn exec_any(ns: &str, program: &str, args: &[&str]) -> Result<(i32, String, String)> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            ns: ns.to_string(),
            command: format!("{program} {}", args.join(" ")),
            stderr: e.to_string(),
        })?;
    Ok(outcome(&out))
}

/// A finished command's (exit code, stdout, stderr); -1 when a signal
/// ended it.
pub fn outcome(out: &std::process::Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::is_lab_namespace;

    #[test]
    fn only_the_lab_s_own_names_match() {
        for n in ["ra-ul", "ra-abr", "ra-a1", "ra-a12p", "ra-i3"] {
            assert!(is_lab_namespace("ra", n), "{n}");
        }
        for n in [
            "ra-nftexp",
            "ra2-a1",
            "ra-a",
            "ra-ap",
            "ra-z1",
            "rab-ul",
            "ra-ulx",
            "ra-",
        ] {
            assert!(!is_lab_namespace("ra", n), "{n}");
        }
    }
}
