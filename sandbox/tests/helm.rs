//! helm 4 against the sandbox, with nothing but the kubeconfig it writes:
//! install (server-side apply, the release kept in a protobuf-encoded
//! Secret), list, upgrade, rollback and uninstall of a small chart.
//!
//! helm comes from `RUDDER_HELM`, else `PATH`; `scripts/test.sh` installs
//! it. A missing helm fails these tests: they are never skipped.

mod util;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::Api;
use kube::api::ListParams;
use util::{Tool, ToolEnv};

/// helm over a [`ToolEnv`] with the test chart written beside the kubeconfig.
struct Env(ToolEnv);

impl std::ops::Deref for Env {
    type Target = ToolEnv;
    fn deref(&self) -> &ToolEnv {
        &self.0
    }
}

impl Env {
    async fn start() -> Env {
        let env = ToolEnv::start().await;
        write_chart(&env.dir.path().join("web"));
        Env(env)
    }

    /// Runs helm to completion (bounded); returns (success, stdout, stderr).
    async fn try_run(&self, args: &[&str]) -> (bool, String, String) {
        self.run_tool(Tool::Helm, args, "").await
    }

    async fn run(&self, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.try_run(args).await;
        assert!(ok, "helm {args:?} failed: {stderr}\n{stdout}");
        stdout
    }
}

/// A chart of our own: a ConfigMap, a Deployment and a Service.
fn write_chart(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    let files = [
        ("Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.27\"\n"),
        ("values.yaml", "replicas: 2\nimage: nginx:1.27\ngreeting: hello\n"),
        (
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
        ),
        (
            "templates/deployment.yaml",
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app: web, release: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: web, release: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: web, release: {{ .Release.Name }}}
    spec:
      containers:
      - name: web
        image: {{ .Values.image }}
        ports:
        - containerPort: 80
        envFrom:
        - configMapRef: {name: {{ .Release.Name }}-settings}
"#,
        ),
        (
            "templates/service.yaml",
            r#"apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: web, release: {{ .Release.Name }}}
  ports:
  - port: 80
    targetPort: 80
"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("chart file written");
    }
}

fn replicas(d: &Deployment) -> Option<i32> {
    d.spec.as_ref().and_then(|s| s.replicas)
}

#[tokio::test]
async fn helm_installs_upgrades_rolls_back_and_uninstalls_a_chart() {
    let env = Env::start().await;
    let c = env.client();
    let out = env.run(&["install", "demo", "./web"]).await;
    assert!(out.contains("STATUS: deployed"), "{out}");
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let d = deployments.get("demo-web").await.expect("the chart's Deployment exists");
    assert_eq!(replicas(&d), Some(2));
    let managers: Vec<(String, String)> = d
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.manager.unwrap_or_default(), e.operation.unwrap_or_default()))
        .collect();
    assert_eq!(managers, [("helm".to_string(), "Apply".to_string())], "helm 4 applies server-side");
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    assert_eq!(cms.get("demo-settings").await.expect("configmap").data.expect("data")["greeting"], "hello");
    let services: Api<Service> = Api::namespaced(c.clone(), "default");
    services.get("demo-web").await.expect("the chart's Service exists");
    // The release is kept in a Secret, written as protobuf.
    let secrets: Api<Secret> = Api::namespaced(c.clone(), "default");
    let releases = secrets.list(&ListParams::default().labels("owner=helm,name=demo")).await.expect("list");
    assert_eq!(releases.items.len(), 1);
    assert_eq!(releases.items[0].type_.as_deref(), Some("helm.sh/release.v1"));

    let list = env.run(&["list", "--short"]).await;
    assert_eq!(list.trim(), "demo");

    env.run(&["upgrade", "demo", "./web", "--set", "replicas=3", "--set", "greeting=hi"]).await;
    assert_eq!(replicas(&deployments.get("demo-web").await.expect("deployment")), Some(3));
    assert_eq!(cms.get("demo-settings").await.expect("configmap").data.expect("data")["greeting"], "hi");
    let history = env.run(&["history", "demo", "--output", "json"]).await;
    let history: serde_json::Value = serde_json::from_str(&history).expect("history is JSON");
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    env.run(&["rollback", "demo", "1"]).await;
    assert_eq!(replicas(&deployments.get("demo-web").await.expect("deployment")), Some(2));
    assert_eq!(cms.get("demo-settings").await.expect("configmap").data.expect("data")["greeting"], "hello");

    let out = env.run(&["uninstall", "demo"]).await;
    assert!(out.contains("release \"demo\" uninstalled"), "{out}");
    util::eventually(30, "the chart's objects to go", || async {
        let gone = deployments.get_opt("demo-web").await.expect("get").is_none()
            && services.get_opt("demo-web").await.expect("get").is_none()
            && cms.get_opt("demo-settings").await.expect("get").is_none();
        gone.then_some(())
    })
    .await;
    let releases = secrets.list(&ListParams::default().labels("owner=helm")).await.expect("list");
    assert!(releases.items.is_empty(), "release secrets remain: {:?}", releases.items.len());
}

#[tokio::test]
async fn helm_reports_an_invalid_chart_object_and_keeps_nothing_half_installed() {
    let env = Env::start().await;
    let (ok, stdout, stderr) = env.try_run(&["install", "bad", "./web", "--set", "replicas=-1"]).await;
    assert!(!ok, "{stdout}");
    assert!(stderr.contains("spec.replicas: Invalid value: -1: must be greater than or equal to 0"), "{stderr}");
    let deployments: Api<Deployment> = Api::namespaced(env.client(), "default");
    assert!(deployments.get_opt("bad-web").await.expect("get").is_none());
}
