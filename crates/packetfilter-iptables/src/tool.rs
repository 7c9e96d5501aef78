//! Running iptables-restore, iptables-save and ipset, and turning their
//! failures into [`packetfilter::Error`]s that name the object.

use crate::script::Script;
use capabilities::IptablesVariant;
use packetfilter::{Error, Object, Result};
use ruleset::IpVersion;
use std::io::Write;
use std::process::{Command, Stdio};

/// The binary for `tool` (`restore` or `save`) of this variant and IP
/// version: `iptables-nft-restore`, `ip6tables-legacy-save`, ...
pub fn binary(variant: IptablesVariant, v: IpVersion, tool: &str) -> String {
    let ip = if v == IpVersion::V4 {
        "iptables"
    } else {
        "ip6tables"
    };
    let var = match variant {
        IptablesVariant::Nft => "nft",
        IptablesVariant::Legacy => "legacy",
    };
    format!("{ip}-{var}-{tool}")
}

/// Runs `program args` with `input` on stdin; returns stdout, or
/// `Err((exit description, stderr))`.
pub fn run(program: &str, args: &[&str], input: &str) -> Result<String, (String, String)> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| (format!("cannot run {program}: {e}"), String::new()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A tool that exits early closes the pipe; its stderr says why.
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| (format!("waiting for {program}: {e}"), String::new()))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err((format!("{program} exited with {}", out.status), stderr))
    }
}

/// `iptables-save` (read-only) of this variant and version.
pub fn save(variant: IptablesVariant, v: IpVersion) -> Result<String> {
    let bin = binary(variant, v, "save");
    run(&bin, &[], "").map_err(|(what, stderr)| Error::Tool {
        tool: bin.clone(),
        object: Object::Transaction,
        detail: format!("{what}: {stderr}; is the iptables package installed?"),
    })
}

/// `iptables-restore -w --noflush [--test]` with `script` on stdin. A
/// failure names the object written by the line the tool reports
/// (`line N failed`, `Error occurred at line: N`).
pub fn restore(variant: IptablesVariant, v: IpVersion, script: &Script, test: bool) -> Result<()> {
    if script.is_empty() {
        return Ok(());
    }
    let bin = binary(variant, v, "restore");
    let mut args = vec!["-w", "--noflush"];
    if test {
        args.push("--test");
    }
    let text = script.text();
    tracing::debug!(tool = %bin, test, "restore file:\n{text}");
    run(&bin, &args, &text)
        .map(|_| ())
        .map_err(|(what, stderr)| {
            let (object, at) = blame(script, &stderr);
            Error::Tool {
                tool: bin.clone(),
                object,
                detail: format!("{what}: {}{at}", first_lines(&stderr)),
            }
        })
}

/// The object a restore failure is attributed to, and where it happened.
/// A rule line the tool names maps to its model rule. A failure reported
/// at `COMMIT` (the kernel refused the table as a whole: iptables-legacy,
/// or iptables-nft's "Chain 'X' does not exist") is attributed to the first
/// rule jumping to the missing chain when the message names one, otherwise
/// to the transaction, with the table named.
fn blame(script: &Script, stderr: &str) -> (Object, String) {
    let Some(n) = failed_line(stderr) else {
        return (Object::Transaction, String::new());
    };
    let text = script
        .lines
        .get(n.wrapping_sub(1))
        .cloned()
        .unwrap_or_default();
    if let Some(o) = script.object_at(n) {
        return (o.clone(), format!(" (restore line {n}: {text})"));
    }
    if let Some(chain) = stderr
        .split("Chain '")
        .nth(1)
        .and_then(|r| r.split('\'').next())
    {
        let jump = format!("-j {chain}");
        if let Some(i) = script.lines.iter().position(|l| {
            l.starts_with("-A ") && (l.ends_with(&jump) || l.contains(&format!("{jump} ")))
        }) {
            if let Some(o) = script.object_at(i + 1) {
                return (
                    o.clone(),
                    format!(" (restore line {}: {})", i + 1, script.lines[i]),
                );
            }
        }
    }
    let table = script.lines[..n.min(script.lines.len())]
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix('*'))
        .unwrap_or("?");
    (
        Object::Transaction,
        format!(" (restore line {n}: {text} of table {table})"),
    )
}

/// `ipset restore` with `script` on stdin.
pub fn ipset_restore(script: &str, object: Object) -> Result<()> {
    if script.is_empty() {
        return Ok(());
    }
    tracing::debug!("ipset restore:\n{script}");
    run("ipset", &["restore"], script)
        .map(|_| ())
        .map_err(|(what, stderr)| Error::Tool {
            tool: "ipset".into(),
            object,
            detail: format!("{what}: {}", first_lines(&stderr)),
        })
}

/// `ipset ARGS` (read-only uses: `list -n`, `list NAME`).
pub fn ipset(args: &[&str]) -> Result<String> {
    run("ipset", args, "").map_err(|(what, stderr)| Error::Tool {
        tool: "ipset".into(),
        object: Object::Transaction,
        detail: format!("{what}: {}", first_lines(&stderr)),
    })
}

/// The 1-based line number in an iptables-restore error message.
pub fn failed_line(stderr: &str) -> Option<usize> {
    for marker in ["line: ", "line "] {
        for (i, _) in stderr.match_indices(marker) {
            let rest = &stderr[i + marker.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
    }
    None
}

fn first_lines(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("Try `"))
        .take(3)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_failed_line_in_both_variants() {
        assert_eq!(failed_line("iptables-restore v1.8.9 (legacy): Couldn't load target `FOO'\n\nError occurred at line: 5\nTry"), Some(5));
        assert_eq!(failed_line("iptables-restore: line 12 failed"), Some(12));
        assert_eq!(failed_line("nothing"), None);
        assert_eq!(
            binary(IptablesVariant::Legacy, IpVersion::V6, "restore"),
            "ip6tables-legacy-restore"
        );
    }
}
