//! Which version of the custom metrics API to ask (upstream's
//! `apiVersionsFromDiscovery.chooseVersion`): the server's preferred
//! version of `custom.metrics.k8s.io` if Rudder knows it, else the first of
//! the group's versions that it knows.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIGroupList;

/// The custom metrics API group.
pub const CUSTOM_METRICS_GROUP: &str = "custom.metrics.k8s.io";

/// The custom metrics API versions Rudder reads (their responses have the
/// same shape for everything the controller uses).
const KNOWN: [&str; 2] = ["v1beta2", "v1beta1"];

/// The version to use, from the server's `/apis` list, or upstream's error.
pub fn custom_metrics_version(groups: &APIGroupList) -> Result<String, String> {
    let Some(group) = groups.groups.iter().find(|g| g.name == CUSTOM_METRICS_GROUP) else {
        return Err(format!("no custom metrics API ({CUSTOM_METRICS_GROUP}) registered"));
    };
    let known = |group_version: &str| {
        group_version.strip_prefix(CUSTOM_METRICS_GROUP).and_then(|v| v.strip_prefix('/')).filter(|v| KNOWN.contains(v)).map(String::from)
    };
    group
        .preferred_version
        .as_ref()
        .and_then(|p| known(&p.group_version))
        .or_else(|| group.versions.iter().find_map(|v| known(&v.group_version)))
        .ok_or_else(|| "no known available metric versions found".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn groups(value: serde_json::Value) -> APIGroupList {
        serde_json::from_value(json!({"groups": value})).unwrap()
    }

    fn group(preferred: &str, versions: &[&str]) -> serde_json::Value {
        let gv = |v: &str| json!({"groupVersion": format!("custom.metrics.k8s.io/{v}"), "version": v});
        json!({"name": "custom.metrics.k8s.io", "preferredVersion": gv(preferred),
               "versions": versions.iter().map(|v| gv(v)).collect::<Vec<_>>()})
    }

    #[test]
    fn the_preferred_version_when_known_else_the_first_known() {
        assert_eq!(custom_metrics_version(&groups(json!([group("v1beta1", &["v1beta1", "v1beta2"])]))), Ok("v1beta1".into()));
        assert_eq!(custom_metrics_version(&groups(json!([group("v1beta2", &["v1beta2", "v1beta1"])]))), Ok("v1beta2".into()));
        assert_eq!(custom_metrics_version(&groups(json!([group("v2", &["v2", "v1beta1", "v1beta2"])]))), Ok("v1beta1".into()));
    }

    #[test]
    fn a_missing_group_or_no_known_version_is_upstreams_error() {
        let other = json!([{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]}]);
        assert_eq!(custom_metrics_version(&groups(other)), Err("no custom metrics API (custom.metrics.k8s.io) registered".into()));
        assert_eq!(custom_metrics_version(&groups(json!([group("v2", &["v2"])]))), Err("no known available metric versions found".into()));
    }
}
