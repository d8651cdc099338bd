//! Namespace deletion as kube-controller-manager's namespace controller does
//! it (passes repeated until nothing is left, upstream's status conditions),
//! and the NamespaceLifecycle admission plugin as kube-apiserver has it.

mod util;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use rudder_sandbox::Sandbox;
use serde_json::{Value, json};
use util::{eventually, raw, start};

async fn create_ns(c: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(c.clone()).create(&PostParams::default(), &ns).await.expect("namespace created");
}

fn cm(name: &str, finalizers: &[&str]) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "finalizers": finalizers}, "data": {"k": "v"}})).unwrap()
}

/// The namespace's condition of type `t`, as JSON.
async fn condition(c: &kube::Client, ns: &str, t: &str) -> Option<Value> {
    let (code, body) = raw(c, "GET", &format!("/api/v1/namespaces/{ns}"), "application/json", "").await;
    if code != 200 {
        return None;
    }
    body.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == t).cloned()
}

async fn gone(c: &kube::Client, ns: &str) -> Option<()> {
    Api::<Namespace>::all(c.clone()).get_opt(ns).await.unwrap().is_none().then_some(())
}

/// A sandbox whose admission chain lacks NamespaceLifecycle, as under
/// `rudder-sandbox up` with the webhooks: creates in a terminating namespace
/// then succeed, and only the namespace controller's later passes remove them.
async fn start_without_lifecycle() -> (Sandbox, kube::Client) {
    let plugins = rudder_sandbox::admission::Plugins::from_flags(&[], &["NamespaceLifecycle".to_string()]).expect("flags");
    let cfg = rudder_sandbox::Config { api: rudder_sandbox::Options { admission: plugins, ..Default::default() }, ..Default::default() };
    let s = Sandbox::start_with(cfg).await.expect("sandbox starts");
    let c = s.client().expect("client");
    (s, c)
}

#[tokio::test]
async fn deletion_waits_for_finalizers_and_says_why_in_the_conditions() {
    let (_s, c) = start().await;
    create_ns(&c, "team").await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "team");
    cms.create(&PostParams::default(), &cm("held", &["example.com/hold"])).await.unwrap();
    cms.create(&PostParams::default(), &cm("free", &[])).await.unwrap();
    let r = Api::<Namespace>::all(c.clone()).delete("team", &DeleteParams::default()).await.unwrap();
    let ns = r.left().expect("the namespace is returned while it terminates");
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"), "the delete itself makes it Terminating");

    let remaining = eventually(10, "NamespaceContentRemaining", || async {
        condition(&c, "team", "NamespaceContentRemaining").await.filter(|x| x["status"] == "True")
    })
    .await;
    assert_eq!(remaining["reason"], "SomeResourcesRemain");
    assert_eq!(remaining["message"], "Some resources are remaining: configmaps. has 1 resource instances");
    assert!(remaining["lastTransitionTime"].is_string());
    let fin = condition(&c, "team", "NamespaceFinalizersRemaining").await.expect("NamespaceFinalizersRemaining");
    assert_eq!(
        (fin["status"].as_str(), fin["reason"].as_str(), fin["message"].as_str()),
        (Some("True"), Some("SomeFinalizerRemain"), Some("Some finalizers are remaining: example.com/hold in 1 resource instances"))
    );
    for (t, reason, message) in [
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    ] {
        let x = condition(&c, "team", t).await.unwrap_or_else(|| panic!("{t}"));
        assert_eq!((x["status"].as_str(), x["reason"].as_str(), x["message"].as_str()), (Some("False"), Some(reason), Some(message)));
    }
    assert!(cms.get_opt("free").await.unwrap().is_none(), "what has no finalizer is deleted");
    assert!(cms.get("held").await.unwrap().metadata.deletion_timestamp.is_some());
    assert!(gone(&c, "team").await.is_none(), "the namespace waits for the finalizer");

    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    eventually(20, "the namespace to be gone", || gone(&c, "team")).await;
}

#[tokio::test]
async fn objects_written_during_deletion_are_deleted_by_later_passes() {
    // The scenario: controllers keep writing (Events, here) while the
    // namespace terminates. Without NamespaceLifecycle the writes succeed;
    // the passes go on until nothing is left.
    let (_s, c) = start_without_lifecycle().await;
    create_ns(&c, "busy").await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "busy");
    cms.create(&PostParams::default(), &cm("held", &["example.com/hold"])).await.unwrap();
    Api::<Namespace>::all(c.clone()).delete("busy", &DeleteParams::default()).await.unwrap();
    eventually(10, "the first pass", || async { condition(&c, "busy", "NamespaceFinalizersRemaining").await }).await;
    for i in 0..3 {
        let e = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("late-{i}")},
                       "involvedObject": {"kind": "ConfigMap", "name": "held", "namespace": "busy"},
                       "reason": "Written", "message": "during termination", "type": "Normal"});
        let (code, body) = raw(&c, "POST", "/api/v1/namespaces/busy/events", "application/json", &e.to_string()).await;
        assert_eq!(code, 201, "{body}");
    }
    cms.create(&PostParams::default(), &cm("late", &[])).await.expect("created in a terminating namespace");
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(c.clone(), "busy");
    eventually(30, "what was written meanwhile to be deleted", || async {
        let left = events.list(&Default::default()).await.unwrap().items.len() + usize::from(cms.get_opt("late").await.unwrap().is_some());
        (left == 0).then_some(())
    })
    .await;
    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    eventually(20, "the namespace to be gone", || gone(&c, "busy")).await;
}

#[tokio::test]
async fn objects_that_outlive_their_estimate_are_a_content_failure() {
    let (_s, c) = start().await;
    create_ns(&c, "stuck").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "stuck");
    // Bound to a node no kubelet serves: its graceful deletion never ends.
    let p: Pod =
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"nodeName": "nowhere", "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "c", "image": "nginx"}]}}))
        .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    Api::<Namespace>::all(c.clone()).delete("stuck", &DeleteParams::default()).await.unwrap();
    let failure = eventually(20, "NamespaceDeletionContentFailure", || async {
        condition(&c, "stuck", "NamespaceDeletionContentFailure").await.filter(|x| x["status"] == "True")
    })
    .await;
    assert_eq!(failure["reason"], "ContentDeletionFailed");
    assert_eq!(
        failure["message"],
        "Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: stuck for gvr: /v1, Resource=pods"
    );
    let remaining = condition(&c, "stuck", "NamespaceContentRemaining").await.unwrap();
    assert_eq!(remaining["message"], "Some resources are remaining: pods. has 1 resource instances");
    let fin = condition(&c, "stuck", "NamespaceFinalizersRemaining").await.unwrap();
    assert_eq!((fin["status"].as_str(), fin["reason"].as_str()), (Some("False"), Some("ContentRemoved")));
    // The kubelet's final delete: the namespace goes.
    pods.delete("p", &DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await.unwrap();
    eventually(20, "the namespace to be gone", || gone(&c, "stuck")).await;
}

#[tokio::test]
async fn updating_a_terminating_namespace_does_not_skip_its_content() {
    let (_s, c) = start().await;
    create_ns(&c, "keep").await;
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "keep");
    cms.create(&PostParams::default(), &cm("held", &["example.com/hold"])).await.unwrap();
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.delete("keep", &DeleteParams::default()).await.unwrap();
    nss.patch("keep", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}}))).await.unwrap();
    let ns = nss.get_opt("keep").await.unwrap().expect("its spec.finalizers still hold it");
    assert_eq!(ns.spec.unwrap().finalizers.unwrap(), vec!["kubernetes".to_string()]);
    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    eventually(20, "the namespace to be gone", || gone(&c, "keep")).await;
}

// ----- NamespaceLifecycle -----

/// A POST's (code, Status or object).
async fn post(c: &kube::Client, path: &str, body: Value) -> (u16, Value) {
    raw(c, "POST", path, "application/json", &body.to_string()).await
}

/// A namespace that stays Terminating (a ConfigMap in it holds a finalizer).
async fn terminating(c: &kube::Client, ns: &str) {
    create_ns(c, ns).await;
    Api::<ConfigMap>::namespaced(c.clone(), ns).create(&PostParams::default(), &cm("held", &["example.com/hold"])).await.unwrap();
    Api::<Namespace>::all(c.clone()).delete(ns, &DeleteParams::default()).await.unwrap();
}

fn assert_terminating_refusal(code: u16, s: &Value, what: &str, ns: &str) {
    assert_eq!(code, 403, "{s}");
    assert_eq!(s["reason"], "Forbidden", "{s}");
    assert_eq!(s["message"], format!("{what} is forbidden: unable to create new content in namespace {ns} because it is being terminated"));
    assert_eq!(
        s["details"]["causes"],
        json!([{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]),
        "{s}"
    );
}

#[tokio::test]
async fn creates_in_a_terminating_namespace_are_forbidden_with_the_namespace_terminating_cause() {
    let (_s, c) = start().await;
    terminating(&c, "ending").await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/ending/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_terminating_refusal(code, &s, "configmaps \"x\"", "ending");
    assert_eq!((s["details"]["name"].as_str(), s["details"]["kind"].as_str()), (Some("x"), Some("configmaps")));
    // A generated name is not generated yet: the generateName is named.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (code, s) = post(&c, "/api/v1/namespaces/ending/pods", pod).await;
    assert_terminating_refusal(code, &s, "pods \"web-\"", "ending");
    let (code, s) =
        post(&c, "/apis/apps/v1/namespaces/ending/deployments", json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
        .await;
    assert_terminating_refusal(code, &s, "deployments.apps \"d\"", "ending");
    // Dry runs are admitted as the real thing.
    let (code, s) = post(
        &c,
        "/api/v1/namespaces/ending/configmaps?dryRun=All",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
    )
    .await;
    assert_terminating_refusal(code, &s, "configmaps \"x\"", "ending");
    // Updates are allowed: finalizers can still be removed.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "ending");
    cms.patch("held", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})))
        .await
        .expect("updates are allowed");
}

#[tokio::test]
async fn events_in_a_terminating_namespace_are_refused_through_both_event_apis() {
    // What client-go's recorder checks (HasStatusCause NamespaceTerminating)
    // to log "Server rejected event ... (will not retry!)" at V(5) only;
    // rudder_common::events::quiet_rejection logs it at debug level likewise.
    let (_s, c) = start().await;
    terminating(&c, "ending").await;
    let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
        "involvedObject": {"kind": "ConfigMap", "name": "held", "namespace": "ending"}, "reason": "R", "message": "m", "type": "Normal"});
    let (code, s) = post(&c, "/api/v1/namespaces/ending/events", core).await;
    assert_terminating_refusal(code, &s, "events \"e1\"", "ending");
    let new = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2"}, "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "rudder.dev/test", "reportingInstance": "t-1", "action": "Test", "reason": "R", "type": "Normal",
        "regarding": {"kind": "ConfigMap", "name": "held", "namespace": "ending"}});
    let (code, s) = post(&c, "/apis/events.k8s.io/v1/namespaces/ending/events", new).await;
    assert_terminating_refusal(code, &s, "events.events.k8s.io \"e2\"", "ending");
}

#[tokio::test]
async fn subresource_creates_in_a_terminating_namespace_are_refused() {
    let (_s, c) = start().await;
    create_ns(&c, "ending").await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "ending");
    let p: Pod = serde_json::from_value(json!({"metadata": {"name": "p", "finalizers": ["example.com/hold"]},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    Api::<Namespace>::all(c.clone()).delete("ending", &DeleteParams::default()).await.unwrap();
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
    let (code, s) = post(&c, "/api/v1/namespaces/ending/pods/p/binding", binding).await;
    assert_terminating_refusal(code, &s, "pods \"p\"", "ending");
    pods.patch("p", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"finalizers": null}}))).await.unwrap();
    eventually(20, "the namespace to be gone", || gone(&c, "ending")).await;
}

#[tokio::test]
async fn creates_in_a_missing_namespace_are_not_found() {
    let (_s, c) = start().await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/nope/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(code, 404, "{s}");
    assert_eq!(s["reason"], "NotFound");
    assert_eq!(s["message"], "namespaces \"nope\" not found");
    assert_eq!(s["details"], json!({"name": "nope", "kind": "namespaces"}));
    // Server-side apply creating an object takes the same way.
    let (code, s) = raw(
        &c,
        "PATCH",
        "/api/v1/namespaces/nope/configmaps/x?fieldManager=t",
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )
    .await;
    assert_eq!((code, s["message"].as_str()), (404, Some("namespaces \"nope\" not found")), "{s}");
}

#[tokio::test]
async fn creates_right_after_the_namespace_are_admitted() {
    let (_s, c) = start().await;
    for i in 0..20 {
        let ns = format!("fresh-{i}");
        create_ns(&c, &ns).await;
        let (code, s) = post(
            &c,
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        )
        .await;
        assert_eq!(code, 201, "{s}");
    }
}

#[tokio::test]
async fn default_kube_system_and_kube_public_cannot_be_deleted() {
    let (_s, c) = start().await;
    for ns in ["default", "kube-system", "kube-public"] {
        let (code, s) = raw(&c, "DELETE", &format!("/api/v1/namespaces/{ns}"), "application/json", "").await;
        assert_eq!(code, 403, "{s}");
        assert_eq!(s["message"], format!("namespaces \"{ns}\" is forbidden: this namespace may not be deleted"));
        assert_eq!(s["details"], json!({"name": ns, "kind": "namespaces"}));
        let got = Api::<Namespace>::all(c.clone()).get(ns).await.unwrap();
        assert!(got.metadata.deletion_timestamp.is_none());
    }
    // kube-node-lease is a system namespace, but not immortal.
    let (code, s) = raw(&c, "DELETE", "/api/v1/namespaces/kube-node-lease?dryRun=All", "application/json", "").await;
    assert_eq!(code, 200, "{s}");
}

#[tokio::test]
async fn without_the_plugin_creates_in_missing_namespaces_succeed() {
    let (_s, c) = start_without_lifecycle().await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/nope/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(code, 201, "{s}");
    let (code, s) = raw(&c, "DELETE", "/api/v1/namespaces/kube-public?dryRun=All", "application/json", "").await;
    assert_eq!(code, 200, "{s}");
}

// ----- the flags -----

const BIN: &str = env!("CARGO_BIN_EXE_rudder-sandbox");

/// Runs the binary to completion (it must exit within a minute).
async fn run_bin(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(BIN).args(args).stdin(std::process::Stdio::null()).kill_on_drop(true).output(),
    )
    .await
    .expect("exits")
    .expect("runs");
    (out.status, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test]
async fn unknown_or_missing_plugins_are_refused_as_kube_apiserver_does() {
    let (status, _, err) = run_bin(&["apiserver", "--port", "0", "--enable-admission-plugins=Bogus"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("enable-admission-plugins plugin \"Bogus\" is unknown"), "{err}");
    let (status, _, err) = run_bin(&["apiserver", "--port", "0", "--disable-admission-plugins=NamespaceLifecycle,Nope"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("disable-admission-plugins plugin \"Nope\" is unknown"), "{err}");
    let (status, _, err) =
        run_bin(&["apiserver", "--port", "0", "--enable-admission-plugins=Priority", "--disable-admission-plugins=Priority"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("[Priority] in enable-admission-plugins and disable-admission-plugins overlapped"), "{err}");
    let (status, _, err) = run_bin(&["apiserver", "--port", "0", "--enable-admission-plugins=AlwaysPullImages"]).await;
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("\"AlwaysPullImages\" not built into rudder-sandbox"), "{err}");
}

/// A running `rudder-sandbox` command whose stdout is collected; killed by
/// its id when dropped.
struct Running {
    child: tokio::process::Child,
    out: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(BIN)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starts");
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let o = out.clone();
        let stdout = child.stdout.take().expect("stdout");
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let mut o = o.lock().unwrap();
                o.push_str(&l);
                o.push('\n');
            }
        });
        Running { child, out }
    }

    async fn line(&self, prefix: &str) -> String {
        eventually(60, prefix, || async {
            self.out.lock().unwrap().lines().find(|l| l.trim_start().starts_with(prefix)).map(|l| l.trim().to_string())
        })
        .await
    }

    /// SIGTERM by child id, and the exit waited for.
    async fn stop(mut self) {
        if let Some(pid) = self.child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait()).await;
    }
}

async fn client_of(kubeconfig: &std::path::Path) -> kube::Client {
    let kc = eventually(30, "the kubeconfig", || async { kube::config::Kubeconfig::read_from(kubeconfig).ok() }).await;
    kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap()).unwrap()
}

#[tokio::test]
async fn apiserver_flags_switch_the_built_in_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let p = Running::start(&[
        "apiserver",
        "--port",
        "0",
        "--kubeconfig-out",
        kc.to_str().unwrap(),
        "--disable-admission-plugins=LimitRanger,ResourceQuota",
        "--disable-admission-plugins",
        "NamespaceLifecycle",
    ]);
    assert_eq!(
        p.line("admission plugins:").await,
        "admission plugins: Priority,DefaultTolerationSeconds,MutatingAdmissionWebhook,ValidatingAdmissionWebhook"
    );
    let c = client_of(&kc).await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/nope/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(code, 201, "NamespaceLifecycle is off: {s}");
    p.stop().await;
}

#[tokio::test]
async fn up_turns_the_built_in_off_only_when_it_runs_the_webhooks() {
    // Without the webhooks: NamespaceLifecycle is built in.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let p = Running::start(&["up", "--port", "0", "--nodes", "0", "--components", "none", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(
        p.line("admission ").await,
        "admission   NamespaceLifecycle, Priority, DefaultTolerationSeconds, MutatingAdmissionWebhook, ValidatingAdmissionWebhook"
    );
    let c = client_of(&kc).await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/nope/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(code, 404, "{s}");
    p.stop().await;

    // With them (a stand-in that never gets ready, so nothing is registered
    // and only the built-in chain runs): switched off, as kind-config/ does.
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("rudder-admission-webhooks");
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let p = Running::start(&[
        "up",
        "--port",
        "0",
        "--nodes",
        "0",
        "--components",
        "admission-webhooks",
        "--bin-dir",
        bin.path().to_str().unwrap(),
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        p.line("admission ").await,
        "admission   Priority, DefaultTolerationSeconds, MutatingAdmissionWebhook, ValidatingAdmissionWebhook"
    );
    assert_eq!(p.line("(LimitRanger").await, "(LimitRanger, ResourceQuota, NamespaceLifecycle served by rudder-admission-webhooks)");
    let c = client_of(&kc).await;
    let (code, s) =
        post(&c, "/api/v1/namespaces/nope/configmaps", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})).await;
    assert_eq!(code, 201, "{s}");
    p.stop().await;
}

#[tokio::test]
async fn kubectl_is_refused_in_a_terminating_namespace_and_shows_why_it_stays() {
    let env = util::ToolEnv::start().await;
    let c = env.client();
    terminating(&c, "ending").await;
    eventually(10, "the first pass", || async { condition(&c, "ending", "NamespaceFinalizersRemaining").await }).await;
    let (ok, _, err) = env.run_tool(util::Tool::Kubectl, &["create", "configmap", "x", "-n", "ending"], "").await;
    assert!(!ok);
    assert!(
        err.contains("configmaps \"x\" is forbidden: unable to create new content in namespace ending because it is being terminated"),
        "{err}"
    );
    let (ok, out, err) = env.run_tool(util::Tool::Kubectl, &["get", "ns", "ending", "-o", "yaml"], "").await;
    assert!(ok, "{err}");
    assert!(out.contains("phase: Terminating"), "{out}");
    assert!(out.contains("Some finalizers are remaining: example.com/hold in 1 resource instances"), "{out}");
    let (ok, _, err) = env.run_tool(util::Tool::Kubectl, &["delete", "ns", "kube-system", "--wait=false"], "").await;
    assert!(!ok);
    assert!(err.contains("namespaces \"kube-system\" is forbidden: this namespace may not be deleted"), "{err}");
}
