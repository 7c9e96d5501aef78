//! `routeagent doctor`: the probe's findings, the backend choice and every
//! degradation and conflict, as text ([`std::fmt::Display`]) and as one
//! JSON object ([`Report::to_json`], schema in docs/DOCTOR.md).

use crate::cable::CableFacts;
use capabilities::{Capabilities, Constructs, Feature, IptablesVariant, NotReady};
use ruleset::{ChainType, Family, Hook};
use serde_json::{json, Map, Value};
use std::fmt;

/// Something on the host worth knowing that is not a missing feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Stable id (`iptables-legacy-in-use`).
    pub id: &'static str,
    /// What it means for the agent.
    pub message: String,
}

/// The doctor report.
#[derive(Debug, Clone)]
pub struct Report {
    caps: Capabilities,
    choice: Result<Constructs, NotReady>,
    cable: Option<CableFacts>,
}

impl Report {
    /// A report on `caps` and the backend choice made from them.
    pub fn new(caps: &Capabilities, choice: Result<&Constructs, &NotReady>) -> Self {
        Report {
            caps: caps.clone(),
            choice: choice.cloned().map_err(Clone::clone),
            cable: None,
        }
    }

    /// The same report with the cable and Globalnet findings
    /// ([`CableFacts::detect`]).
    pub fn with_cable(mut self, cable: CableFacts) -> Self {
        self.cable = Some(cable);
        self
    }

    /// 0: everything supported; 1: degraded; 2: the core job is impossible
    /// (no usable packet filter, or no VXLAN).
    pub fn exit_code(&self) -> i32 {
        match &self.choice {
            Err(_) => 2,
            Ok(_) if !self.caps.has(Feature::Vxlan) => 2,
            Ok(c) if !c.degradations.is_empty() => 1,
            Ok(_) => 0,
        }
    }

    /// Conflicts worth knowing.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out = Vec::new();
        let backend = self.choice.as_ref().ok().map(|c| c.backend);
        if self.caps.iptables.host_uses == Some(IptablesVariant::Legacy)
            && backend == Some(capabilities::BackendKind::Nftables)
        {
            out.push(Conflict {
                id: "iptables-legacy-in-use",
                message: format!(
                    "other components on this host use iptables-legacy ({}) while the agent uses nftables: both rule sets run, each tool shows only its own, and a verdict in one does not end the other; use --packet-filter iptables to share the legacy tables",
                    self.caps.iptables.evidence.first().cloned().unwrap_or_default()
                ),
            });
        }
        let self_snat = self.choice.as_ref().map(|c| c.self_snat).unwrap_or(false);
        out.push(Conflict {
            id: "accept-not-final",
            message: if self_snat {
                "an `accept` is final only within its own base chain: other tables (kube-proxy, the CNI, firewalld) still run and may masquerade cross-cluster traffic, so the agent binds NAT first with self-SNAT (`snat to ip saddr`), which keeps pod source addresses".into()
            } else {
                "an `accept` is final only within its own base chain, and self-SNAT is unavailable: another table's masquerade (kube-proxy, the CNI) can rewrite cross-cluster sources to node addresses".into()
            },
        });
        for key in [
            "net.ipv4.conf.all.rp_filter",
            "net.ipv4.conf.default.rp_filter",
        ] {
            if self.caps.sysctls.get(key).map(String::as_str) == Some("1") {
                out.push(Conflict {
                    id: "rp-filter-strict",
                    message: format!("{key}=1 (strict): the kernel applies the larger of `all` and the interface's value, so strict mode drops the asymmetric tunnel path; set it to 2 (loose) or 0"),
                });
            }
        }
        if let Some(cf) = &self.cable {
            cable_conflicts(cf, &mut out);
        }
        let forward = self.caps.sysctls.get("net.ipv4.ip_forward");
        let read_only = self.caps.proc_sys_writable == Some(false);
        if forward.map(String::as_str) == Some("0") {
            out.push(Conflict {
                id: "ip-forward-off",
                message: format!("net.ipv4.ip_forward=0: this node does not forward packets, so it cannot carry other pods' cross-cluster traffic (gateway role); {}",
                    if read_only {
                        "the agent cannot set it here (/proc/sys is read-only): set it on the node (`sysctl -w net.ipv4.ip_forward=1`, and in /etc/sysctl.d to keep it)"
                    } else {
                        "the agent sets it to 1 when it runs, or `sysctl -w net.ipv4.ip_forward=1`"
                    }),
            });
        }
        if read_only {
            out.push(Conflict {
                id: "proc-sys-read-only",
                message: format!("/proc/sys is read-only here (an unprivileged container): the agent sets per-interface sysctls (rp_filter, forwarding) over rtnetlink, but leaves global ones as they are (net.ipv4.ip_forward = {}); set those on the node, or run the agent privileged", forward.map(String::as_str).unwrap_or("unknown")),
            });
        }
        out
    }

    /// The report as one JSON object (schema: docs/DOCTOR.md).
    pub fn to_json(&self) -> Value {
        let c = &self.caps;
        let mut chains = Map::new();
        for (fam, types) in &c.chains {
            let mut t = Map::new();
            for (ty, hooks) in types {
                let h: Map<String, Value> = hooks
                    .iter()
                    .map(|(h, ok)| (h.to_string(), json!(ok)))
                    .collect();
                t.insert(ty.to_string(), Value::Object(h));
            }
            chains.insert(fam.to_string(), Value::Object(t));
        }
        let features_src = match &self.choice {
            Ok(k) => &k.features,
            Err(_) => &c.features,
        };
        let features: Map<String, Value> = Feature::ALL
            .iter()
            .map(|f| {
                let s = features_src.get(f).cloned().unwrap_or_else(|| c.state(*f));
                (
                    f.to_string(),
                    json!({"enabled": s.enabled, "reason": s.reason, "fix": s.fix}),
                )
            })
            .collect();
        let backend = match &self.choice {
            Ok(k) => {
                json!({"chosen": k.backend.name(), "why": k.why, "layout": k.layout, "not_ready": null})
            }
            Err(e) => {
                json!({"chosen": null, "why": null, "layout": null, "not_ready": {"reason": e.reason, "fix": e.fix}})
            }
        };
        let constructs = self.choice.as_ref().ok().map(|k| {
            json!({"mss_clamp": k.mss_clamp, "self_snat": k.self_snat, "masquerade": k.masquerade, "comments": k.comments,
                   "interval_sets": k.interval_sets, "ipv6": k.ipv6, "ipset": k.ipset, "mark": k.mark})
        });
        let degradations: Vec<Value> = self
            .choice
            .as_ref()
            .map(|k| {
                k.degradations
                    .iter()
                    .map(|d| json!({"feature": d.feature, "reason": d.reason, "fix": d.fix}))
                    .collect()
            })
            .unwrap_or_default();
        let conflicts: Vec<Value> = self
            .conflicts()
            .iter()
            .map(|x| json!({"id": x.id, "message": x.message}))
            .collect();
        json!({
            "kernel": {
                "release": c.kernel.release,
                "version": c.kernel.version.map(|(a, b, p)| format!("{a}.{b}.{p}")),
                "config_source": c.kernel.config_source,
                "config": c.kernel.config,
            },
            "backend": backend,
            "chains": chains,
            "features": features,
            "constructs": constructs,
            "degradations": degradations,
            "conflicts": conflicts,
            "sysctls": c.sysctls,
            "proc_sys": {"writable": c.proc_sys_writable},
            "iptables": c.iptables,
            "cable": self.cable.as_ref().map(|cf| {
                let mut v = json!(cf);
                v["kind"] = json!(cf.cable());
                v
            }),
            "assumed_missing": c.assumed_missing,
            "probe_ms": (c.probe_ms * 10.0).round() / 10.0,
            "exit_code": self.exit_code(),
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.caps;
        writeln!(
            f,
            "kernel       {} (config: {})",
            c.kernel.release,
            c.kernel.config_source.as_deref().unwrap_or("unknown")
        )?;
        if !c.kernel.config.is_empty() {
            // The options the requirements name (the JSON has them all).
            let mut names: Vec<&str> = capabilities::feature::REQUIREMENTS
                .iter()
                .flat_map(|r| r.config.iter().copied())
                .collect();
            names.extend(["VXLAN", "IP_ADVANCED_ROUTER", "FIB_RULES"]);
            names.sort_unstable();
            names.dedup();
            let opts: Vec<String> = names
                .iter()
                .map(|n| {
                    format!(
                        "{n}={}",
                        c.kernel
                            .config
                            .get(*n)
                            .map(String::as_str)
                            .unwrap_or("(not listed)")
                    )
                })
                .collect();
            for chunk in opts.chunks(6) {
                writeln!(f, "config       {}", chunk.join(" "))?;
            }
        }
        match &self.choice {
            Ok(k) => writeln!(
                f,
                "backend      {} ({:?} layout): {}",
                k.backend, k.layout, k.why
            )?,
            Err(e) => writeln!(
                f,
                "backend      NONE: not ready: {}\n             fix: {}",
                e.reason, e.fix
            )?,
        }
        writeln!(f, "\nchain type x hook, as the kernel answered dry runs:")?;
        if c.chains.is_empty() {
            writeln!(f, "  (nf_tables could not be asked)")?;
        } else {
            write!(f, "  {:<14}", "")?;
            for h in Hook::ALL {
                write!(f, "{:<12}", h.as_str())?;
            }
            writeln!(f)?;
            for fam in Family::ALL {
                for ty in ChainType::ALL {
                    write!(f, "  {:<14}", format!("{fam} {ty}"))?;
                    for h in Hook::ALL {
                        let mark = if c.chain_ok(fam, ty, h) { "yes" } else { "-" };
                        write!(f, "{mark:<12}")?;
                    }
                    writeln!(f)?;
                }
            }
        }
        writeln!(f, "\nfeatures:")?;
        let features = match &self.choice {
            Ok(k) => k.features.clone(),
            Err(_) => c.features.clone(),
        };
        for feat in Feature::ALL {
            let s = features
                .get(&feat)
                .cloned()
                .unwrap_or_else(|| c.state(feat));
            let on = if s.enabled { "on " } else { "OFF" };
            write!(f, "  {on} {:<16}", feat.name())?;
            if let Some(r) = &s.reason {
                write!(f, "{r}")?;
            }
            writeln!(f)?;
        }
        if let Ok(k) = &self.choice {
            writeln!(f, "\nconstructs: mss-clamp={} self-snat={} masquerade={} comments={} interval-sets={} ipv6={} ipset={} mark={}",
                k.mss_clamp, k.self_snat, k.masquerade, k.comments, k.interval_sets, k.ipv6, k.ipset, k.mark)?;
            if !k.degradations.is_empty() {
                writeln!(f, "\ndegradations:")?;
                for d in &k.degradations {
                    writeln!(f, "  {}: {}\n    fix: {}", d.feature, d.reason, d.fix)?;
                }
            }
        }
        writeln!(
            f,
            "\niptables: nft={} legacy={} ipset={} host uses {}",
            c.iptables.nft.as_deref().unwrap_or("-"),
            c.iptables.legacy.as_deref().unwrap_or("-"),
            c.iptables.ipset.as_deref().unwrap_or("-"),
            c.iptables
                .host_uses
                .map(|v| format!("{v:?}").to_lowercase())
                .unwrap_or_else(|| "nothing yet".into())
        )?;
        for e in &c.iptables.evidence {
            writeln!(f, "  {e}")?;
        }
        writeln!(f, "\nsysctls:")?;
        for (k, v) in &c.sysctls {
            writeln!(f, "  {k} = {v}")?;
        }
        let w = match c.proc_sys_writable {
            Some(true) => "writable",
            Some(false) => "read-only (per-interface sysctls go over rtnetlink; global ones are left as they are)",
            None => "unknown",
        };
        writeln!(f, "  /proc/sys: {w}")?;
        if let Some(cf) = &self.cable {
            writeln!(f, "\ncable:       {}", cf.cable())?;
            let gn = if cf.globalnet_chains.is_empty() {
                "no chains found".to_string()
            } else {
                cf.globalnet_chains.join(", ")
            };
            writeln!(f, "globalnet:   {gn}")?;
        }
        writeln!(f, "\nconflicts:")?;
        for x in self.conflicts() {
            writeln!(f, "  {}: {}", x.id, x.message)?;
        }
        // The exit status is the caller's to print: `routeagent doctor`
        // adds the datapath's and the northbound database's verdicts.
        writeln!(f, "\nprobe took {:.1} ms", c.probe_ms)
    }
}

/// What the cable and Globalnet findings mean for what the agent programs.
fn cable_conflicts(cf: &CableFacts, out: &mut Vec<Conflict>) {
    if !cf.globalnet_chains.is_empty() {
        out.push(Conflict {
            id: "globalnet-present",
            message: format!("Globalnet's chains are here ({}): give the agent the global CIDR (SUBMARINER_GLOBALCIDR, or cluster.globalCIDR) so it installs no local-to-remote NAT rule, which would run before Globalnet's SNAT and pin the overlapping pod addresses, and forces the MSS as Submariner does", cf.globalnet_chains.join(", ")),
        });
    }
    if cf.vxlan_tunnel_ours == Some(false) {
        out.push(Conflict {
            id: "foreign-vxlan-tunnel",
            message: "a vxlan-tunnel the agent did not make (Submariner's VXLAN cable driver) is here: the agent never changes or deletes it, its table 100 or its pref-100 rule; a topology with cluster.cable: vxlan is refused on this node".into(),
        });
    }
    if cf.foreign_pref_100_rule && cf.vxlan_tunnel_ours.is_none() {
        out.push(Conflict {
            id: "stale-pref-100",
            message: "a `pref 100 lookup 100` rule without vxlan-tunnel (left by Submariner's VXLAN cable on a former gateway) sends remote-bound traffic to table 100 first; the agent leaves it alone: delete it with `ip rule del pref 100 lookup 100` if no cable uses it".into(),
        });
    }
}
