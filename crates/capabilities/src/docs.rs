//! docs/REQUIREMENTS.md, generated from [`REQUIREMENTS`] so the document
//! and the code that decides degradations cannot disagree.

use crate::feature::{Feature, REQUIREMENTS};
use std::fmt::Write as _;

/// The text of docs/REQUIREMENTS.md: per feature the minimum kernel, the
/// kernel config options, the package, and what the agent does without it.
///
/// A unit test compares it with the file in the repository;
/// `UPDATE_DOCS=1 cargo test -p capabilities` rewrites the file.
pub fn requirements_markdown() -> String {
    let mut s = String::new();
    s.push_str("# Host requirements\n\n");
    s.push_str(
        "<!-- Generated from crates/capabilities/src/feature.rs (REQUIREMENTS) by \
         `UPDATE_DOCS=1 cargo test -p capabilities`; do not edit by hand. -->\n\n",
    );
    s.push_str(
        "routeagent probes the host at start-up (`routeagent doctor` shows the result) and \
         switches off each feature the host cannot provide, alone, with a warning naming the \
         fix. It never exits because of the host. Feature names are stable: they are used by \
         `doctor`, `--assume-missing` / `ROUTEAGENT_ASSUME_MISSING`, the status and the metrics.\n\n",
    );
    s.push_str("| feature | minimum kernel | kernel config | package | without it |\n");
    s.push_str("|---|---|---|---|---|\n");
    for r in REQUIREMENTS {
        let config = if r.config.is_empty() {
            "-".to_string()
        } else {
            r.config
                .iter()
                .map(|c| format!("`CONFIG_{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} |",
            r.feature,
            r.min_kernel.unwrap_or("-"),
            config,
            r.package
                .map(|p| format!("`{p}`"))
                .unwrap_or_else(|| "-".into()),
            r.without
        );
    }
    s.push_str(
        "\nNotes:\n\
         - Config options a kernel does not list are built into nf_tables core on it (for example \
         `NFT_META`, `NFT_RT`, `NFT_EXTHDR` and the set back-ends on recent kernels); the probe asks \
         the kernel with dry-run batches rather than trusting the config.\n\
         - `vxlan` is the agent's core job: without it `doctor` exits with status 2. Without a usable \
         packet filter (neither `nftables` nor an iptables variant) the agent stays up, not ready, \
         and retries.\n\
         - Rehearse a weaker host with `--assume-missing FEATURE` (repeatable) or \
         `ROUTEAGENT_ASSUME_MISSING=a,b`; known names: ",
    );
    let names: Vec<String> = Feature::ALL.iter().map(|f| format!("`{f}`")).collect();
    s.push_str(&names.join(", "));
    s.push_str(".\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn requirements_doc_is_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/REQUIREMENTS.md");
        let want = requirements_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date with capabilities::feature::REQUIREMENTS; regenerate it with \
             `UPDATE_DOCS=1 cargo test -p capabilities` and commit the result",
            path.display()
        );
    }

    #[test]
    fn every_feature_has_a_row() {
        let md = requirements_markdown();
        for f in Feature::ALL {
            assert!(md.contains(&format!("| `{f}` |")), "{f} missing");
        }
    }
}
