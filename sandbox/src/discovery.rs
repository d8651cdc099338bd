//! Discovery, version and health endpoints.

use serde_json::{Value, json};

use crate::api::Reply;
use crate::registry::{self, RESOURCES, ResourceType, Sub};
use crate::request::Route;
use crate::status::{ApiError, ApiResult};

/// The Kubernetes version the sandbox speaks.
pub const MAJOR: &str = "1";
pub const MINOR: &str = "36";

pub fn serve(route: Route) -> ApiResult<Reply> {
    let body = match route {
        Route::Version => version(),
        Route::Health(_) => return Ok(Reply::Text { code: 200, body: "ok".into() }),
        Route::CoreVersions => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}],
        }),
        Route::Groups => json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": groups().into_iter().map(group).chain(crate::metrics_api::discovery_groups()).collect::<Vec<_>>(),
        }),
        Route::Group(g) => {
            if !groups().contains(&g.as_str()) {
                return Err(ApiError::no_route(&format!("/apis/{g}")));
            }
            let mut v = group(&g);
            v["apiVersion"] = json!("v1");
            v
        }
        Route::Resources(g, v) => resources(&g, &v)?,
        Route::OpenApiV3Index => crate::openapi::index(),
        Route::OpenApiV3(doc) => crate::openapi::document(&doc).ok_or_else(|| ApiError::no_route(&format!("/openapi/v3/{doc}")))?,
        Route::OpenApiV2 => return Err(ApiError::new(404, "NotFound", "the sandbox serves OpenAPI v3 only (/openapi/v3)")),
        Route::Object(_) => return Err(ApiError::internal("not a discovery route")),
    };
    Ok(Reply::Json { code: 200, body, warnings: Vec::new() })
}

fn version() -> Value {
    json!({
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "gitVersion": format!("v{MAJOR}.{MINOR}.0-rudder-sandbox"),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// Named groups (not the core group), in discovery order.
fn groups() -> Vec<&'static str> {
    let mut out = Vec::new();
    for (g, _) in registry::group_versions() {
        if !g.is_empty() && !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

fn group(g: &str) -> Value {
    let versions: Vec<Value> = registry::group_versions()
        .into_iter()
        .filter(|(x, _)| *x == g)
        .map(|(_, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({"kind": "APIGroup", "name": g, "versions": versions.clone(), "preferredVersion": versions[0]})
}

fn resources(g: &str, v: &str) -> ApiResult<Value> {
    let rs: Vec<&ResourceType> = RESOURCES.iter().filter(|r| r.group == g && r.version == v).collect();
    if rs.is_empty() {
        return Err(ApiError::no_route(&format!("/apis/{g}/{v}")));
    }
    let mut out = Vec::new();
    for r in rs {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": registry::verbs(r),
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        out.push(e);
        for s in r.subresources {
            let mut e = json!({"name": format!("{}/{}", r.plural, s.name()), "singularName": r.singular, "namespaced": r.namespaced});
            match s {
                Sub::Status => {
                    e["kind"] = json!(r.kind);
                    e["verbs"] = json!(["get", "patch", "update"]);
                }
                Sub::Scale => {
                    e["group"] = json!("autoscaling");
                    e["version"] = json!("v1");
                    e["kind"] = json!("Scale");
                    e["verbs"] = json!(["get", "patch", "update"]);
                }
                Sub::Binding => {
                    e["kind"] = json!("Binding");
                    e["verbs"] = json!(["create"]);
                }
                Sub::Eviction => {
                    e["group"] = json!("policy");
                    e["version"] = json!("v1");
                    e["kind"] = json!("Eviction");
                    e["verbs"] = json!(["create"]);
                }
            }
            out.push(e);
        }
    }
    let gv = if g.is_empty() { v.to_string() } else { format!("{g}/{v}") };
    Ok(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}))
}
