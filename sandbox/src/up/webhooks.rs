//! How `up` registers `rudder-admission-webhooks` with the API server: one
//! MutatingWebhookConfiguration and one ValidatingWebhookConfiguration
//! named `rudder-admission-webhooks`, calling the binary by URL over HTTPS.
//!
//! The webhooks stand in for kube-apiserver's built-in LimitRanger,
//! ResourceQuota and NamespaceLifecycle plugins, which cannot be bypassed:
//! hence `failurePolicy: Fail`. ResourceQuota writes quota usage when it
//! admits (`sideEffects: NoneOnDryRun`: not for dry runs); the others
//! have no side effects. Paths and rules here are the contract with the
//! binary (and the Helm chart registers the same ones):
//!
//! | webhook | path | what it sees |
//! | --- | --- | --- |
//! | `limitranger.admission.rudder.dev` (mutating) | `/mutate/limitranger` | pods, persistentvolumeclaims: CREATE, UPDATE |
//! | `limitranger.admission.rudder.dev` (validating) | `/validate/limitranger` | the same |
//! | `resourcequota.admission.rudder.dev` | `/validate/resourcequota` | every namespaced CREATE; UPDATE of pods, services, persistentvolumeclaims, resourcequotas |
//! | `namespacelifecycle.admission.rudder.dev` | `/validate/namespacelifecycle` | every namespaced CREATE; DELETE of namespaces |

use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

/// The name of both configurations.
pub const NAME: &str = "rudder-admission-webhooks";

/// kube-apiserver's admission plugins these webhooks stand in for, which
/// `up` switches off in the sandbox when it runs them, as
/// `kind-config/cluster.yaml` does with `--disable-admission-plugins` (the
/// sandbox has only NamespaceLifecycle of the three built in).
pub const REPLACED_PLUGINS: &[&str] = &["LimitRanger", "ResourceQuota", "NamespaceLifecycle"];

fn webhook(name: &str, base_url: &str, path: &str, ca_bundle: &str, rules: Value) -> Value {
    let side_effects = if path.ends_with("/resourcequota") { "NoneOnDryRun" } else { "None" };
    json!({
        "name": name,
        "clientConfig": {"url": format!("{base_url}{path}"), "caBundle": ca_bundle},
        "rules": rules,
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "sideEffects": side_effects,
        "timeoutSeconds": 10,
        "admissionReviewVersions": ["v1"],
    })
}

fn rule(operations: &[&str], groups: &[&str], resources: &[&str], scope: &str) -> Value {
    json!({"operations": operations, "apiGroups": groups, "apiVersions": ["*"], "resources": resources, "scope": scope})
}

/// The two configurations for a webhook server at `base_url`
/// (`https://127.0.0.1:PORT`) whose certificate `ca_bundle` (base64 PEM)
/// signed.
pub fn configurations(base_url: &str, ca_bundle: &str) -> (MutatingWebhookConfiguration, ValidatingWebhookConfiguration) {
    let limits = json!([rule(&["CREATE", "UPDATE"], &[""], &["pods", "persistentvolumeclaims"], "Namespaced")]);
    let quota = json!([
        rule(&["CREATE"], &["*"], &["*"], "Namespaced"),
        rule(&["UPDATE"], &[""], &["pods", "services", "persistentvolumeclaims", "resourcequotas"], "Namespaced"),
    ]);
    let lifecycle = json!([rule(&["CREATE"], &["*"], &["*"], "Namespaced"), rule(&["DELETE"], &[""], &["namespaces"], "Cluster")]);
    let mutating = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": "rudder", "app.kubernetes.io/component": "admission-webhooks"}},
        "webhooks": [webhook("limitranger.admission.rudder.dev", base_url, "/mutate/limitranger", ca_bundle, limits.clone())],
    });
    let validating = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": "rudder", "app.kubernetes.io/component": "admission-webhooks"}},
        "webhooks": [
            webhook("limitranger.admission.rudder.dev", base_url, "/validate/limitranger", ca_bundle, limits),
            webhook("resourcequota.admission.rudder.dev", base_url, "/validate/resourcequota", ca_bundle, quota),
            webhook("namespacelifecycle.admission.rudder.dev", base_url, "/validate/namespacelifecycle", ca_bundle, lifecycle),
        ],
    });
    (
        serde_json::from_value(mutating).expect("a well-formed MutatingWebhookConfiguration"),
        serde_json::from_value(validating).expect("a well-formed ValidatingWebhookConfiguration"),
    )
}

/// Creates or replaces both configurations (server-side apply).
pub async fn register(client: &kube::Client, base_url: &str, ca_bundle: &str) -> kube::Result<()> {
    let (mutating, validating) = configurations(base_url, ca_bundle);
    let pp = PatchParams::apply("rudder-sandbox").force();
    Api::<MutatingWebhookConfiguration>::all(client.clone()).patch(NAME, &pp, &Patch::Apply(&mutating)).await?;
    Api::<ValidatingWebhookConfiguration>::all(client.clone()).patch(NAME, &pp, &Patch::Apply(&validating)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_configurations_point_at_the_server_with_the_bundle() {
        let (m, v) = configurations("https://127.0.0.1:9443", "Q0E=");
        let hooks = m.webhooks.unwrap();
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks[0].client_config.url.as_deref(), Some("https://127.0.0.1:9443/mutate/limitranger"));
        let hooks = v.webhooks.unwrap();
        let urls: Vec<_> = hooks.iter().map(|h| h.client_config.url.clone().unwrap()).collect();
        assert_eq!(
            urls,
            [
                "https://127.0.0.1:9443/validate/limitranger",
                "https://127.0.0.1:9443/validate/resourcequota",
                "https://127.0.0.1:9443/validate/namespacelifecycle"
            ]
        );
        for h in &hooks {
            assert_eq!(h.client_config.ca_bundle.as_ref().unwrap().0, b"CA");
            assert_eq!(h.failure_policy.as_deref(), Some("Fail"));
            let expected = if h.name.starts_with("resourcequota.") { "NoneOnDryRun" } else { "None" };
            assert_eq!(h.side_effects, expected);
        }
    }
}
