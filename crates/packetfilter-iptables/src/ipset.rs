//! ipset scripts (`ipset restore`): create-and-swap for apply, add/del for
//! set updates, destroy for remove.

use crate::render::IpsetPlan;
use ipnet::IpNet;
use ruleset::IpVersion;
use std::fmt::Write as _;

fn family(v: IpVersion) -> &'static str {
    if v == IpVersion::V4 {
        "inet"
    } else {
        "inet6"
    }
}

/// Name of the temporary set a new content is built in before the swap.
pub fn tmp_name(name: &str) -> String {
    format!("{name}~")
}

/// Replaces each set's content atomically: make sure the set exists, build
/// the new content in `NAME~`, `swap` the two, destroy `NAME~`
/// (`ipset restore` of `create -exist`, `add`, `swap`, `destroy`).
pub fn apply_script(sets: &[IpsetPlan]) -> String {
    let mut s = String::new();
    for p in sets {
        let tmp = tmp_name(&p.name);
        let f = family(p.version);
        let _ = writeln!(s, "create {} hash:net family {f} -exist", p.name);
        let _ = writeln!(s, "create {tmp} hash:net family {f} -exist");
        let _ = writeln!(s, "flush {tmp}");
        for e in &p.elements {
            let _ = writeln!(s, "add {tmp} {e} -exist");
        }
        let _ = writeln!(s, "swap {tmp} {}", p.name);
        let _ = writeln!(s, "destroy {tmp}");
    }
    s
}

/// Adds and deletes members (`ipset restore` of `add/del NAME P -exist`).
pub fn update_script(name: &str, add: &[IpNet], remove: &[IpNet]) -> String {
    let mut s = String::new();
    for e in remove {
        let _ = writeln!(s, "del {name} {e} -exist");
    }
    for e in add {
        let _ = writeln!(s, "add {name} {e} -exist");
    }
    s
}

/// Destroys these sets (`ipset destroy NAME` each).
pub fn destroy_script(names: &[String]) -> String {
    names.iter().map(|n| format!("destroy {n}\n")).collect()
}

/// The names of `ipset list -n` output.
pub fn parse_names(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The members of `ipset list NAME` output.
pub fn parse_members(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Members:"))
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_builds_in_a_temporary_set_and_swaps() {
        let p = IpsetPlan {
            name: "RA-REMOTE".into(),
            version: IpVersion::V4,
            elements: ["10.2.0.0/16".parse().unwrap()].into_iter().collect(),
        };
        let s = apply_script(&[p]);
        assert_eq!(
            s,
            "create RA-REMOTE hash:net family inet -exist\ncreate RA-REMOTE~ hash:net family inet -exist\nflush RA-REMOTE~\n\
             add RA-REMOTE~ 10.2.0.0/16 -exist\nswap RA-REMOTE~ RA-REMOTE\ndestroy RA-REMOTE~\n"
        );
        assert_eq!(
            parse_members("Name: x\nMembers:\n10.0.0.0/8\n\n"),
            vec!["10.0.0.0/8"]
        );
    }
}
