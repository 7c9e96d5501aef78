//! RBAC in the fake: [`Grant`]s, the operator's Role
//! ([`FakeApi::enforce_operator_rbac`]), more rules ([`FakeApi::grant`]),
//! and `403 Forbidden` worded as the API server words it.

use super::http::{status, Body, Route};
use super::{FakeApi, Logged, State};
use http::{Method, Response};

/// One RBAC rule: `verb` on `resource` (`pods`, `routeagents/status`) of
/// API `group` (`""` for core), in `namespace` (a Role) or everywhere (a
/// ClusterRole), for the objects `names` (empty: all).
#[derive(Clone, Debug)]
pub struct Grant {
    pub group: String,
    pub resource: String,
    pub verb: String,
    pub namespace: Option<String>,
    pub names: Vec<String>,
}

impl FakeApi {
    /// Authorizes requests as Submariner's operator binds the route
    /// agent's service account (its `submariner-routeagent` Role and
    /// ClusterRole, for the kinds this fake serves): `endpoints`
    /// get/list/watch; `routeagents` get/list/create/update/delete (no
    /// watch, no patch, no `routeagents/status`); `gatewayroutes` and
    /// `nongatewayroutes` get/list/watch/create/update/delete; `nodes`
    /// get/list/watch.
    /// Anything else gets `403 Forbidden`, as the API server answers.
    pub fn enforce_operator_rbac(&self) {
        self.lock().rbac = Some(Vec::new());
        self.grant(
            "submariner.io",
            "endpoints",
            &["get", "list", "watch"],
            None,
            &[],
        );
        self.grant("", "nodes", &["get", "list", "watch"], None, &[]);
        self.grant(
            "submariner.io",
            "routeagents",
            &["get", "list", "create", "update", "delete"],
            None,
            &[],
        );
        for r in ["gatewayroutes", "nongatewayroutes"] {
            self.grant(
                "submariner.io",
                r,
                &["get", "list", "watch", "create", "update", "delete"],
                None,
                &[],
            );
        }
    }

    /// Adds a rule (enforcing RBAC from now on, if it was not): `verbs`
    /// on `resource` of `group`, in `namespace` or everywhere, for
    /// `names` or all objects.
    pub fn grant(
        &self,
        group: &str,
        resource: &str,
        verbs: &[&str],
        namespace: Option<&str>,
        names: &[&str],
    ) {
        let mut st = self.lock();
        let rules = st.rbac.get_or_insert_with(Vec::new);
        for v in verbs {
            rules.push(Grant {
                group: group.into(),
                resource: resource.into(),
                verb: v.to_string(),
                namespace: namespace.map(String::from),
                names: names.iter().map(|n| n.to_string()).collect(),
            });
        }
    }
}

/// The RBAC verb of a request (`get`, `list`, `watch`, `create`,
/// `update`, `patch`, `delete`).
fn verb(method: &Method, r: &Route, log: &Logged) -> &'static str {
    match (method, &r.name) {
        (&Method::GET, None) if log.is_watch() => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, _) => "delete",
        _ => "unknown",
    }
}

/// `403 Forbidden` when RBAC is enforced and does not grant the request,
/// worded as the API server words it (authorization comes before the
/// handler, so a missing subresource is still a 403).
pub(super) fn authorize(
    st: &State,
    method: &Method,
    r: &Route,
    log: &Logged,
) -> Option<Response<Body>> {
    let rules = st.rbac.as_ref()?;
    let verb = verb(method, r, log);
    let resource = if r.status {
        format!("{}/status", r.kind.plural)
    } else {
        r.kind.plural.to_string()
    };
    let group = r.kind.api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if rules.iter().any(|g| {
        g.group == group
            && g.resource == resource
            && g.verb == verb
            && g.namespace
                .as_ref()
                .is_none_or(|n| r.ns.as_ref() == Some(n))
            && (g.names.is_empty() || r.name.as_ref().is_some_and(|n| g.names.contains(n)))
    }) {
        return None;
    }
    let (plural, sub) = resource.split_once('/').unwrap_or((&resource, ""));
    let mut message = format!("{plural}.{group} ");
    if let Some(name) = &r.name {
        message += &format!("{name:?} ");
    }
    message += &format!("is forbidden: User \"system:serviceaccount:submariner-operator:submariner-routeagent\" cannot {verb} resource \"{plural}\" in API group \"{group}\"");
    if !sub.is_empty() {
        message = message.replace(
            &format!("resource \"{plural}\""),
            &format!("resource \"{plural}/{sub}\""),
        );
    }
    if let Some(ns) = &r.ns {
        message += &format!(" in the namespace \"{ns}\"");
    }
    Some(status(403, "Forbidden", &message))
}
