//! Asking nf_tables without changing it: the [`Asker`] trait, its `nft
//! --check` implementation, and [`evaluate`], which turns the answers into
//! the chain matrix and feature states.

use crate::questions::{self, Question};
use capabilities::{ChainMatrix, Feature, FeatureState};
use packetfilter::{errno_meaning, errno_name};
use ruleset::Table;
use std::io::Write;
use std::process::{Command, Stdio};

/// Why nf_tables could not be asked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    /// EPERM: no CAP_NET_ADMIN in this network namespace.
    Permission,
    /// nf_tables (or the means to ask it) is missing.
    Unavailable(String),
}

/// Answers dry-run questions. Each question is one table (one base chain,
/// maybe sets, at most one rule); the answer is `Ok` or the kernel's errno.
/// Nothing may be committed.
pub trait Asker {
    /// One answer per question, in order.
    fn ask(&self, questions: &[Table]) -> Result<Vec<Result<(), i32>>, AskError>;
}

/// Asks through `nft --check -f -`: one process, one batch without
/// BATCH_END for every question (each in its own table `ra-probe-PID-N`, so
/// a refusal cannot cascade), errors mapped back by line number.
#[derive(Debug, Default, Clone, Copy)]
pub struct NftCheck;

impl Asker for NftCheck {
    /// All questions in one `nft --check`; if nft itself (not the kernel)
    /// refuses some text, nothing reached the kernel, so each question is
    /// then asked alone.
    fn ask(&self, questions: &[Table]) -> Result<Vec<Result<(), i32>>, AskError> {
        match self.ask_batch(questions)? {
            Some(a) => Ok(a),
            None => questions
                .iter()
                .map(|q| {
                    Ok(self
                        .ask_batch(std::slice::from_ref(q))?
                        .map(|mut a| a.remove(0))
                        .unwrap_or(Err(22)))
                })
                .collect(),
        }
    }
}

impl NftCheck {
    /// `None` when nft refused the text in userspace (no kernel answer).
    fn ask_batch(&self, questions: &[Table]) -> Result<Option<Vec<Result<(), i32>>>, AskError> {
        let Some(nft) = crate::iptables::which("nft") else {
            return Err(AskError::Unavailable(
                "the nft binary used for dry runs is missing (install the nftables package)".into(),
            ));
        };
        let mut text = String::new();
        let mut ranges = Vec::new();
        for (i, t) in questions.iter().enumerate() {
            let mut t = t.clone();
            t.name = format!("ra-probe-{}-{i}", std::process::id());
            let start = text.lines().count() + 1;
            text.push_str(&t.to_string());
            ranges.push(start..=text.lines().count());
        }
        let mut child = Command::new(&nft)
            .args(["--check", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| AskError::Unavailable(format!("cannot run {nft}: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(text.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| AskError::Unavailable(format!("{nft}: {e}")))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if std::env::var_os("RA_PROBE_DEBUG").is_some() {
            eprintln!("{text}\n{stderr}");
        }
        let mut answers = vec![Ok(()); questions.len()];
        if out.status.success() {
            return Ok(Some(answers));
        }
        let mut mapped = false;
        for l in stderr.lines() {
            let Some((line, msg)) = error_line(l) else {
                continue;
            };
            if !msg.starts_with("Could not process rule") && !msg.contains("not supported") {
                return Ok(None);
            }
            if let Some(i) = ranges.iter().position(|r| r.contains(&line)) {
                answers[i] = Err(errno_of(msg));
                mapped = true;
            }
        }
        if !mapped {
            if stderr.contains("Operation not permitted") {
                return Err(AskError::Permission);
            }
            return Err(AskError::Unavailable(format!(
                "nft --check failed: {}",
                stderr.lines().next().unwrap_or("").trim()
            )));
        }
        if answers.iter().all(|a| *a == Err(1)) {
            return Err(AskError::Permission);
        }
        Ok(Some(answers))
    }
}

/// `-:12:8-8: Error: Could not process rule: Operation not supported` ->
/// (12, message).
fn error_line(l: &str) -> Option<(usize, &str)> {
    let (head, msg) = l.split_once(": Error: ")?;
    let mut parts = head.rsplitn(3, ':');
    let _cols = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, msg))
}

fn errno_of(msg: &str) -> i32 {
    [
        ("not permitted", 1),
        ("No such file", 2),
        ("not supported", 95),
        ("File exists", 17),
        ("Invalid argument", 22),
        ("No buffer", 105),
    ]
    .iter()
    .find(|(m, _)| msg.contains(m))
    .map(|(_, e)| *e)
    .unwrap_or(22)
}

/// What the nf_tables dry runs showed.
#[derive(Debug, Clone, Default)]
pub struct NftFindings {
    /// family -> type -> hook -> accepted.
    pub chains: ChainMatrix,
    /// States of the nftables-decided features.
    pub features: Vec<(Feature, FeatureState)>,
}

/// Asks every matrix and expression question in one go and evaluates the
/// answers.
pub fn probe(asker: &dyn Asker) -> NftFindings {
    let matrix = questions::matrix();
    let exprs = questions::expressions();
    let mut tables: Vec<Table> = matrix.iter().map(|(_, _, _, t)| t.clone()).collect();
    tables.extend(exprs.iter().map(|q| q.table.clone()));
    evaluate(asker.ask(&tables), &exprs)
}

fn refused(what: &str, errno: i32) -> String {
    format!(
        "the kernel refused {what} in a dry run: {} ({})",
        errno_name(errno),
        errno_meaning(errno)
    )
}

/// Turns answers (matrix questions first, then `exprs`) into findings.
pub fn evaluate(
    answers: Result<Vec<Result<(), i32>>, AskError>,
    exprs: &[Question],
) -> NftFindings {
    let fix = capabilities::choice::fix_for;
    let answers = match answers {
        Ok(a) => a,
        Err(AskError::Permission) => {
            return NftFindings {
                chains: ChainMatrix::new(),
                features: vec![(Feature::Nftables, FeatureState::off("nf_tables refused the request: EPERM (operation not permitted)", "needs CAP_NET_ADMIN in the node's network namespace (run privileged or add the NET_ADMIN capability)"))],
            }
        }
        Err(AskError::Unavailable(why)) => {
            return NftFindings { chains: ChainMatrix::new(), features: vec![(Feature::Nftables, FeatureState::off(why, fix(Feature::Nftables)))] }
        }
    };
    let matrix = questions::matrix();
    let mut chains = ChainMatrix::new();
    for ((fam, ty, hook, _), a) in matrix.iter().zip(&answers) {
        chains
            .entry(*fam)
            .or_default()
            .entry(*ty)
            .or_default()
            .insert(*hook, a.is_ok());
    }
    let got = |id: &str| -> Result<(), (String, i32)> {
        let i = exprs
            .iter()
            .position(|q| q.id == id)
            .ok_or((id.to_string(), 22))?;
        match answers.get(matrix.len() + i) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err((exprs[i].what.to_string(), *e)),
            None => Err((exprs[i].what.to_string(), 22)),
        }
    };
    let state = |f: Feature, ids: &[&str]| -> FeatureState {
        match ids.iter().map(|id| got(id)).find_map(Result::err) {
            None => FeatureState::on(),
            Some((what, e)) => FeatureState::off(refused(&what, e), fix(f)),
        }
    };
    use ruleset::{ChainType::*, Family::*, Hook::*};
    let ok = |f, t, h| {
        chains
            .get(&f)
            .and_then(|m| m.get(&t))
            .and_then(|m| m.get(&h))
            .copied()
            .unwrap_or(false)
    };
    let core = [
        (Ip, Filter, Input),
        (Ip, Filter, Forward),
        (Ip, Nat, Postrouting),
    ];
    let mut nft = state(Feature::Nftables, &["payload"]);
    if let Some((f, t, h)) = core.iter().find(|(f, t, h)| !ok(*f, *t, *h)) {
        nft = FeatureState::off(
            format!("the kernel refused `type {t} hook {h}` chains in {f} tables"),
            fix(Feature::Nftables),
        );
    }
    let mut ipv6 = state(Feature::Ipv6, &["ip6", "set-v6", "ip6-nat"]);
    if !ok(Ip6, Filter, Forward) {
        ipv6 = FeatureState::off("the kernel refused ip6 filter chains", fix(Feature::Ipv6));
    }
    let mut inet = state(Feature::InetNat, &["inet-nat"]);
    if !ok(Inet, Nat, Postrouting) {
        inet = FeatureState::off(
            "the kernel refused `type nat hook postrouting` in inet tables (needs 5.2)",
            fix(Feature::InetNat),
        );
    }
    NftFindings {
        chains,
        features: vec![
            (Feature::Nftables, nft),
            (
                Feature::IntervalSets,
                state(Feature::IntervalSets, &["set-v4"]),
            ),
            (Feature::Ipv6, ipv6),
            (Feature::Mark, state(Feature::Mark, &["mark"])),
            (
                Feature::Masquerade,
                state(Feature::Masquerade, &["masquerade"]),
            ),
            (
                Feature::SelfSnat,
                state(Feature::SelfSnat, &["snat", "self-snat"]),
            ),
            (
                Feature::MssClamp,
                state(Feature::MssClamp, &["mss-pmtu", "mss-fixed"]),
            ),
            (Feature::Comments, state(Feature::Comments, &["comment"])),
            (Feature::InetNat, inet),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nft_error_lines_parse() {
        assert_eq!(
            error_line("-:12:8-8: Error: Could not process rule: Operation not supported"),
            Some((12, "Could not process rule: Operation not supported"))
        );
        assert_eq!(error_line("/dev/stdin:2:8-8: Error: x"), Some((2, "x")));
        assert_eq!(
            errno_of("Could not process rule: Operation not supported"),
            95
        );
        assert_eq!(
            errno_of(
                "Chain of type \"route\" is not supported, perhaps kernel support is missing?"
            ),
            95
        );
    }

    /// A fake kernel: the fixed matrix, and refusals by question index.
    struct Fake(Vec<usize>);
    impl Asker for Fake {
        fn ask(&self, qs: &[Table]) -> Result<Vec<Result<(), i32>>, AskError> {
            Ok(qs
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let c = &t.chains[0];
                    let b = c.base.unwrap_or_else(|| unreachable!());
                    if ruleset::hook::chain_allowed(b.ty, b.hook, b.priority).is_some()
                        || self.0.contains(&i)
                    {
                        Err(95)
                    } else {
                        Ok(())
                    }
                })
                .collect())
        }
    }

    #[test]
    fn a_refused_expression_switches_off_its_feature_alone() {
        let exprs = questions::expressions();
        let n = questions::matrix().len();
        let mss = n + exprs.iter().position(|q| q.id == "mss-pmtu").unwrap();
        let f = probe(&Fake(vec![mss]));
        for (feat, s) in &f.features {
            assert_eq!(s.enabled, *feat != Feature::MssClamp, "{feat}: {s:?}");
        }
        let (_, s) = f
            .features
            .iter()
            .find(|(x, _)| *x == Feature::MssClamp)
            .unwrap();
        assert!(
            s.reason.as_deref().unwrap().contains("rt mtu")
                && s.reason.as_deref().unwrap().contains("EOPNOTSUPP"),
            "{s:?}"
        );
        assert!(
            !f.chains[&ruleset::Family::Ip][&ruleset::ChainType::Route]
                [&ruleset::Hook::Postrouting]
        );
    }

    #[test]
    fn permission_denied_says_cap_net_admin() {
        let f = evaluate(Err(AskError::Permission), &questions::expressions());
        assert!(f.chains.is_empty());
        assert!(f.features[0]
            .1
            .fix
            .as_deref()
            .unwrap()
            .contains("CAP_NET_ADMIN"));
    }
}
