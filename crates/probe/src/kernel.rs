//! The running kernel: release (`uname -r`), version, and the relevant
//! options of its build config.

use capabilities::KernelInfo;
use flate2::read::GzDecoder;
use std::collections::BTreeMap;
use std::io::Read;

/// The config options worth reporting (without `CONFIG_`); a trailing `_`
/// makes an entry a prefix.
pub const RELEVANT: &[&str] = &[
    "NF_TABLES",
    "NF_TABLES_",
    "NFT_",
    "NF_NAT",
    "NF_NAT_MASQUERADE",
    "NF_CONNTRACK",
    "VXLAN",
    "IP_ADVANCED_ROUTER",
    "FIB_RULES",
    "IP_MULTIPLE_TABLES",
    "IP_SET",
    "IP_SET_HASH_NET",
    "NETFILTER_XT_TARGET_TCPMSS",
    "NETFILTER_XT_TARGET_NETMAP",
    "NETFILTER_XT_TARGET_MASQUERADE",
    "NETFILTER_XT_MARK",
    "NETFILTER_XT_MATCH_COMMENT",
    "NETFILTER_XT_SET",
    "NETFILTER_XT_NAT",
    "IP_NF_IPTABLES",
    "IP_NF_IPTABLES_LEGACY",
    "IP_NF_NAT",
    "IP_NF_MANGLE",
    "IP_NF_FILTER",
    "IP6_NF_IPTABLES",
    "IP6_NF_NAT",
    "IP6_NF_MANGLE",
    "IP6_NF_FILTER",
    "IPV6",
    "MODULES",
];

/// Reads the release from `/proc/sys/kernel/osrelease` (what `uname -r`
/// prints) and the config from `/proc/config.gz` or `/boot/config-RELEASE`.
pub fn probe() -> KernelInfo {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let version = parse_version(&release);
    let (config_source, config) = match read_config(&release) {
        Some((src, text)) => (Some(src), parse_config(&text)),
        None => (None, BTreeMap::new()),
    };
    KernelInfo {
        release,
        version,
        config_source,
        config,
    }
}

/// `6.18.44-fc-v669` -> (6, 18, 44); `5.4` -> (5, 4, 0).
pub fn parse_version(release: &str) -> Option<(u32, u32, u32)> {
    let head: String = release
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut it = head
        .split('.')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>());
    let major = it.next()?.ok()?;
    let minor = it.next()?.ok()?;
    let patch = it.next().and_then(|r| r.ok()).unwrap_or(0);
    Some((major, minor, patch))
}

fn read_config(release: &str) -> Option<(String, String)> {
    if let Ok(f) = std::fs::File::open("/proc/config.gz") {
        let mut s = String::new();
        if GzDecoder::new(f).read_to_string(&mut s).is_ok() {
            return Some(("/proc/config.gz".into(), s));
        }
    }
    let path = format!("/boot/config-{release}");
    std::fs::read_to_string(&path).ok().map(|s| (path, s))
}

/// The relevant options: `CONFIG_X=y|m|...` -> `X` -> value, and
/// `# CONFIG_X is not set` -> `n`.
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let (name, value) = if let Some(rest) = line.strip_prefix("# CONFIG_") {
            match rest.strip_suffix(" is not set") {
                Some(n) => (n, "n"),
                None => continue,
            }
        } else if let Some(rest) = line.strip_prefix("CONFIG_") {
            match rest.split_once('=') {
                Some((n, v)) => (n, v),
                None => continue,
            }
        } else {
            continue;
        };
        if RELEVANT.iter().any(|p| {
            if p.ends_with('_') {
                name.starts_with(p)
            } else {
                name == *p
            }
        }) {
            out.insert(name.to_string(), value.trim_matches('"').to_string());
        }
    }
    out
}

/// Whether option `name` is built in or a module: `Some(true/false)`, or
/// `None` when the config is unknown or does not mention it.
pub fn option(k: &KernelInfo, name: &str) -> Option<bool> {
    k.config.get(name).map(|v| v == "y" || v == "m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_config_parse() {
        assert_eq!(parse_version("6.18.44-fc-v669"), Some((6, 18, 44)));
        assert_eq!(parse_version("5.4"), Some((5, 4, 0)));
        assert_eq!(parse_version("weird"), None);
        let c = parse_config("CONFIG_VXLAN=m\n# CONFIG_NFT_QUEUE is not set\nCONFIG_USB=y\nCONFIG_IPV6=y\nCONFIG_IPV6_SIT=y\n");
        assert_eq!(c.get("VXLAN").map(String::as_str), Some("m"));
        assert_eq!(c.get("NFT_QUEUE").map(String::as_str), Some("n"));
        assert!(!c.contains_key("USB"));
        assert!(c.contains_key("IPV6") && !c.contains_key("IPV6_SIT"));
    }

    #[test]
    fn this_kernel_is_read() {
        let k = probe();
        assert_ne!(k.release, "unknown");
        assert!(k.version.is_some());
    }
}
