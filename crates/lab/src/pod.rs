//! A DaemonSet's container as `podman run` flags, so that the lab runs the
//! agent exactly as deploy/daemonset.yaml has the kubelet and runc run it.
//!
//! [`translate`] is the one place that reads a manifest: the pod's host
//! network, the container's `securityContext`, its hostPath `volumeMounts`
//! and its `env` (with the `fieldRef`s the kubelet fills in) become podman
//! flags. Anything else it would have to reproduce and cannot (another
//! volume type, a `secretKeyRef`, a `seccompProfile`, a `command` ...) is
//! refused with a [`ManifestError`] naming the field, rather than dropped.
//! What does not change how the container runs on one node (scheduling,
//! probes, ports on the host network, resource requests and limits) is
//! ignored, and `image` and `args` are the lab's own.

use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// deploy/daemonset.yaml as built into this binary.
pub const DAEMONSET: &str = include_str!("../../../deploy/daemonset.yaml");
/// deploy/uninstall-daemonset.yaml as built into this binary.
pub const UNINSTALL_DAEMONSET: &str = include_str!("../../../deploy/uninstall-daemonset.yaml");

/// Pod-spec keys that do not change how the container runs on its node.
const POD_IGNORED: &[&str] = &[
    "serviceAccountName",
    "dnsPolicy",
    "priorityClassName",
    "terminationGracePeriodSeconds",
    "nodeSelector",
    "tolerations",
    "containers",
    "initContainers",
];
/// Container keys that do not: the lab supplies `image` and `args`; the
/// lab polls `/status` itself; ports are no-ops on the host network.
const CONTAINER_IGNORED: &[&str] = &[
    "name",
    "image",
    "imagePullPolicy",
    "args",
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "resources",
];

/// What the kubelet knows about the one pod [`translate`] starts.
#[derive(Debug, Clone)]
pub struct PodFacts<'a> {
    /// `spec.nodeName` (the lab node, `a1`).
    pub node_name: &'a str,
    /// `metadata.name` of the pod.
    pub pod_name: &'a str,
    /// The node's network namespace (`/run/netns/ralab-a1`): the pod's
    /// host network.
    pub netns: &'a Path,
    /// Where the node's filesystem root is for hostPath volumes: hostPath
    /// `/run/routeagent` is `HOST_ROOT/run/routeagent`.
    pub host_root: &'a Path,
}

/// What a hostPath volume's `type` asks of the host path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPathType {
    /// `""` or absent: used as it is.
    Any,
    /// `DirectoryOrCreate`: created as an empty directory when missing.
    DirectoryOrCreate,
    /// `FileOrCreate`: created as an empty file when missing.
    FileOrCreate,
    /// `Directory`: must exist.
    Directory,
    /// `File`: must exist.
    File,
}

/// A host path a volume mount needs, to prepare before `podman run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPath {
    /// The path on this machine (under [`PodFacts::host_root`]).
    pub path: PathBuf,
    /// What the volume's `type` asks.
    pub kind: HostPathType,
}

/// The container of a manifest as `podman run` flags (before the image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodmanRun {
    /// `--network ns:...`, security flags, `--volume`s and `--env`s, in
    /// manifest order.
    pub flags: Vec<String>,
    /// The host paths behind the volumes, in mount order.
    pub host_paths: Vec<HostPath>,
}

/// A manifest field [`translate`] cannot reproduce with podman.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{manifest}: {field}: {problem}")]
pub struct ManifestError {
    /// The manifest (`deploy/daemonset.yaml`).
    pub manifest: String,
    /// The field's path (`spec.template.spec.containers[routeagent].env[NODE_NAME]`).
    pub field: String,
    /// What is wrong, and what would be accepted.
    pub problem: String,
}

/// Translates container `container` (in `containers` or `initContainers`)
/// of the DaemonSet `manifest` (named `source` in errors) into the flags
/// of `podman run` that set up what the kubelet would on node
/// `facts.node_name`:
///
/// - `hostNetwork: true` → `--network ns:NETNS` (any other value is refused);
/// - `securityContext`: `privileged: true` → `--privileged`;
///   `allowPrivilegeEscalation: false` → `--security-opt no-new-privileges`;
///   `runAsUser`/`runAsGroup` → `--user U[:G]`; `readOnlyRootFilesystem:
///   true` → `--read-only --read-only-tmpfs=false` (no tmpfs on /run and
///   /tmp, as in a pod); `capabilities.drop` → `--cap-drop X,...`,
///   `capabilities.add` → `--cap-add X,...`;
/// - `volumeMounts` of hostPath volumes → `--volume HOST_ROOT/PATH:MOUNT[:ro]`;
/// - `env`: `value` → `--env NAME=VALUE`; `fieldRef` `spec.nodeName`,
///   `metadata.name`, `metadata.namespace` → the pod's facts.
pub fn translate(
    manifest: &str,
    source: &str,
    container: &str,
    facts: &PodFacts,
) -> Result<PodmanRun, ManifestError> {
    let err = |field: &str, problem: String| ManifestError {
        manifest: source.to_string(),
        field: field.to_string(),
        problem,
    };
    let doc: Value =
        serde_yaml::from_str(manifest).map_err(|e| err("(document)", e.to_string()))?;
    if doc["kind"].as_str() != Some("DaemonSet") {
        return Err(err("kind", format!("{:?}: want DaemonSet", doc["kind"])));
    }
    let namespace = doc["metadata"]["namespace"].as_str().unwrap_or("default");
    let pod = &doc["spec"]["template"]["spec"];
    let pod_map = pod
        .as_mapping()
        .ok_or_else(|| err("spec.template.spec", "missing: want a pod spec".into()))?;
    let mut flags = Vec::new();
    for (key, value) in pod_map {
        let key = key.as_str().unwrap_or_default();
        let field = format!("spec.template.spec.{key}");
        match key {
            "hostNetwork" if value.as_bool() == Some(true) => {
                flags.push(format!("--network=ns:{}", facts.netns.display()));
            }
            "hostNetwork" => {
                return Err(err(
                    &field,
                    format!(
                        "{value:?}: a lab node runs only host-network pods (hostNetwork: true)"
                    ),
                ));
            }
            "securityContext" if is_empty(value) => {}
            "volumes" => {}
            k if POD_IGNORED.contains(&k) => {}
            _ => {
                return Err(err(
                    &field,
                    "not translated to podman: remove it or teach pod::translate".into(),
                ))
            }
        }
    }
    if pod["hostNetwork"].as_bool() != Some(true) {
        return Err(err(
            "spec.template.spec.hostNetwork",
            "missing: a lab node runs only host-network pods (hostNetwork: true)".into(),
        ));
    }
    let (list, spec) = ["containers", "initContainers"]
        .iter()
        .find_map(|list| {
            pod[*list]
                .as_sequence()?
                .iter()
                .find(|c| c["name"].as_str() == Some(container))
                .map(|c| (*list, c))
        })
        .ok_or_else(|| {
            let names: Vec<&str> = ["containers", "initContainers"]
                .iter()
                .flat_map(|l| pod[*l].as_sequence().into_iter().flatten())
                .filter_map(|c| c["name"].as_str())
                .collect();
            err(
                "spec.template.spec.containers",
                format!(
                    "no container named {container:?} (there are: {})",
                    names.join(", ")
                ),
            )
        })?;
    let at = format!("spec.template.spec.{list}[{container}]");
    for (key, value) in spec.as_mapping().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        let field = format!("{at}.{key}");
        match key {
            "securityContext" => {
                security(value, &mut flags).map_err(|(f, p)| err(&format!("{field}{f}"), p))?
            }
            "volumeMounts" | "env" => {}
            k if CONTAINER_IGNORED.contains(&k) => {}
            _ => {
                return Err(err(
                    &field,
                    "not translated to podman: remove it or teach pod::translate".into(),
                ))
            }
        }
    }
    let volumes = pod["volumes"]
        .as_sequence()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut host_paths = Vec::new();
    for m in spec["volumeMounts"].as_sequence().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let field = format!("{at}.volumeMounts[{name}]");
        let (flag, host) =
            mount(m, volumes, facts.host_root).map_err(|(f, p)| err(&format!("{field}{f}"), p))?;
        flags.push(flag);
        host_paths.push(host);
    }
    for e in spec["env"].as_sequence().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or_default();
        let field = format!("{at}.env[{name}]");
        let value =
            env_value(e, namespace, facts).map_err(|(f, p)| err(&format!("{field}{f}"), p))?;
        flags.push(format!("--env={name}={value}"));
    }
    Ok(PodmanRun { flags, host_paths })
}

/// A field error below the current path: (`.sub.field`, problem).
type Sub = (String, String);

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_mapping().is_some_and(Mapping::is_empty)
}

fn unknown(key: &str) -> Sub {
    (
        format!(".{key}"),
        "not translated to podman: remove it or teach pod::translate".into(),
    )
}

fn boolean(key: &str, v: &Value) -> Result<bool, Sub> {
    v.as_bool()
        .ok_or_else(|| (format!(".{key}"), format!("{v:?}: want true or false")))
}

fn id(key: &str, v: &Value) -> Result<u64, Sub> {
    v.as_u64()
        .ok_or_else(|| (format!(".{key}"), format!("{v:?}: want a numeric id")))
}

/// A container `securityContext` onto `flags`.
fn security(sc: &Value, flags: &mut Vec<String>) -> Result<(), Sub> {
    let (mut user, mut group) = (None, None);
    for (key, v) in sc.as_mapping().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        match key {
            "privileged" => {
                if boolean(key, v)? {
                    flags.push("--privileged".into());
                }
            }
            "allowPrivilegeEscalation" => {
                if !boolean(key, v)? {
                    flags.push("--security-opt=no-new-privileges".into());
                }
            }
            "readOnlyRootFilesystem" => {
                if boolean(key, v)? {
                    flags.extend(["--read-only".into(), "--read-only-tmpfs=false".into()]);
                }
            }
            "runAsUser" => user = Some(id(key, v)?),
            "runAsGroup" => group = Some(id(key, v)?),
            "capabilities" => {
                for (k, list) in v.as_mapping().into_iter().flatten() {
                    let k = k.as_str().unwrap_or_default();
                    let flag = match k {
                        "drop" => "--cap-drop",
                        "add" => "--cap-add",
                        _ => return Err(unknown(&format!("capabilities.{k}"))),
                    };
                    let caps: Option<Vec<&str>> = list
                        .as_sequence()
                        .map(|s| s.iter().map(Value::as_str).collect::<Option<_>>())
                        .unwrap_or_default();
                    let caps = caps.filter(|c| !c.is_empty()).ok_or_else(|| {
                        (
                            format!(".capabilities.{k}"),
                            format!("{list:?}: want a list of capability names"),
                        )
                    })?;
                    flags.push(format!("{flag}={}", caps.join(",")));
                }
            }
            _ => return Err(unknown(key)),
        }
    }
    match (user, group) {
        (Some(u), Some(g)) => flags.push(format!("--user={u}:{g}")),
        (Some(u), None) => flags.push(format!("--user={u}")),
        (None, Some(_)) => {
            return Err((
                ".runAsGroup".into(),
                "needs runAsUser too (podman --user U:G)".into(),
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

/// One volume mount of a hostPath volume: the `--volume` flag and the host path.
fn mount(m: &Value, volumes: &[Value], root: &Path) -> Result<(String, HostPath), Sub> {
    let name = m["name"].as_str().unwrap_or_default();
    let mut read_only = false;
    for (key, v) in m.as_mapping().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        match key {
            "name" | "mountPath" => {}
            "readOnly" => read_only = boolean(key, v)?,
            _ => return Err(unknown(key)),
        }
    }
    let target = m["mountPath"]
        .as_str()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| {
            (
                ".mountPath".to_string(),
                format!("{:?}: want an absolute path", m["mountPath"]),
            )
        })?;
    let volume = volumes
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .ok_or_else(|| {
            (
                String::new(),
                format!("no volume named {name:?} in spec.template.spec.volumes"),
            )
        })?;
    let hp = &volume["hostPath"];
    if let Some((k, _)) = volume
        .as_mapping()
        .into_iter()
        .flatten()
        .find(|(k, _)| !matches!(k.as_str(), Some("name" | "hostPath")))
    {
        return Err((
            String::new(),
            format!(
                "volume {name:?} is {:?}: only hostPath volumes can be reproduced on a lab node",
                k.as_str().unwrap_or("?")
            ),
        ));
    }
    let path = hp["path"]
        .as_str()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| {
            (
                String::new(),
                format!(
                    "volume {name:?}: hostPath.path {:?}: want an absolute path",
                    hp["path"]
                ),
            )
        })?;
    let kind = match hp["type"].as_str().unwrap_or("") {
        "" => HostPathType::Any,
        "DirectoryOrCreate" => HostPathType::DirectoryOrCreate,
        "FileOrCreate" => HostPathType::FileOrCreate,
        "Directory" => HostPathType::Directory,
        "File" => HostPathType::File,
        other => {
            return Err((
                String::new(),
                format!("volume {name:?}: hostPath.type {other}: want DirectoryOrCreate, FileOrCreate, Directory, File or none"),
            ))
        }
    };
    let host = root.join(path.trim_start_matches('/'));
    let flag = format!(
        "--volume={}:{target}{}",
        host.display(),
        if read_only { ":ro" } else { "" }
    );
    Ok((flag, HostPath { path: host, kind }))
}

/// An `env` entry's value: its `value`, or what the kubelet puts for its `fieldRef`.
fn env_value(e: &Value, namespace: &str, facts: &PodFacts) -> Result<String, Sub> {
    for (key, _) in e.as_mapping().into_iter().flatten() {
        let key = key.as_str().unwrap_or_default();
        if !matches!(key, "name" | "value" | "valueFrom") {
            return Err(unknown(key));
        }
    }
    if let Some(v) = e.get("value") {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => {
                return Err((
                    ".value".into(),
                    format!("{other:?}: want a string (quote numbers and booleans)"),
                ))
            }
        };
        if v.contains("$(") {
            return Err((
                ".value".into(),
                format!("{v:?}: $(VAR) references are not expanded by podman"),
            ));
        }
        return Ok(v);
    }
    let from = &e["valueFrom"];
    let Some(path) = from["fieldRef"]["fieldPath"].as_str() else {
        return Err((".valueFrom".into(), format!("{from:?}: only fieldRef (spec.nodeName, metadata.name, metadata.namespace) or value")));
    };
    if from.as_mapping().map_or(0, Mapping::len) != 1 {
        return Err((
            ".valueFrom".into(),
            "more than fieldRef: only fieldRef is translated".into(),
        ));
    }
    match path {
        "spec.nodeName" => Ok(facts.node_name.to_string()),
        "metadata.name" => Ok(facts.pod_name.to_string()),
        "metadata.namespace" => Ok(namespace.to_string()),
        other => Err((
            ".valueFrom.fieldRef.fieldPath".into(),
            format!("{other}: only spec.nodeName, metadata.name and metadata.namespace are known on a lab node"),
        )),
    }
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
