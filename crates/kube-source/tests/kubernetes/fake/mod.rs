//! An in-process fake kube-apiserver: a `tower::Service` that
//! `kube::Client::new` talks to, with the API semantics our code relies on.
//!
//! - every write bumps one global, monotonic `resourceVersion`; objects get
//!   `uid`, `creationTimestamp` (a fake clock: one second later per create,
//!   so "newer" is well defined) and `generation` (bumped when anything but
//!   metadata and, with a status subresource, status changes);
//! - list, and watch from a resourceVersion (history replay, then live
//!   events as JSON lines), `410 Gone` (an `ERROR` event, as the real watch
//!   cache sends it) for a version older than the compacted history,
//!   bookmarks for watches that allow them, `timeoutSeconds`;
//! - create (`409 AlreadyExists`), replace (`409 Conflict` on a stale
//!   resourceVersion, `422` without one, like custom resources), merge
//!   patch and server-side apply (approximated as create-or-merge),
//!   delete, `404`;
//! - the status subresource (`.../status` changes only status; the main
//!   resource ignores status) for kinds that have it; turn it off to model
//!   Submariner's RouteAgent CRD, which has none.
//!
//! - optionally the operator's RBAC ([`FakeApi::enforce_operator_rbac`],
//!   extended by [`FakeApi::grant`]): `403 Forbidden` for a (group,
//!   resource, verb, namespace, name) no rule grants;
//! - read-only core kinds for OVN discovery (pods, services, core
//!   Endpoints stored as `core-endpoints`, secrets, configmaps) and
//!   OpenShift's `networks.config.openshift.io`; lists honour equality
//!   `labelSelector`s.
//!
//! Tests control it: [`FakeApi::set_down`] (transport errors),
//! [`FakeApi::fail`] (HTTP errors for matching requests),
//! [`FakeApi::break_watches`], [`FakeApi::compact`], [`FakeApi::bookmark`],
//! and read the request log.

pub mod http;
pub mod rbac;

pub use rbac::Grant;

use bytes::Bytes;
use futures::channel::mpsc::UnboundedSender;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A resource kind the fake serves.
#[derive(Clone, Debug)]
pub struct Kind {
    /// The name tests and the store use: the plural, except core
    /// Endpoints (`core-endpoints`, apart from Submariner's `endpoints`).
    pub key: &'static str,
    pub plural: &'static str,
    pub api_version: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub status_subresource: bool,
    /// Status fields the schema lacks (structural pruning drops them).
    pub pruned_status: Vec<&'static str>,
}

/// One logged request.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// HTTP status, 0 for a transport error.
    pub code: u16,
}

impl Logged {
    pub fn is_watch(&self) -> bool {
        matches!(
            self.query.get("watch").map(String::as_str),
            Some("true" | "1")
        )
    }
    pub fn rv(&self) -> Option<&str> {
        self.query.get("resourceVersion").map(String::as_str)
    }
}

struct Watcher {
    id: u64,
    plural: String,
    ns: Option<String>,
    bookmarks: bool,
    tx: UnboundedSender<Result<Bytes, std::io::Error>>,
}

struct Fault {
    method: String,
    path_contains: String,
    code: u16,
    remaining: usize,
}

#[derive(Default)]
struct State {
    rv: u64,
    clock: i64,
    uids: u64,
    /// (plural, namespace or "", name) -> object.
    objects: BTreeMap<(String, String, String), Value>,
    /// (rv, plural, namespace, type, object).
    history: Vec<(u64, String, String, &'static str, Value)>,
    /// Watches from a version below this get 410 Gone.
    compacted: u64,
    watchers: Vec<Watcher>,
    next_watcher: u64,
    kinds: Vec<Kind>,
    down: bool,
    /// Granted rules; `None` grants everything.
    rbac: Option<Vec<Grant>>,
    faults: Vec<Fault>,
    log: Vec<Logged>,
}

/// The fake API server; clones share state.
#[derive(Clone)]
pub struct FakeApi {
    state: Arc<Mutex<State>>,
}

/// 2026-01-01T00:00:00Z, the fake clock's start.
const EPOCH: i64 = 1_767_225_600;

fn line(ty: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": ty, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

impl FakeApi {
    /// Serves Endpoints, RouteAgents, GatewayRoutes and NonGatewayRoutes
    /// (`submariner.io/v1`, namespaced, RouteAgent with the status
    /// subresource) and core Nodes.
    pub fn new() -> Self {
        let kind = |key, plural, api_version, kind, namespaced| Kind {
            key,
            plural,
            api_version,
            kind,
            namespaced,
            status_subresource: false,
            pruned_status: vec![],
        };
        let kinds = vec![
            Kind {
                key: "endpoints",
                plural: "endpoints",
                api_version: "submariner.io/v1",
                kind: "Endpoint",
                namespaced: true,
                status_subresource: false,
                pruned_status: vec![],
            },
            Kind {
                key: "routeagents",
                plural: "routeagents",
                api_version: "submariner.io/v1",
                kind: "RouteAgent",
                namespaced: true,
                status_subresource: true,
                pruned_status: vec![],
            },
            Kind {
                key: "gatewayroutes",
                plural: "gatewayroutes",
                api_version: "submariner.io/v1",
                kind: "GatewayRoute",
                namespaced: true,
                status_subresource: false,
                pruned_status: vec![],
            },
            Kind {
                key: "nongatewayroutes",
                plural: "nongatewayroutes",
                api_version: "submariner.io/v1",
                kind: "NonGatewayRoute",
                namespaced: true,
                status_subresource: false,
                pruned_status: vec![],
            },
            Kind {
                key: "nodes",
                plural: "nodes",
                api_version: "v1",
                kind: "Node",
                namespaced: false,
                status_subresource: true,
                pruned_status: vec![],
            },
            kind("pods", "pods", "v1", "Pod", true),
            kind("services", "services", "v1", "Service", true),
            kind("core-endpoints", "endpoints", "v1", "Endpoints", true),
            kind("secrets", "secrets", "v1", "Secret", true),
            kind("configmaps", "configmaps", "v1", "ConfigMap", true),
            kind(
                "networks",
                "networks",
                "config.openshift.io/v1",
                "Network",
                false,
            ),
        ];
        // Versions start above 0: "0" means "any version" to the API.
        FakeApi {
            state: Arc::new(Mutex::new(State {
                kinds,
                rv: 100,
                ..State::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A client talking to this server.
    pub fn client(&self, default_ns: &str) -> kube::Client {
        kube::Client::new(self.clone(), default_ns)
    }

    /// Models Submariner's RouteAgent CRD (no status subresource) when false.
    pub fn set_status_subresource(&self, plural: &str, on: bool) {
        for k in self.lock().kinds.iter_mut().filter(|k| k.key == plural) {
            k.status_subresource = on;
        }
    }

    /// Submariner's own RouteAgent CRD: no status subresource, and a
    /// structural schema without routeagent's status fields (pruned).
    pub fn use_submariner_routeagent_crd(&self) {
        for k in self
            .lock()
            .kinds
            .iter_mut()
            .filter(|k| k.key == "routeagents")
        {
            k.status_subresource = false;
            k.pruned_status = vec!["backend", "degradedFeatures", "takeover"];
        }
    }

    /// While down, every request fails with a transport error and open
    /// watches are cut with an error.
    pub fn set_down(&self, down: bool) {
        let mut st = self.lock();
        st.down = down;
        if down {
            for w in st.watchers.drain(..) {
                let _ = w.tx.unbounded_send(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by fake",
                )));
            }
        }
    }

    /// The next `times` requests with `method` whose path contains
    /// `path_contains` get HTTP `code`.
    pub fn fail(&self, method: &str, path_contains: &str, code: u16, times: usize) {
        self.lock().faults.push(Fault {
            method: method.into(),
            path_contains: path_contains.into(),
            code,
            remaining: times,
        });
    }

    /// Ends every open watch cleanly (the client should resume from its
    /// last resourceVersion).
    pub fn break_watches(&self) {
        self.lock().watchers.clear();
    }

    /// Forgets the event history: watches from an older version get 410.
    pub fn compact(&self) {
        let mut st = self.lock();
        st.history.clear();
        st.compacted = st.rv;
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watch
    /// that allowed bookmarks.
    pub fn bookmark(&self) {
        let mut st = self.lock();
        let rv = st.rv.to_string();
        let kinds = st.kinds.clone();
        st.watchers.retain(|w| {
            let Some(k) = kinds.iter().find(|k| k.key == w.plural) else { return true };
            !w.bookmarks
                || w.tx
                    .unbounded_send(Ok(line("BOOKMARK", &json!({"apiVersion": k.api_version, "kind": k.kind, "metadata": {"resourceVersion": rv}}))))
                    .is_ok()
        });
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Number of open watches.
    pub fn open_watches(&self) -> usize {
        self.lock()
            .watchers
            .iter()
            .filter(|w| !w.tx.is_closed())
            .count()
    }

    /// Requests so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    /// Creates or replaces an object directly (as another client would),
    /// with full bookkeeping and watch events. Returns it as stored.
    pub fn put(&self, plural: &str, mut obj: Value) -> Value {
        let mut st = self.lock();
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let key = (plural.to_string(), ns, name);
        match st.objects.get(&key).cloned() {
            None => st.create(plural, obj),
            Some(old) => {
                obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
                st.store(plural, &key, &old, obj)
            }
        }
    }

    /// Deletes an object directly; false if absent.
    pub fn delete(&self, plural: &str, ns: &str, name: &str) -> bool {
        self.lock()
            .remove(&(plural.into(), ns.into(), name.into()))
            .is_some()
    }

    /// An object as stored.
    pub fn get(&self, plural: &str, ns: &str, name: &str) -> Option<Value> {
        self.lock()
            .objects
            .get(&(plural.into(), ns.into(), name.into()))
            .cloned()
    }
}

/// Drops the status fields `k`'s schema does not know.
fn prune(k: &Kind, obj: &mut Value) {
    if let Some(st) = obj.get_mut("status").and_then(Value::as_object_mut) {
        for f in &k.pruned_status {
            st.remove(*f);
        }
    }
}

impl State {
    fn kind(&self, plural: &str) -> Option<Kind> {
        self.kinds.iter().find(|k| k.key == plural).cloned()
    }

    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Records an event and sends it to matching watches.
    fn emit(&mut self, plural: &str, ns: &str, ty: &'static str, obj: &Value) {
        let rv = self.rv;
        self.history
            .push((rv, plural.into(), ns.into(), ty, obj.clone()));
        let bytes = line(ty, obj);
        self.watchers.retain(|w| {
            w.plural != plural
                || w.ns.as_deref().is_some_and(|n| n != ns)
                || w.tx.unbounded_send(Ok(bytes.clone())).is_ok()
        });
    }

    fn create(&mut self, plural: &str, mut obj: Value) -> Value {
        let k = self.kind(plural).expect("known kind");
        let ns = if k.namespaced {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        prune(&k, &mut obj);
        self.clock += 1;
        self.uids += 1;
        let rv = self.bump();
        let ts = k8s_openapi::jiff::Timestamp::from_second(EPOCH + self.clock)
            .expect("valid time")
            .to_string();
        obj["apiVersion"] = json!(k.api_version);
        obj["kind"] = json!(k.kind);
        let meta = &mut obj["metadata"];
        meta["uid"] = json!(format!("00000000-0000-4000-8000-{:012}", self.uids));
        meta["resourceVersion"] = json!(rv.to_string());
        meta["creationTimestamp"] = json!(ts);
        meta["generation"] = json!(1);
        if k.namespaced {
            meta["namespace"] = json!(ns);
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        self.objects
            .insert((plural.into(), ns.clone(), name), obj.clone());
        self.emit(plural, &ns, "ADDED", &obj);
        obj
    }

    /// Stores `new` over `old`, keeping server-owned metadata; bumps
    /// generation when anything but metadata (and status, with the
    /// subresource) changed.
    fn store(
        &mut self,
        plural: &str,
        key: &(String, String, String),
        old: &Value,
        mut new: Value,
    ) -> Value {
        let k = self.kind(plural).expect("known kind");
        let body = |v: &Value| {
            let mut v = v.clone();
            if let Some(m) = v.as_object_mut() {
                m.remove("metadata");
                if k.status_subresource {
                    m.remove("status");
                }
            }
            v
        };
        prune(&k, &mut new);
        let mut generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
        if body(old) != body(&new) {
            generation += 1;
        }
        new["apiVersion"] = json!(k.api_version);
        new["kind"] = json!(k.kind);
        for f in [
            "uid",
            "creationTimestamp",
            "namespace",
            "name",
            "resourceVersion",
        ] {
            new["metadata"][f] = old["metadata"][f].clone();
        }
        if !k.namespaced {
            if let Some(m) = new["metadata"].as_object_mut() {
                m.remove("namespace");
            }
        }
        new["metadata"]["generation"] = json!(generation);
        if new == *old {
            // A no-op write changes nothing, not even the resourceVersion.
            return new;
        }
        let rv = self.bump();
        new["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.objects.insert(key.clone(), new.clone());
        self.emit(plural, &key.1, "MODIFIED", &new);
        new
    }

    fn remove(&mut self, key: &(String, String, String)) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        let rv = self.bump();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.emit(&key.0, &key.1, "DELETED", &obj);
        Some(obj)
    }
}
