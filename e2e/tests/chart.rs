//! The Helm chart (`charts/rudder`), checked as far as this machine allows
//! (no Docker: the image and kind are exercised by the kind workflow):
//! `helm lint --strict`; `helm template` with the default values and with
//! every optional feature on, each rendered object parsed as its kind (and
//! nothing in it that the kind does not have); bad values refused by the
//! schema with a clear message; `helm install` into the sandbox, an upgrade
//! keeping the generated CA, an uninstall; and the webhook configurations
//! agreeing with the ones `rudder-sandbox up` registers.
//!
//! helm comes from `RUDDER_HELM`, else `PATH` (`scripts/test.sh` installs it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::Api;
use rudder_e2e::World;
use serde_json::Value;

const NS: &str = "rudder-system";

fn chart() -> PathBuf {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    PathBuf::from(manifest).join("../charts/rudder")
}

/// Every optional feature on.
const ALL_ON: &[&str] = &[
    "--set=serviceMonitor.enabled=true",
    "--set=prometheusRule.enabled=true",
    "--set=grafanaDashboard.enabled=true",
    "--set=components.admissionWebhooks.certManager.enabled=true",
];

/// Runs helm; (success, stdout, stderr).
async fn helm(kubeconfig: Option<&std::path::Path>, args: &[&str]) -> (bool, String, String) {
    let exe = std::env::var("RUDDER_HELM").unwrap_or_else(|_| "helm".into());
    let home = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(&exe);
    cmd.args(args)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .kill_on_drop(true);
    match kubeconfig {
        Some(k) => cmd.env("KUBECONFIG", k),
        None => cmd.env("KUBECONFIG", home.path().join("none")),
    };
    let run = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output());
    let out =
        run.await.expect("helm finished within 120 s").unwrap_or_else(|e| panic!("cannot run {exe} (scripts/test.sh installs it): {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

async fn render(extra: &[&str]) -> Vec<Value> {
    let chart = chart();
    let mut args = vec!["template", "r", chart.to_str().unwrap(), "--namespace", NS];
    args.extend_from_slice(extra);
    let (ok, out, err) = helm(None, &args).await;
    assert!(ok, "helm template failed: {err}");
    serde_yaml::Deserializer::from_str(&out)
        .map(|d| serde_yaml::from_value::<Value>(serde_yaml::Value::deserialize(d).expect("YAML")).expect("JSON-able"))
        .filter(|v| !v.is_null())
        .collect()
}

use serde::Deserialize;

/// Drops what serialization leaves out anyway (nulls, empty maps and lists).
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| {
                    !(v.is_null() || v.as_object().is_some_and(|o| o.is_empty()) || v.as_array().is_some_and(|a| a.is_empty()))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// Parses `o` as `K` and checks that nothing was lost: a misspelt or
/// misplaced field would be dropped by the typed form.
fn parses_as<K: serde::de::DeserializeOwned + serde::Serialize>(o: &Value) {
    let what = format!("{} {}", o["kind"], o["metadata"]["name"]);
    let typed: K = serde_json::from_value(o.clone()).unwrap_or_else(|e| panic!("{what} does not parse: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(normalized(&back), normalized(o), "{what} has fields its kind does not have");
}

fn check_kinds(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for o in objects {
        let kind = o["kind"].as_str().expect("a kind").to_string();
        match kind.as_str() {
            "Deployment" => parses_as::<Deployment>(o),
            "Service" => parses_as::<Service>(o),
            "ServiceAccount" => parses_as::<ServiceAccount>(o),
            "ConfigMap" => parses_as::<ConfigMap>(o),
            "Secret" => parses_as::<Secret>(o),
            "PodDisruptionBudget" => parses_as::<PodDisruptionBudget>(o),
            "ClusterRole" => parses_as::<ClusterRole>(o),
            "ClusterRoleBinding" => parses_as::<ClusterRoleBinding>(o),
            "Role" => parses_as::<Role>(o),
            "RoleBinding" => parses_as::<RoleBinding>(o),
            "MutatingWebhookConfiguration" => parses_as::<MutatingWebhookConfiguration>(o),
            "ValidatingWebhookConfiguration" => parses_as::<ValidatingWebhookConfiguration>(o),
            // Custom resources (prometheus-operator, cert-manager): their shape.
            "ServiceMonitor" | "PrometheusRule" | "Certificate" | "Issuer" => {
                assert!(o["apiVersion"].as_str().is_some_and(|v| v.contains('/')), "{o}");
                assert!(o["spec"].is_object(), "{o}");
            }
            other => panic!("unexpected kind {other} rendered"),
        }
        *kinds.entry(kind).or_default() += 1;
    }
    kinds
}

#[tokio::test]
async fn helm_lint_strict_passes_with_defaults_and_with_everything_on() {
    let chart = chart();
    let (ok, out, err) = helm(None, &["lint", "--strict", chart.to_str().unwrap()]).await;
    assert!(ok, "{out}{err}");
    let mut args = vec!["lint", "--strict", chart.to_str().unwrap()];
    args.extend_from_slice(ALL_ON);
    let (ok, out, err) = helm(None, &args).await;
    assert!(ok, "{out}{err}");
}

#[tokio::test]
async fn every_rendered_object_parses_as_its_kind() {
    let defaults = check_kinds(&render(&[]).await);
    assert_eq!(defaults["Deployment"], 7, "{defaults:?}");
    assert_eq!(defaults["ServiceAccount"], 7);
    assert_eq!(defaults["PodDisruptionBudget"], 7);
    assert!(!defaults.contains_key("ServiceMonitor"));
    let all = check_kinds(&render(ALL_ON).await);
    for kind in ["ServiceMonitor", "PrometheusRule", "Certificate", "Issuer"] {
        assert_eq!(all.get(kind), Some(&1), "{kind}: {all:?}");
    }
    assert!(!all.contains_key("Secret"), "cert-manager makes the TLS Secret");
}

#[tokio::test]
async fn pods_are_locked_down_and_labelled_for_the_e2e_harness() {
    for o in render(&[]).await.into_iter().filter(|o| o["kind"] == "Deployment") {
        let d: Deployment = serde_json::from_value(o).unwrap();
        let name = d.metadata.name.clone().unwrap();
        let pod = d.spec.unwrap().template;
        let binary = pod.metadata.unwrap().labels.unwrap()["app.kubernetes.io/name"].clone();
        assert!(binary.starts_with("rudder-"), "{name}: {binary}");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.priority_class_name.as_deref(), Some("system-cluster-critical"), "{name}");
        let psc = spec.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true), "{name}");
        assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault", "{name}");
        let c = &spec.containers[0];
        assert_eq!(c.command.as_ref().unwrap()[0], format!("/usr/local/bin/{binary}"));
        let sc = c.security_context.clone().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true), "{name}");
        assert_eq!(sc.allow_privilege_escalation, Some(false), "{name}");
        assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"], "{name}");
        let args = c.args.clone().unwrap();
        let elects = binary != "rudder-admission-webhooks";
        assert!(args.contains(&format!("--leader-elect={elects}")), "{name}: {args:?}");
    }
}

#[tokio::test]
async fn bad_values_are_refused_with_a_clear_message() {
    let chart = chart();
    for (set, says) in [
        ("components.admissionWebhooks.failurePolicy.resourceQuota=Sometimes", "value must be one of 'Fail', 'Ignore'"),
        ("components.jobs.enabled=true", "additional properties 'jobs' not allowed"),
        ("components.replicaset.replicas=-1", "minimum"),
        ("leaderElection.leaseDuration=soon", "leaseDuration"),
        ("components.admissionWebhooks.plugins={PodSecurity}", "value must be one of"),
    ] {
        let (ok, _, err) = helm(None, &["template", "r", chart.to_str().unwrap(), "--set", set]).await;
        assert!(!ok, "{set} was accepted");
        assert!(err.contains(says), "{set}: {err}");
    }
}

/// The chart's webhooks call the paths `rudder-sandbox up` calls, for the
/// same rules (the chart adds namespace exclusions and splits namespace
/// deletes into a webhook of their own that excludes no namespace).
#[tokio::test]
async fn the_webhook_configurations_agree_with_up() {
    let objects = render(&[]).await;
    let find = |kind: &str| objects.iter().find(|o| o["kind"] == kind).cloned().unwrap();
    let mutating: MutatingWebhookConfiguration = serde_json::from_value(find("MutatingWebhookConfiguration")).unwrap();
    let validating: ValidatingWebhookConfiguration = serde_json::from_value(find("ValidatingWebhookConfiguration")).unwrap();
    let (up_m, up_v) = rudder_sandbox::up::webhooks::configurations("https://127.0.0.1:1", "Q0E=");
    let chart_m = mutating.webhooks.unwrap();
    for h in up_m.webhooks.unwrap() {
        let c = chart_m.iter().find(|c| c.name == h.name).unwrap_or_else(|| panic!("{} missing", h.name));
        assert_eq!(c.rules, h.rules, "{}", h.name);
        assert_eq!(c.failure_policy, h.failure_policy, "{}", h.name);
        assert_eq!(c.side_effects, h.side_effects, "{}", h.name);
        assert_eq!(
            Some(c.client_config.service.as_ref().unwrap().path.clone().unwrap()),
            h.client_config.url.map(|u| u.replace("https://127.0.0.1:1", ""))
        );
    }
    let chart_v = validating.webhooks.unwrap();
    for h in up_v.webhooks.unwrap() {
        let path = h.client_config.url.clone().unwrap().replace("https://127.0.0.1:1", "");
        let same_path: Vec<_> =
            chart_v.iter().filter(|c| c.client_config.service.as_ref().unwrap().path.as_deref() == Some(path.as_str())).collect();
        assert!(!same_path.is_empty(), "{path}");
        let rules: Vec<_> = same_path.iter().flat_map(|c| c.rules.clone().unwrap()).collect();
        assert_eq!(Some(rules), h.rules, "{}", h.name);
        for c in same_path {
            assert_eq!(c.failure_policy, h.failure_policy, "{}", c.name);
            assert_eq!(c.side_effects, h.side_effects, "{}", c.name);
            let excluded = c.namespace_selector.as_ref().and_then(|s| s.match_expressions.clone()).unwrap_or_default();
            if c.name == "namespacedeletion.admission.rudder.dev" {
                assert!(excluded.is_empty(), "namespace deletes must reach the webhook for kube-system too");
            } else {
                assert_eq!(excluded[0].values.as_deref(), Some(&["kube-system".to_string(), NS.to_string()][..]), "{}", c.name);
            }
        }
    }
}

#[tokio::test]
async fn the_chart_installs_into_the_sandbox_and_an_upgrade_keeps_its_ca() {
    let world = World::start(&[]).await.unwrap();
    if world.external() {
        return; // that cluster has the chart installed already
    }
    let (_, _) = world.kubectl(&["create", "namespace", NS]).await.unwrap();
    let chart = chart();
    let kubeconfig = world.kubeconfig.clone();
    let (ok, out, err) = helm(Some(&kubeconfig), &["install", "r", chart.to_str().unwrap(), "--namespace", NS]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("rudder-scheduler"), "NOTES: {out}");
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), NS);
    let names: Vec<String> =
        deployments.list(&Default::default()).await.unwrap().items.into_iter().filter_map(|d| d.metadata.name).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    let secrets: Api<Secret> = Api::namespaced(world.client.clone(), NS);
    let ca = |s: Secret| s.data.unwrap()["ca.crt"].0.clone();
    let before = ca(secrets.get("r-rudder-admission-webhooks-tls").await.unwrap());
    let validating: Api<ValidatingWebhookConfiguration> = Api::all(world.client.clone());
    let bundle = |v: ValidatingWebhookConfiguration| v.webhooks.unwrap()[0].client_config.ca_bundle.clone().unwrap().0;
    assert_eq!(bundle(validating.get("r-rudder-admission-webhooks").await.unwrap()), before);

    let (ok, out, err) =
        helm(Some(&kubeconfig), &["upgrade", "r", chart.to_str().unwrap(), "--namespace", NS, "--set", "logFormat=text"]).await;
    assert!(ok, "{out}{err}");
    assert_eq!(ca(secrets.get("r-rudder-admission-webhooks-tls").await.unwrap()), before, "the CA changed on upgrade");
    assert_eq!(bundle(validating.get("r-rudder-admission-webhooks").await.unwrap()), before);

    let (ok, out, err) = helm(Some(&kubeconfig), &["uninstall", "r", "--namespace", NS]).await;
    assert!(ok, "{out}{err}");
    rudder_e2e::eventually(30, "everything uninstalled", || async {
        let left = deployments.list(&Default::default()).await.ok()?.items.len();
        (left == 0 && validating.get_opt("r-rudder-admission-webhooks").await.ok()?.is_none()).then_some(())
    })
    .await;
}

/// The KubeSchedulerConfiguration the chart renders is one rudder-scheduler
/// accepts (its parser refuses unknown fields, as upstream's).
#[tokio::test]
async fn the_scheduler_accepts_the_configuration_the_chart_renders() {
    for extra in [&[][..], &["--set=components.scheduler.config.profiles[0].schedulerName=batch"][..]] {
        let objects = render(extra).await;
        let cm =
            objects.iter().find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "r-rudder-scheduler-config").expect("the config");
        let text = cm["data"]["config.yaml"].as_str().unwrap();
        let resolved = rudder_scheduler::config::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let names: Vec<String> = resolved.profiles.iter().map(|p| p.scheduler_name.clone()).collect();
        assert_eq!(names, [if extra.is_empty() { "rudder-scheduler" } else { "batch" }], "{text}");
    }
}
