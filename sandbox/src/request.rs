//! What a request asks for: its path parsed into a resource and verb, and
//! its query parameters.

use std::collections::HashMap;

use http::Method;

use crate::registry::{self, ResourceType};
use crate::status::{ApiError, ApiResult};

/// Where a request goes.
#[derive(Debug)]
pub enum Route {
    Version,
    Health(&'static str),
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`
    Resources(String, String),
    OpenApiV2,
    OpenApiV3Index,
    OpenApiV3(String),
    Object(Target),
}

/// A request on a resource.
#[derive(Debug)]
pub struct Target {
    pub resource: &'static ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
    /// The deprecated `/watch/` path prefix was used.
    pub watch_path: bool,
}

/// Parses a request path.
pub fn route(path: &str) -> ApiResult<Route> {
    let path = path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    match segs.as_slice() {
        ["version"] => Ok(Route::Version),
        ["healthz"] => Ok(Route::Health("healthz")),
        ["readyz"] => Ok(Route::Health("readyz")),
        ["livez"] => Ok(Route::Health("livez")),
        ["healthz" | "readyz" | "livez", check] if !check.is_empty() => Ok(Route::Health("ok")),
        ["api"] => Ok(Route::CoreVersions),
        ["apis"] => Ok(Route::Groups),
        ["openapi", "v2"] => Ok(Route::OpenApiV2),
        ["openapi", "v3"] => Ok(Route::OpenApiV3Index),
        ["openapi", "v3", rest @ ..] if !rest.is_empty() => Ok(Route::OpenApiV3(rest.join("/"))),
        ["api", "v1"] => Ok(Route::Resources(String::new(), "v1".into())),
        ["apis", g] => Ok(Route::Group(g.to_string())),
        ["apis", g, v] => Ok(Route::Resources(g.to_string(), v.to_string())),
        ["api", "v1", rest @ ..] => object_route("", "v1", rest, path),
        ["apis", g, v, rest @ ..] => object_route(g, v, rest, path),
        _ => Err(ApiError::no_route(path)),
    }
}

fn object_route(group: &str, version: &str, segs: &[&str], path: &str) -> ApiResult<Route> {
    if registry::group_versions().iter().all(|(g, v)| *g != group || *v != version) {
        return Err(ApiError::no_route(path));
    }
    let (watch_path, segs) = match segs {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, segs),
    };
    let found = |plural: &str| registry::find(group, version, plural).ok_or_else(|| ApiError::no_route(path));
    let t = match segs {
        // A namespaced resource inside a namespace.
        ["namespaces", ns, plural, rest @ ..] if !group.is_empty() || !matches!(*plural, "status" | "finalize") => {
            let r = found(plural)?;
            if !r.namespaced || rest.len() > 2 {
                return Err(ApiError::no_route(path));
            }
            Target {
                resource: r,
                namespace: Some(ns.to_string()),
                name: rest.first().map(|s| s.to_string()),
                sub: rest.get(1).map(|s| s.to_string()),
                watch_path,
            }
        }
        [plural, rest @ ..] => {
            let r = found(plural)?;
            if rest.len() > 2 || (r.namespaced && !rest.is_empty()) {
                return Err(ApiError::no_route(path));
            }
            Target {
                resource: r,
                namespace: None,
                name: rest.first().map(|s| s.to_string()),
                sub: rest.get(1).map(|s| s.to_string()),
                watch_path,
            }
        }
        [] => return Err(ApiError::no_route(path)),
    };
    if t.name.as_deref() == Some("") {
        return Err(ApiError::no_route(path));
    }
    Ok(Route::Object(t))
}

/// The verbs of the API, as RBAC and audit name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

pub fn verb(method: &Method, t: &Target, q: &Query) -> ApiResult<Verb> {
    let named = t.name.is_some();
    let v = match (method.as_str(), named) {
        ("GET", true) if t.watch_path || q.flag("watch") => Verb::Watch,
        ("GET", true) => Verb::Get,
        ("GET", false) if t.watch_path || q.flag("watch") => Verb::Watch,
        ("GET", false) => Verb::List,
        ("POST", false) => Verb::Create,
        ("POST", true) if t.sub.is_some() => Verb::Create,
        ("PUT", true) => Verb::Update,
        ("PATCH", true) => Verb::Patch,
        ("DELETE", true) => Verb::Delete,
        ("DELETE", false) => Verb::DeleteCollection,
        (m, _) => {
            return Err(ApiError::method_not_allowed(format!("the server does not allow this method on the requested resource ({m})")));
        }
    };
    Ok(v)
}

/// Query parameters.
#[derive(Debug, Default)]
pub struct Query(pub HashMap<String, Vec<String>>);

impl Query {
    pub fn parse(raw: &str) -> Self {
        let mut m: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            m.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(m)
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }

    /// A non-empty parameter.
    pub fn some(&self, k: &str) -> Option<&str> {
        self.get(k).filter(|s| !s.is_empty())
    }

    /// A boolean parameter, as upstream parses them (`true`, `1`, ...).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1" | "True" | "TRUE" | "t" | "T"))
    }

    pub fn int(&self, k: &str) -> ApiResult<Option<i64>> {
        match self.some(k) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value {s:?} for query parameter {k:?}: must be an integer"))),
        }
    }

    /// `dryRun=All`: anything else is refused as upstream refuses it.
    pub fn dry_run(&self) -> ApiResult<bool> {
        match self.0.get("dryRun") {
            None => Ok(false),
            Some(vals) => {
                for v in vals {
                    if v != "All" {
                        return Err(ApiError::bad_request(format!("Invalid dry run value: {v:?}: supported values: \"All\"")));
                    }
                }
                Ok(!vals.is_empty())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(path: &str) -> Target {
        match route(path).unwrap() {
            Route::Object(t) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths() {
        let t = obj("/api/v1/namespaces/default/pods/web/status");
        assert_eq!(t.resource.plural, "pods");
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.sub.as_deref(), Some("status"));
        let t = obj("/api/v1/namespaces/kube-system");
        assert_eq!(t.resource.plural, "namespaces");
        assert_eq!(t.name.as_deref(), Some("kube-system"));
        let t = obj("/api/v1/namespaces/kube-system/status");
        assert_eq!(t.sub.as_deref(), Some("status"));
        let t = obj("/apis/apps/v1/deployments");
        assert!(t.namespace.is_none() && t.name.is_none());
        let t = obj("/apis/apps/v1/watch/namespaces/x/deployments");
        assert!(t.watch_path);
        assert!(route("/api/v1/pods/x").is_err());
        assert!(route("/apis/apps/v2/deployments").is_err());
        assert!(route("/api/v1/namespaces/x/nodes").is_err());
        assert!(route("/api/v1/namespaces/x/pods/a/b/c").is_err());
    }

    #[test]
    fn query() {
        let q = Query::parse("labelSelector=app%3Dweb%2Ctier+in+(a)&watch=1&dryRun=All");
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.flag("watch"));
        assert!(q.dry_run().unwrap());
        assert!(Query::parse("dryRun=Some").dry_run().is_err());
        assert!(Query::parse("limit=x").int("limit").is_err());
    }
}
