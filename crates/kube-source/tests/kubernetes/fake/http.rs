//! The HTTP side of the fake: routing, verbs, status codes.

use super::{line, FakeApi, Kind, Logged, State, Watcher};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::task::{Context, Poll};
use std::time::Duration;

pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A parsed request path.
pub(super) struct Route {
    pub(super) kind: Kind,
    pub(super) ns: Option<String>,
    pub(super) name: Option<String>,
    pub(super) status: bool,
}

fn route(st: &State, path: &str) -> Option<Route> {
    let p: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (api_version, rest) = match p.as_slice() {
        ["api", "v1", rest @ ..] => ("v1".to_string(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let (plural, name, status) = match rest {
        [plural] => (*plural, None, false),
        [plural, name] => (*plural, Some(name.to_string()), false),
        [plural, name, "status"] => (*plural, Some(name.to_string()), true),
        _ => return None,
    };
    let kind = st
        .kinds
        .iter()
        .find(|k| k.plural == plural && k.api_version == api_version)
        .cloned()?;
    if kind.namespaced != ns.is_some() && name.is_some() {
        return None;
    }
    Some(Route {
        kind,
        ns,
        name,
        status,
    })
}

fn full(code: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(
            Full::new(Bytes::from(v.to_string()))
                .map_err(|e| match e {})
                .boxed_unsync(),
        )
        .expect("valid response")
}

/// A `Status` error body, as the API server sends it.
pub(super) fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
    full(
        code,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code}),
    )
}

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch.as_object() {
        Some(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        None => *target = patch.clone(),
    }
}

impl tower::Service<Request<kube::client::Body>> for FakeApi {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<kube::client::Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await?.to_bytes();
            let query: BTreeMap<String, String> = parts
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter_map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect();
            let ctype = parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let mut st = this.lock();
            let mut log = Logged {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query,
                code: 0,
            };
            if st.down {
                st.log.push(log);
                return Err("fake API server is down (connection refused)".into());
            }
            let fault = st.faults.iter_mut().find(|f| {
                f.remaining > 0 && f.method == log.method && log.path.contains(&f.path_contains)
            });
            let resp = match fault {
                Some(f) => {
                    f.remaining -= 1;
                    status(
                        f.code,
                        "InjectedFault",
                        &format!("injected fault {}", f.code),
                    )
                }
                None => handle(&this, &mut st, &parts.method, &log, &ctype, &body),
            };
            log.code = resp.status().as_u16();
            st.log.push(log);
            Ok(resp)
        })
    }
}

fn handle(
    api: &FakeApi,
    st: &mut State,
    method: &Method,
    log: &Logged,
    ctype: &str,
    body: &[u8],
) -> Response<Body> {
    let Some(r) = route(st, &log.path) else {
        return status(
            404,
            "NotFound",
            &format!(
                "the server could not find the requested resource ({})",
                log.path
            ),
        );
    };
    // The store's name for the kind (see `Kind::key`).
    let plural = r.kind.key;
    if let Some(forbidden) = super::rbac::authorize(st, method, &r, log) {
        return forbidden;
    }
    let ns = r.ns.clone().unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let not_found = |name: &str| {
        status(
            404,
            "NotFound",
            &format!(
                "{}.{} \"{name}\" not found",
                r.kind.plural, r.kind.api_version
            ),
        )
    };
    if r.status && !r.kind.status_subresource {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    match (method, &r.name) {
        (&Method::GET, None) if log.is_watch() => watch(api, st, &r, log),
        (&Method::GET, None) => {
            let items: Vec<&Value> = st
                .objects
                .iter()
                .filter(|((p, n, _), _)| p == plural && (r.ns.is_none() || *n == ns))
                .filter(|(_, o)| selected(log.query.get("labelSelector"), o))
                .map(|(_, v)| v)
                .collect();
            full(
                200,
                &json!({"apiVersion": r.kind.api_version, "kind": format!("{}List", r.kind.kind), "metadata": {"resourceVersion": st.rv.to_string()}, "items": items}),
            )
        }
        (&Method::GET, Some(name)) => {
            match st.objects.get(&(plural.into(), ns.clone(), name.clone())) {
                Some(o) => full(200, o),
                None => not_found(name),
            }
        }
        (&Method::POST, None) => {
            let Some(mut obj) = parsed else {
                return status(400, "BadRequest", "body is not JSON");
            };
            let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            if name.is_empty() {
                return status(422, "Invalid", "metadata.name: Required value");
            }
            if st
                .objects
                .contains_key(&(plural.into(), ns.clone(), name.clone()))
            {
                return status(
                    409,
                    "AlreadyExists",
                    &format!("{plural} \"{name}\" already exists"),
                );
            }
            if r.kind.status_subresource {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
            obj["metadata"]["namespace"] = json!(ns);
            full(201, &st.create(plural, obj))
        }
        (&Method::PUT | &Method::PATCH | &Method::DELETE, Some(name)) => {
            let key = (plural.to_string(), ns.clone(), name.clone());
            let old = st.objects.get(&key).cloned();
            let apply = ctype.starts_with("application/apply-patch");
            if method == Method::DELETE {
                return match st.remove(&key) {
                    Some(o) => full(200, &o),
                    None => not_found(name),
                };
            }
            let Some(patch) = parsed else {
                return status(400, "BadRequest", "body is not JSON");
            };
            let Some(old) = old else {
                if apply && !r.status {
                    let mut obj = patch;
                    obj["metadata"]["namespace"] = json!(ns);
                    return full(201, &st.create(plural, obj));
                }
                return not_found(name);
            };
            let mut new = if method == Method::PUT {
                if patch["metadata"]["name"].as_str() != Some(name.as_str()) {
                    return status(
                        400,
                        "BadRequest",
                        "the name of the object does not match the name on the URL",
                    );
                }
                match patch["metadata"]["resourceVersion"].as_str() {
                    None if plural != "nodes" => return status(422, "Invalid", "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"),
                    Some(rv) if Some(rv) != old["metadata"]["resourceVersion"].as_str() => {
                        return status(409, "Conflict", &format!("Operation cannot be fulfilled on {plural}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", r.kind.api_version))
                    }
                    _ => patch,
                }
            } else if ctype.starts_with("application/merge-patch+json") || apply {
                let mut v = old.clone();
                merge(&mut v, &patch);
                v
            } else {
                return status(
                    415,
                    "UnsupportedMediaType",
                    &format!("the body of the request was in an unknown format ({ctype})"),
                );
            };
            if r.status {
                // Only status changes through the subresource.
                let s = new["status"].take();
                new = old.clone();
                new["status"] = s;
            } else if r.kind.status_subresource {
                new["status"] = old["status"].clone();
            }
            full(200, &st.store(plural, &key, &old, new))
        }
        _ => status(
            405,
            "MethodNotAllowed",
            &format!("{method} is not supported on {}", log.path),
        ),
    }
}

/// Whether `obj`'s labels match an equality `labelSelector`
/// (`a=b,c=d`, URL-encoded); no selector matches everything.
fn selected(selector: Option<&String>, obj: &Value) -> bool {
    let Some(sel) = selector else { return true };
    let sel = sel
        .replace("%3D", "=")
        .replace("%3d", "=")
        .replace("%2C", ",")
        .replace("%2c", ",");
    sel.split(',').filter(|t| !t.is_empty()).all(|term| {
        let (k, v) = term.split_once('=').unwrap_or((term, ""));
        let v = v.trim_start_matches('=');
        obj["metadata"]["labels"][k].as_str() == Some(v)
    })
}

/// `GET ...?watch=true`: replay from `resourceVersion`, then stream.
fn watch(api: &FakeApi, st: &mut State, r: &Route, log: &Logged) -> Response<Body> {
    let plural = r.kind.key.to_string();
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
    let matches = |p: &str, n: &str| p == plural && r.ns.as_deref().is_none_or(|ns| ns == n);
    match log
        .rv()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|v| *v > 0)
    {
        None => {
            for ((p, n, _), o) in &st.objects {
                if matches(p, n) {
                    let _ = tx.unbounded_send(Ok(line("ADDED", o)));
                }
            }
        }
        Some(from) if from < st.compacted => {
            let gone = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {from} ({})", st.compacted), "reason": "Expired", "code": 410});
            let _ = tx.unbounded_send(Ok(line("ERROR", &gone)));
            drop(tx);
            return stream(rx);
        }
        Some(from) => {
            for (rv, p, n, ty, o) in &st.history {
                if *rv > from && matches(p, n) {
                    let _ = tx.unbounded_send(Ok(line(ty, o)));
                }
            }
        }
    }
    st.next_watcher += 1;
    let id = st.next_watcher;
    let bookmarks = matches!(
        log.query.get("allowWatchBookmarks").map(String::as_str),
        Some("true" | "1")
    );
    st.watchers.push(Watcher {
        id,
        plural,
        ns: r.ns.clone(),
        bookmarks,
        tx,
    });
    if let Some(secs) = log
        .query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
    {
        let api = api.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            api.lock().watchers.retain(|w| w.id != id);
        });
    }
    stream(rx)
}

fn stream(
    rx: futures::channel::mpsc::UnboundedReceiver<Result<Bytes, std::io::Error>>,
) -> Response<Body> {
    let body = StreamBody::new(rx.map(|r| r.map(Frame::data)));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(BodyExt::boxed_unsync(body))
        .expect("valid response")
}
