//! [`Cni`]: the cluster's network plugin (`cluster.cni` in the file,
//! `SUBMARINER_NETWORKPLUGIN` from Submariner's operator), and
//! [`Cni::datapath`]: the one place that decides which datapath the agent
//! programs for it, or that it programs none.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A network plugin, by Submariner's names (`generic`, `canal-flannel`,
/// `flannel`, `weave-net`, `kindnet`, `OpenShiftSDN`, `OVNKubernetes`,
/// `calico`), matched without regard to case. Any other name is kept as
/// given in [`Cni::Other`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Cni {
    /// `generic`: any plugin whose pod traffic goes through the host's
    /// routing and kube-proxy (Submariner's default when the variable is
    /// empty).
    #[default]
    Generic,
    /// `canal-flannel`.
    CanalFlannel,
    /// `flannel`.
    Flannel,
    /// `weave-net`.
    WeaveNet,
    /// `kindnet`.
    KindNet,
    /// `OpenShiftSDN`.
    OpenShiftSdn,
    /// `calico`.
    Calico,
    /// `OVNKubernetes` (`ovn-kubernetes`): pod traffic goes through OVN's
    /// logical routers.
    OvnKubernetes,
    /// A name Submariner does not know either.
    Other(String),
}

/// The datapath the agent programs for a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datapath {
    /// Submariner's kube-proxy datapath: `vx-submariner` to the gateway,
    /// table 150 on the gateway, the host's packet filter.
    KubeProxy,
    /// OVN-Kubernetes: rules and tables 149/150 into `ovn-k8s-mp0` on the
    /// host, logical router policies and static routes in the OVN
    /// northbound database on the gateway.
    Ovn,
}

impl Datapath {
    /// Its name in `/status` and `/metrics` (`kube-proxy`, `ovn-kubernetes`).
    pub fn as_str(self) -> &'static str {
        match self {
            Datapath::KubeProxy => "kube-proxy",
            Datapath::Ovn => "ovn-kubernetes",
        }
    }
}

/// The plugin's datapath is not one this agent implements: it programs
/// nothing rather than a wrong datapath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("datapath not supported: network plugin {cni:?} (cluster.cni, SUBMARINER_NETWORKPLUGIN) {why}; the agent programs nothing on this node; run Submariner's own route agent on this cluster, or set the plugin's name if it is wrong")]
pub struct UnsupportedDatapath {
    /// The plugin's name as given.
    pub cni: String,
    /// Why it is not supported.
    pub why: &'static str,
}

impl Cni {
    /// The plugin named `s` (Submariner's names, any case; empty means
    /// `generic`, as in Submariner).
    pub fn parse(s: &str) -> Cni {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "" | "generic" => Cni::Generic,
            "canal-flannel" => Cni::CanalFlannel,
            "flannel" => Cni::Flannel,
            "weave-net" => Cni::WeaveNet,
            "kindnet" => Cni::KindNet,
            "openshiftsdn" => Cni::OpenShiftSdn,
            "calico" => Cni::Calico,
            "ovnkubernetes" | "ovn-kubernetes" => Cni::OvnKubernetes,
            _ => Cni::Other(s.to_string()),
        }
    }

    /// Submariner's name of the plugin.
    pub fn name(&self) -> &str {
        match self {
            Cni::Generic => "generic",
            Cni::CanalFlannel => "canal-flannel",
            Cni::Flannel => "flannel",
            Cni::WeaveNet => "weave-net",
            Cni::KindNet => "kindnet",
            Cni::OpenShiftSdn => "OpenShiftSDN",
            Cni::Calico => "calico",
            Cni::OvnKubernetes => "OVNKubernetes",
            Cni::Other(s) => s,
        }
    }

    /// Whether this is the default, [`Cni::Generic`].
    pub fn is_generic(&self) -> bool {
        *self == Cni::Generic
    }

    /// The datapath the agent programs for this plugin, or why it programs
    /// none. The only place that decides it: a new datapath is a new
    /// [`Datapath`] variant returned here.
    pub fn datapath(&self) -> Result<Datapath, UnsupportedDatapath> {
        let unsupported = |why| {
            Err(UnsupportedDatapath {
                cni: self.name().to_string(),
                why,
            })
        };
        match self {
            Cni::Generic
            | Cni::CanalFlannel
            | Cni::Flannel
            | Cni::WeaveNet
            | Cni::KindNet
            | Cni::OpenShiftSdn
            | Cni::Calico => Ok(Datapath::KubeProxy),
            Cni::OvnKubernetes => Ok(Datapath::Ovn),
            Cni::Other(_) => unsupported("is not one of Submariner's names (generic, canal-flannel, flannel, weave-net, kindnet, OpenShiftSDN, calico, OVNKubernetes)"),
        }
    }
}

impl From<String> for Cni {
    fn from(s: String) -> Cni {
        Cni::parse(&s)
    }
}

impl From<Cni> for String {
    fn from(c: Cni) -> String {
        c.name().to_string()
    }
}

impl fmt::Display for Cni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submariner_names_any_case_and_the_datapath() {
        assert_eq!(Cni::parse(""), Cni::Generic);
        assert_eq!(Cni::parse("OVNKubernetes"), Cni::OvnKubernetes);
        assert_eq!(Cni::parse("ovnkubernetes"), Cni::OvnKubernetes);
        assert_eq!(Cni::parse("ovn-kubernetes"), Cni::OvnKubernetes);
        assert_eq!(Cni::parse("Calico").name(), "calico");
        assert_eq!(Cni::parse("openshiftsdn").name(), "OpenShiftSDN");
        assert_eq!(Cni::parse("weave-net").datapath(), Ok(Datapath::KubeProxy));
        assert_eq!(Cni::parse("OVNKubernetes").datapath(), Ok(Datapath::Ovn));
        assert_eq!(Datapath::Ovn.as_str(), "ovn-kubernetes");
        let e = Cni::parse("cilium").datapath().unwrap_err().to_string();
        assert!(
            e.contains("\"cilium\"") && e.contains("Submariner's names"),
            "{e}"
        );
    }
}
