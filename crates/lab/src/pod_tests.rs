use super::*;

fn facts() -> PodFacts<'static> {
    PodFacts {
        node_name: "a1",
        pod_name: "ralab-a1-1-0",
        netns: Path::new("/run/netns/ralab-a1"),
        host_root: Path::new("/tmp/ralab/state/a1"),
    }
}

fn run(manifest: &str, container: &str) -> Result<PodmanRun, ManifestError> {
    translate(manifest, "test.yaml", container, &facts())
}

#[test]
fn the_daemonset_becomes_its_security_context_mounts_and_environment() {
    let r = translate(DAEMONSET, "deploy/daemonset.yaml", "routeagent", &facts()).unwrap();
    let want = [
        "--network=ns:/run/netns/ralab-a1",
        "--security-opt=no-new-privileges",
        "--user=0",
        "--read-only",
        "--read-only-tmpfs=false",
        "--cap-drop=ALL",
        "--cap-add=NET_ADMIN,NET_RAW",
        "--volume=/tmp/ralab/state/a1/run/routeagent:/run/routeagent",
        "--volume=/tmp/ralab/state/a1/run/xtables.lock:/run/xtables.lock",
        "--env=SUBMARINER_NAMESPACE=submariner-operator",
        "--env=SUBMARINER_CLUSTERID=cluster1",
        "--env=SUBMARINER_CLUSTERCIDR=10.130.0.0/16",
        "--env=SUBMARINER_SERVICECIDR=100.66.0.0/16",
        "--env=SUBMARINER_HEALTHCHECKENABLED=true",
        "--env=SUBMARINER_HEALTHCHECKINTERVAL=1",
        "--env=SUBMARINER_HEALTHCHECKMAXPACKETLOSSCOUNT=5",
        "--env=SUBMARINER_UNINSTALL=false",
        "--env=NODE_NAME=a1",
        "--env=POD_NAME=ralab-a1-1-0",
        "--env=ROUTEAGENT_LISTEN=127.0.0.1:9180",
        "--env=ROUTEAGENT_LOG=info",
    ];
    // The security flags come in manifest order; compare as sets there.
    let mut got = r.flags.clone();
    let mut exp: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    got[1..7].sort();
    exp[1..7].sort();
    assert_eq!(got, exp);
    assert_eq!(
        r.host_paths,
        vec![
            HostPath {
                path: "/tmp/ralab/state/a1/run/routeagent".into(),
                kind: HostPathType::DirectoryOrCreate
            },
            HostPath {
                path: "/tmp/ralab/state/a1/run/xtables.lock".into(),
                kind: HostPathType::FileOrCreate
            },
        ]
    );
}

#[test]
fn the_uninstall_daemonset_s_init_container_uninstalls_with_the_same_context() {
    let run = translate(DAEMONSET, "d", "routeagent", &facts()).unwrap();
    let un = translate(UNINSTALL_DAEMONSET, "u", "uninstall", &facts()).unwrap();
    assert!(un
        .flags
        .contains(&"--env=SUBMARINER_UNINSTALL=true".to_string()));
    assert!(un.flags.contains(&"--env=NODE_NAME=a1".to_string()));
    let security = |f: &[String]| -> Vec<String> {
        f.iter()
            .filter(|f| !f.starts_with("--env="))
            .cloned()
            .collect()
    };
    assert_eq!(security(&run.flags), security(&un.flags));
    assert_eq!(run.host_paths, un.host_paths);
    // The pause container runs nothing of ours; asking for a missing one names the others.
    let e = translate(UNINSTALL_DAEMONSET, "u", "nope", &facts()).unwrap_err();
    assert!(
        e.problem.contains("uninstall, done") || e.problem.contains("done, uninstall"),
        "{e}"
    );
}

const BASE: &str = "kind: DaemonSet
metadata: {namespace: ns1}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: c
        image: x
";

fn with(container_extra: &str, pod_extra: &str) -> String {
    let mut s = BASE.replace(
        "      hostNetwork: true\n",
        &format!("      hostNetwork: true\n{pod_extra}"),
    );
    s.push_str(container_extra);
    s
}

#[test]
fn a_minimal_host_network_container_gets_only_the_network() {
    let r = run(BASE, "c").unwrap();
    assert_eq!(r.flags, vec!["--network=ns:/run/netns/ralab-a1"]);
    let r = run(
        &with(
            "        securityContext: {privileged: true, runAsUser: 5, runAsGroup: 6}\n",
            "",
        ),
        "c",
    )
    .unwrap();
    assert_eq!(r.flags[1..], ["--privileged", "--user=5:6"]);
}

#[test]
fn what_cannot_be_translated_is_refused_naming_the_field() {
    let cases = [
        (
            with(
                "        securityContext: {seccompProfile: {type: RuntimeDefault}}\n",
                "",
            ),
            "containers[c].securityContext.seccompProfile",
            "not translated",
        ),
        (
            with("        securityContext: {capabilities: {add: []}}\n", ""),
            "capabilities.add",
            "list of capability names",
        ),
        (
            with("        command: [sh]\n", ""),
            "containers[c].command",
            "not translated",
        ),
        (
            with(
                "        env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n",
                "",
            ),
            "env[A].valueFrom",
            "only fieldRef",
        ),
        (
            with(
                "        env: [{name: A, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]\n",
                "",
            ),
            "env[A].valueFrom.fieldRef.fieldPath",
            "status.podIP",
        ),
        (
            with("        env: [{name: A, value: \"$(B)\"}]\n", ""),
            "env[A].value",
            "not expanded",
        ),
        (
            with("        env: [{name: A, value: 1}]\n", ""),
            "env[A].value",
            "want a string",
        ),
        (
            with(
                "        volumeMounts: [{name: v, mountPath: /x}]\n",
                "      volumes: [{name: v, emptyDir: {}}]\n",
            ),
            "volumeMounts[v]",
            "only hostPath",
        ),
        (
            with(
                "        volumeMounts: [{name: v, mountPath: /x, subPath: y}]\n",
                "      volumes: [{name: v, hostPath: {path: /y}}]\n",
            ),
            "volumeMounts[v].subPath",
            "not translated",
        ),
        (
            with(
                "        volumeMounts: [{name: v, mountPath: /x}]\n",
                "      volumes: [{name: v, hostPath: {path: /y, type: Socket}}]\n",
            ),
            "volumeMounts[v]",
            "Socket",
        ),
        (
            with("        volumeMounts: [{name: w, mountPath: /x}]\n", ""),
            "volumeMounts[w]",
            "no volume named",
        ),
        (
            with("", "      hostPID: true\n"),
            "spec.template.spec.hostPID",
            "not translated",
        ),
        (
            with("", "      securityContext: {runAsUser: 1}\n"),
            "spec.template.spec.securityContext",
            "not translated",
        ),
        (
            BASE.replace("hostNetwork: true", "hostNetwork: false"),
            "spec.template.spec.hostNetwork",
            "host-network",
        ),
        (
            BASE.replace("      hostNetwork: true\n", ""),
            "spec.template.spec.hostNetwork",
            "missing",
        ),
        (
            BASE.replace("DaemonSet", "Deployment"),
            "kind",
            "want DaemonSet",
        ),
    ];
    for (manifest, field, problem) in cases {
        let e = run(&manifest, "c").unwrap_err();
        assert!(
            e.field.ends_with(field),
            "field {:?} for {manifest}",
            e.field
        );
        assert!(
            e.problem.contains(problem),
            "problem {:?} for {manifest}",
            e.problem
        );
        assert!(e.to_string().starts_with("test.yaml: "), "{e}");
    }
}

#[test]
fn read_only_volume_mounts_stay_read_only() {
    let m = with(
        "        volumeMounts: [{name: v, mountPath: /etc/x, readOnly: true}]\n",
        "      volumes: [{name: v, hostPath: {path: /etc/y, type: Directory}}]\n",
    );
    let r = run(&m, "c").unwrap();
    assert_eq!(r.flags[1], "--volume=/tmp/ralab/state/a1/etc/y:/etc/x:ro");
    assert_eq!(r.host_paths[0].kind, HostPathType::Directory);
}
