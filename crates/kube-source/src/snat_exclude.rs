//! The node annotation `k8s.ovn.org/node-ingress-snat-exclude-subnets`
//! on the OVN datapath: OVN-Kubernetes' `mgmtport-snat` rewrites the
//! source of traffic leaving through `ovn-k8s-mp0` (inbound from remote
//! clusters) unless it comes from a subnet listed there, so the remote
//! clusters' subnets go in, as Submariner's route agent does. Its value is
//! a JSON list of CIDRs others may write too: routeagent records the
//! entries it added in [`OWNED_ANNOTATION`] and only ever removes those
//! (an entry someone else had first is never claimed), so uninstall
//! leaves others' entries as they were.
//!
//! [`plan`] is pure; [`SnatExclude`] reads the Node and merge-patches both
//! annotations when they change (`kubectl annotate node`, in effect).

use errchain::Flat;
use ipnet::IpNet;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};

/// OVN-Kubernetes' annotation.
pub const SNAT_EXCLUDE_ANNOTATION: &str = "k8s.ovn.org/node-ingress-snat-exclude-subnets";
/// The entries of [`SNAT_EXCLUDE_ANNOTATION`] routeagent added (a JSON
/// list of CIDRs).
pub const OWNED_ANNOTATION: &str = "routeagent.io/snat-exclude-owned";

/// Why the annotation could not be kept current.
#[derive(Debug, thiserror::Error)]
pub enum SnatExcludeError {
    /// The annotation holds something other than a JSON list of CIDRs:
    /// routeagent leaves it alone.
    #[error("node {node}: annotation {annotation} is not a JSON list of CIDRs ({value:?}); left unchanged: fix or remove it")]
    Malformed {
        /// The node.
        node: String,
        /// The annotation.
        annotation: &'static str,
        /// Its value.
        value: String,
    },
    /// Reading or patching the Node failed.
    #[error("cannot {verb} node {node} (check the API server and that the service account may get and patch nodes)")]
    Api {
        /// `get` or `patch`.
        verb: &'static str,
        /// The node.
        node: String,
        /// The cause.
        #[source]
        source: Flat<kube::Error>,
    },
}

/// The two annotations' new values (`None`: remove the annotation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotations {
    /// [`SNAT_EXCLUDE_ANNOTATION`].
    pub exclude: Option<String>,
    /// [`OWNED_ANNOTATION`].
    pub owned: Option<String>,
}

fn parse(v: Option<&str>) -> Option<Vec<String>> {
    match v {
        None => Some(vec![]),
        Some(s) if s.trim().is_empty() => Some(vec![]),
        Some(s) => {
            let list: Vec<String> = serde_json::from_str(s).ok()?;
            list.iter()
                .all(|c| c.parse::<IpNet>().is_ok())
                .then_some(list)
        }
    }
}

fn render(list: &[String]) -> Option<String> {
    (!list.is_empty()).then(|| serde_json::to_string(list).unwrap_or_default())
}

/// The annotations for `want` (the remote subnets; empty on uninstall),
/// from their current values: routeagent's stale entries go, missing ones
/// are added and recorded as routeagent's, others' entries stay in their
/// order. `Err(annotation)` when one of them is malformed.
pub fn plan(
    exclude: Option<&str>,
    owned: Option<&str>,
    want: &[IpNet],
) -> Result<Annotations, &'static str> {
    let current = parse(exclude).ok_or(SNAT_EXCLUDE_ANNOTATION)?;
    let mine = parse(owned).ok_or(OWNED_ANNOTATION)?;
    let want: Vec<String> = want.iter().map(|c| c.trunc().to_string()).collect();
    let mut list: Vec<String> = current
        .into_iter()
        .filter(|c| want.contains(c) || !mine.contains(c))
        .collect();
    let mut now_mine: Vec<String> = mine.into_iter().filter(|c| want.contains(c)).collect();
    for c in &want {
        if !list.contains(c) {
            list.push(c.clone());
            now_mine.push(c.clone());
        }
    }
    now_mine.sort();
    now_mine.dedup();
    Ok(Annotations {
        exclude: render(&list),
        owned: render(&now_mine),
    })
}

/// The annotations of one Node.
pub struct SnatExclude {
    api: Api<Node>,
    node: String,
}

impl SnatExclude {
    /// For node `node`.
    pub fn new(client: Client, node: &str) -> SnatExclude {
        SnatExclude {
            api: Api::all(client),
            node: node.to_string(),
        }
    }

    /// Brings the annotations to `want` (see [`plan`]); `Ok(true)` when it
    /// patched the Node. An empty `want` removes routeagent's entries
    /// (uninstall, or the datapath is not OVN any more).
    pub async fn keep(&self, want: &[IpNet]) -> Result<bool, SnatExcludeError> {
        let api_err = |verb| {
            move |e: kube::Error| SnatExcludeError::Api {
                verb,
                node: self.node.clone(),
                source: Flat(e),
            }
        };
        let node = self.api.get(&self.node).await.map_err(api_err("get"))?;
        let ann = node.metadata.annotations.unwrap_or_default();
        let get = |k: &str| ann.get(k).map(String::as_str);
        let (exclude, owned) = (get(SNAT_EXCLUDE_ANNOTATION), get(OWNED_ANNOTATION));
        let new = plan(exclude, owned, want).map_err(|annotation| SnatExcludeError::Malformed {
            node: self.node.clone(),
            annotation,
            value: get(annotation).unwrap_or_default().to_string(),
        })?;
        if new.exclude.as_deref() == exclude && new.owned.as_deref() == owned {
            return Ok(false);
        }
        let patch = serde_json::json!({"metadata": {"annotations": {
            SNAT_EXCLUDE_ANNOTATION: new.exclude,
            OWNED_ANNOTATION: new.owned,
        }}});
        self.api
            .patch(&self.node, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(api_err("patch"))?;
        tracing::info!(node = %self.node, value = ?new.exclude, "{SNAT_EXCLUDE_ANNOTATION} updated");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn adds_claims_only_what_it_added_and_removes_only_its_own() {
        // Someone else's entry, one of them also a remote subnet.
        let others = r#"["192.168.9.0/24","10.245.0.0/16"]"#;
        let a = plan(
            Some(others),
            None,
            &nets(&["10.245.0.0/16", "10.97.0.0/16"]),
        )
        .unwrap();
        assert_eq!(
            a.exclude.as_deref(),
            Some(r#"["192.168.9.0/24","10.245.0.0/16","10.97.0.0/16"]"#)
        );
        assert_eq!(a.owned.as_deref(), Some(r#"["10.97.0.0/16"]"#));
        // Idempotent.
        let again = plan(
            a.exclude.as_deref(),
            a.owned.as_deref(),
            &nets(&["10.97.0.0/16", "10.245.0.0/16"]),
        )
        .unwrap();
        assert_eq!(again, a);
        // A remote subnet changes: only routeagent's stale entry goes.
        let b = plan(
            a.exclude.as_deref(),
            a.owned.as_deref(),
            &nets(&["10.245.0.0/16", "10.98.0.0/16"]),
        )
        .unwrap();
        assert_eq!(
            b.exclude.as_deref(),
            Some(r#"["192.168.9.0/24","10.245.0.0/16","10.98.0.0/16"]"#)
        );
        // Uninstall: others' entries as they were.
        let gone = plan(b.exclude.as_deref(), b.owned.as_deref(), &[]).unwrap();
        assert_eq!(gone.exclude.as_deref(), Some(others));
        assert_eq!(gone.owned, None);
        // Nobody else's: the annotation goes.
        let only = plan(None, None, &nets(&["10.97.0.0/16"])).unwrap();
        assert_eq!(
            plan(only.exclude.as_deref(), only.owned.as_deref(), &[]).unwrap(),
            Annotations {
                exclude: None,
                owned: None
            }
        );
    }

    #[test]
    fn a_malformed_value_is_named_and_left_alone() {
        assert_eq!(
            plan(Some("10.0.0.0/8"), None, &[]),
            Err(SNAT_EXCLUDE_ANNOTATION)
        );
        assert_eq!(
            plan(Some(r#"["x"]"#), None, &[]),
            Err(SNAT_EXCLUDE_ANNOTATION)
        );
        assert_eq!(plan(None, Some("{}"), &[]), Err(OWNED_ANNOTATION));
    }
}
