//! Request handling: the verbs of the Kubernetes API over the store.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures::Stream;
use http::Method;
use rudder_common::selector::{FieldSelector, Selector};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::managed;
use crate::meta;
use crate::rbac::{ADMIN, User};
use crate::registry::{self, DefaultPropagation, ResourceType, Sub};
use crate::request::{Query, Route, Target, Verb};
use crate::status::{ApiError, ApiResult, FieldError};
use crate::store::{self, Event, EventType, Obj, Store, WatchMsg, WatchStart, WriteError};
use crate::webhooks::{Attributes, Operation, Webhooks};
use rudder_admission_webhooks::namespace_lifecycle as lifecycle;

/// What the server sends back.
pub enum Reply {
    Json {
        code: u16,
        body: Value,
        warnings: Vec<String>,
    },
    /// A JSON body already serialized (a list, written straight from the
    /// stored objects: building it as one `Value` would copy every object).
    Raw {
        code: u16,
        body: Vec<u8>,
    },
    Text {
        code: u16,
        body: String,
    },
    Watch(Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send + Sync>>),
}

/// A list's JSON: `head`'s fields and `items`, each object serialized from
/// where it is stored.
fn list_body(head: &Value, items: &[Obj]) -> Vec<u8> {
    let mut body = serde_json::to_vec(head).unwrap_or_else(|_| b"{}".to_vec());
    body.pop(); // the closing brace
    body.extend_from_slice(if body.len() > 1 { b",\"items\":[" } else { b"\"items\":[" });
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut body, &**o);
    }
    body.extend_from_slice(b"]}");
    body
}

/// The name an admission plugin's Forbidden error names (upstream
/// `extractResourceName`): the name, else the generateName (names are not
/// generated yet), else "Unknown".
fn admission_name(obj: &Value) -> String {
    let m = obj.get("metadata");
    let field = |f: &str| m.and_then(|m| m.get(f)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    field("name").or_else(|| field("generateName")).unwrap_or_else(|| "Unknown".into())
}

/// The group and kind a resource's Invalid errors name: those of the
/// object upstream's strategy validates, the internal kind of the storage
/// (so `Event`, not `Event.events.k8s.io`, for both Event APIs).
fn strategy_kind(r: &ResourceType) -> (&'static str, &'static str) {
    let s = registry::storage_of(r);
    (s.group, s.kind)
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply::Json { code: 200, body, warnings: Vec::new() }
    }
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Self {
        Reply::Json { code: e.code, body: e.to_status(), warnings: Vec::new() }
    }
}

/// A request as the HTTP layer hands it over.
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: Query,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    pub body: Bytes,
    /// Who sent it, once authenticated (None: not yet, or the admin).
    pub user: Option<User>,
}

impl Request {
    /// The authenticated user.
    fn user(&self) -> &User {
        self.user.as_ref().unwrap_or(&ADMIN)
    }

    /// The field manager of a write: the `fieldManager` parameter, else the
    /// User-Agent's first part, as upstream names managers.
    fn manager(&self) -> ApiResult<String> {
        match self.query.some("fieldManager") {
            Some(m) if m.len() > 128 => {
                Err(ApiError::invalid("meta.k8s.io", "UpdateOptions", "", &[FieldError::too_long("fieldManager", 128)]))
            }
            Some(m) => Ok(m.to_string()),
            None => Ok(managed::manager_from_user_agent(self.user_agent.as_deref().unwrap_or_default())),
        }
    }
}

/// Who makes a write, for `metadata.managedFields`.
#[derive(Debug, Clone, Copy)]
pub struct Manager<'a> {
    pub name: &'a str,
    /// The subresource written through ("" for the main resource).
    pub subresource: &'a str,
}

/// Records a non-apply write in `new`'s managedFields.
fn track(r: &ResourceType, old: Option<&Value>, new: &mut Value, m: Manager<'_>) -> ApiResult<()> {
    let now = meta::now();
    let api_version = r.api_version();
    let w = managed::Writer {
        manager: m.name,
        api_version: &api_version,
        subresource: m.subresource,
        reset: crate::resets::for_write(r, Some(m.subresource))?,
        now: &now,
    };
    managed::track_update(r.group, r.kind, old, new, &w)
}

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often a watch with allowWatchBookmarks gets a BOOKMARK.
    pub bookmark_interval: Duration,
    /// How long a watch without timeoutSeconds lasts.
    pub default_watch_timeout: Duration,
    /// The admission plugins that run (`--enable-admission-plugins`,
    /// `--disable-admission-plugins`).
    pub admission: crate::admission::Plugins,
    /// `--authorization-mode=RBAC` (see [`crate::rbac`]); off: every
    /// authenticated request is allowed (AlwaysAllow).
    pub rbac: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bookmark_interval: Duration::from_secs(30),
            default_watch_timeout: Duration::from_secs(1800),
            admission: crate::admission::Plugins::default(),
            rbac: false,
        }
    }
}

/// The API: the store and the request handlers.
pub struct Api {
    pub store: Arc<Store>,
    pub opts: Options,
    /// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins.
    webhooks: Webhooks,
    /// Service ClusterIPs and NodePorts.
    alloc: crate::alloc::Allocator,
    /// Bearer tokens and their users.
    pub tokens: crate::rbac::Tokens,
    /// The messages of the requests RBAC refused.
    pub denials: std::sync::Mutex<Vec<String>>,
}

/// How many times a patch or a server-side change is retried when the
/// object changed underneath it.
const MAX_RETRIES: usize = 16;

/// The field manager of the sandbox's own controllers' writes, named as
/// upstream's controllers are.
pub const INTERNAL_MANAGER: &str = "kube-controller-manager";

impl Api {
    pub fn new(store: Arc<Store>, opts: Options) -> Self {
        Self {
            webhooks: Webhooks::new(store.clone()),
            store,
            opts,
            alloc: Default::default(),
            tokens: Default::default(),
            denials: Default::default(),
        }
    }

    pub async fn handle(self: &Arc<Self>, req: Request) -> Reply {
        match self.dispatch(req).await {
            Ok(r) => r,
            Err(e) => e.into(),
        }
    }

    async fn dispatch(self: &Arc<Self>, mut req: Request) -> ApiResult<Reply> {
        let user = self.tokens.authenticate(req.authorization.as_deref())?;
        if self.opts.rbac {
            let attrs = crate::rbac::attributes(req.method.as_str(), &req.path, req.query.flag("watch"));
            if !crate::rbac::allows(&self.store, &user, &attrs) {
                let refusal = crate::rbac::forbidden(&user, &attrs);
                tracing::debug!(message = %refusal.message, "forbidden");
                self.denials.lock().unwrap_or_else(|e| e.into_inner()).push(refusal.message.clone());
                return Err(refusal);
            }
        }
        req.user = Some(user);
        if let Some(accept) = &req.accept
            && !accepts_json(accept)
        {
            return Err(ApiError::not_acceptable());
        }
        if let Some(reply) = crate::metrics_api::serve(&self.store, &req) {
            return Ok(reply);
        }
        let route = crate::request::route(&req.path)?;
        let t = match route {
            Route::Object(t) => t,
            other => {
                if req.method != Method::GET {
                    return Err(ApiError::method_not_allowed(format!(
                        "the server does not allow this method on the requested resource ({})",
                        req.method
                    )));
                }
                return crate::discovery::serve(other);
            }
        };
        let verb = crate::request::verb(&req.method, &t, &req.query)?;
        let table = req.accept.as_deref().is_some_and(wants_table);
        match verb {
            Verb::Get => {
                let obj = self.get(&t)?;
                let body = match t.sub.as_deref() {
                    None => (*obj).clone(),
                    Some("status") if t.resource.has(Sub::Status) => (*obj).clone(),
                    Some("scale") if t.resource.has(Sub::Scale) => to_scale(t.resource, &obj)?,
                    Some(s) => return Err(no_sub(&t, s)),
                };
                Ok(Reply::ok(if table { crate::table::table(t.resource, &[Arc::new(body)], None, &req.query) } else { body }))
            }
            Verb::List => self.list(&t, &req.query, table),
            Verb::Watch => self.watch(&t, &req.query, table),
            Verb::Create => self.create(&t, &req).await,
            Verb::Update => self.update(&t, &req).await,
            Verb::Patch => self.patch(&t, &req).await,
            Verb::Delete => self.delete(&t, &req).await,
            Verb::DeleteCollection => self.delete_collection(&t, &req).await,
        }
    }

    fn get(&self, t: &Target) -> ApiResult<Obj> {
        let name = t.name.as_deref().unwrap_or_default();
        self.store
            .get(t.resource, t.namespace.as_deref().unwrap_or_default(), name)
            .ok_or_else(|| ApiError::not_found(t.resource.group, t.resource.plural, name))
    }

    // ----- list and watch -----

    fn filter(&self, t: &Target, q: &Query) -> ApiResult<Filter> {
        let labels = match q.some("labelSelector") {
            None => None,
            Some(s) => Some(Selector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?),
        };
        let fields = match q.some("fieldSelector") {
            None => None,
            Some(s) => {
                let f = FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?;
                for req in f.requirements() {
                    if t.resource.field_value(&json!({}), &req.field).is_none() {
                        return Err(ApiError::bad_request(format!("field label not supported: {}", req.field)));
                    }
                }
                Some(f)
            }
        };
        let name = t.name.clone();
        Ok(Filter { resource: t.resource, namespace: t.namespace.clone(), name, labels, fields })
    }

    fn list(&self, t: &Target, q: &Query, table: bool) -> ApiResult<Reply> {
        if t.name.is_some() {
            return Err(ApiError::method_not_allowed("the server does not allow this method on the requested resource"));
        }
        let f = self.filter(t, q)?;
        let limit = q.int("limit")?.filter(|l| *l > 0).map(|l| l as usize);
        let rv_param = q.some("resourceVersion");
        let rv_match = q.some("resourceVersionMatch");
        let cont = q.some("continue");
        let ns = t.namespace.as_deref();
        let (rv, objects, start_after) = if let Some(c) = cont {
            if rv_param.is_some() && rv_param != Some("0") {
                return Err(ApiError::bad_request("specifying resource version is not allowed when using continue"));
            }
            let (rv, after) = decode_continue(c)?;
            let objects = self.store.list_at(t.resource, ns, rv).map_err(|_| {
                ApiError::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            })?;
            (rv, objects, Some(after))
        } else {
            match (rv_param, rv_match) {
                (None, Some(_)) => {
                    return Err(invalid_list_options(
                        "resourceVersionMatch",
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    ));
                }
                (_, Some(m)) if m != "Exact" && m != "NotOlderThan" => {
                    return Err(invalid_list_options("resourceVersionMatch", &format!("unsupported value {m:?}")));
                }
                (Some("0"), Some("Exact")) => {
                    return Err(invalid_list_options(
                        "resourceVersionMatch",
                        "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                    ));
                }
                (Some(v), Some("Exact")) => {
                    let at = parse_rv(v)?;
                    self.check_not_future(at)?;
                    let objects = self.store.list_at(t.resource, ns, at).map_err(|oldest| too_old(at, oldest))?;
                    (at, objects, None)
                }
                (Some(v), _) => {
                    let at = parse_rv(v)?;
                    self.check_not_future(at)?;
                    let (rv, objects) = self.store.list(t.resource, ns);
                    (rv, objects, None)
                }
                (None, None) => {
                    let (rv, objects) = self.store.list(t.resource, ns);
                    (rv, objects, None)
                }
            }
        };
        let mut items: Vec<Obj> = Vec::new();
        let mut next = None;
        let mut remaining = 0usize;
        let mut iter = objects.into_iter().filter(|o| match &start_after {
            Some(after) => store::key_of(o) > *after,
            None => true,
        });
        for o in iter.by_ref() {
            if !f.matches(&o) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                next = Some(store::key_of(&items[items.len() - 1]));
                remaining = 1 + iter.filter(|o| f.matches(o)).count();
                break;
            }
            items.push(o);
        }
        let mut metadata = json!({ "resourceVersion": rv.to_string() });
        if let Some(k) = next {
            metadata["continue"] = json!(encode_continue(rv, &k));
            if f.labels.is_none() && f.fields.is_none() {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        if table {
            return Ok(Reply::ok(crate::table::table(t.resource, &items, Some(metadata), q)));
        }
        let r = t.resource;
        let head = json!({"kind": r.list_kind(), "apiVersion": r.api_version(), "metadata": metadata});
        Ok(Reply::Raw { code: 200, body: list_body(&head, &items) })
    }

    fn check_not_future(&self, at: u64) -> ApiResult<()> {
        let cur = self.store.current_rv();
        if at > cur {
            let mut e = ApiError::timeout(format!("Too large resource version: {at}, current: {cur}"));
            e.details = Some(
                json!({"causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}], "retryAfterSeconds": 1}),
            );
            return Err(e);
        }
        Ok(())
    }

    fn watch(&self, t: &Target, q: &Query, table: bool) -> ApiResult<Reply> {
        let f = Arc::new(self.filter(t, q)?);
        let bookmarks = q.flag("allowWatchBookmarks");
        let initial = q.flag("sendInitialEvents");
        let rv_param = q.some("resourceVersion");
        let rv_match = q.some("resourceVersionMatch");
        if initial {
            if rv_match != Some("NotOlderThan") {
                return Err(invalid_list_options(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ));
            }
            if !bookmarks {
                return Err(invalid_list_options("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"));
            }
        } else if rv_match.is_some() {
            return Err(invalid_list_options(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        let timeout = match q.int("timeoutSeconds")? {
            Some(s) if s > 0 => Duration::from_secs(s as u64),
            _ => self.opts.default_watch_timeout,
        };
        let r = t.resource;
        let ns = t.namespace.as_deref();
        let (start, initial_objects, end_marker) = match rv_param {
            None | Some("0") if !initial => {
                let (objs, w) = self.store.watch_with_state(r, ns);
                (w, objs, false)
            }
            Some(v) if !initial => {
                let from = parse_rv(v)?;
                match self.store.watch_from(r, from) {
                    Ok(w) => (w, Vec::new(), false),
                    Err(oldest) => {
                        let status = ApiError::expired(format!("too old resource version: {from} ({oldest})")).to_status();
                        let line = watch_line("ERROR", &status);
                        return Ok(Reply::Watch(Box::pin(futures::stream::iter(vec![Ok(line)]))));
                    }
                }
            }
            _ => {
                if let Some(v) = rv_param {
                    self.check_not_future(parse_rv(v)?)?;
                }
                let (objs, w) = self.store.watch_with_state(r, ns);
                (w, objs, true)
            }
        };
        let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
        let store = self.store.clone();
        let interval = self.opts.bookmark_interval;
        let render: Render = if table {
            let include = q.get("includeObject").map(str::to_string);
            Arc::new(move |o: &Value| {
                let mut q = Query::default();
                if let Some(i) = &include {
                    q.0.insert("includeObject".into(), vec![i.clone()]);
                }
                crate::table::table(r, &[Arc::new(o.clone())], None, &q)
            })
        } else {
            Arc::new(Value::clone)
        };
        tokio::spawn(run_watch(WatchTask {
            render,
            store,
            resource: r,
            filter: f,
            start,
            initial_objects,
            end_marker,
            bookmarks,
            interval,
            timeout,
            tx,
        }));
        Ok(Reply::Watch(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    // ----- writes -----

    async fn create(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        match t.sub.as_deref() {
            None => {}
            Some("binding") if t.resource.has(Sub::Binding) => return self.bind(t, req).await,
            Some("eviction") if t.resource.has(Sub::Eviction) => return self.evict(t, req).await,
            Some(s) => return Err(no_sub(t, s)),
        }
        if t.name.is_some() {
            return Err(ApiError::method_not_allowed("the server does not allow this method on the requested resource"));
        }
        let body = decode_body(req)?;
        let dry = req.query.dry_run()?;
        let m = req.manager()?;
        let manager = Manager { name: &m, subresource: "" };
        let (obj, warnings) =
            self.create_object(t.resource, t.namespace.as_deref(), body, &req.query, dry, Some(manager), req.user()).await?;
        Ok(Reply::Json { code: 201, body: (*obj).clone(), warnings })
    }

    /// The create pipeline, in kube-apiserver's order: decoding with
    /// defaults, the built-in mutating admission (Priority,
    /// DefaultTolerationSeconds), mutating webhooks, the strategy's
    /// preparation (system metadata, status), validation, validating
    /// webhooks, storage.
    #[allow(clippy::too_many_arguments)]
    async fn create_object(
        &self,
        r: &'static ResourceType,
        ns: Option<&str>,
        mut obj: Value,
        q: &Query,
        dry: bool,
        manager: Option<Manager<'_>>,
        user: &User,
    ) -> ApiResult<(Obj, Vec<String>)> {
        check_type(r, &obj)?;
        let mut warnings = Vec::new();
        set_namespace(r, ns, &mut obj)?;
        if meta::meta(&obj).and_then(|m| m.get("resourceVersion")).and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
            return Err(ApiError::internal("resourceVersion should not be set on objects to be created"));
        }
        let mut obj = self.defaults(r, obj, q, &mut warnings)?;
        let request_name = meta::name(&obj).to_string();
        let namespace = meta::namespace(&obj).to_string();
        self.namespace_lifecycle(&lifecycle::Request {
            operation: lifecycle::Operation::Create,
            kind_group: r.group,
            kind: r.kind,
            group: r.group,
            resource: r.plural,
            name: &request_name,
            namespace: &namespace,
            object: Some(&obj),
        })?;
        if r.group.is_empty() && r.kind == "Pod" {
            self.admit_pod(&mut obj)?;
        }
        let attrs = Attributes {
            resource: r,
            subresource: None,
            operation: Operation::Create,
            name: &request_name,
            namespace: &namespace,
            object: None,
            old_object: None,
            dry_run: dry,
            options: Some(write_options("CreateOptions", q)),
            user,
        };
        let (obj, w) = self.mutate_hooks(&attrs, obj).await?;
        warnings.extend(w);
        let mut obj = self.redecode(r, ns, obj)?;
        let m = meta::meta_mut(&mut obj);
        let name = m.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let gen_name = m.get("generateName").and_then(Value::as_str).unwrap_or_default().to_string();
        if name.is_empty() {
            if gen_name.is_empty() {
                let (group, kind) = strategy_kind(r);
                return Err(ApiError::invalid(
                    group,
                    kind,
                    "",
                    &[FieldError::required("metadata.name", "name or generateName is required")],
                ));
            }
            m.insert("name".into(), json!(format!("{gen_name}{}", meta::random_suffix())));
        }
        m.insert("uid".into(), json!(meta::new_uid()));
        m.insert("creationTimestamp".into(), json!(meta::now()));
        for k in ["deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "resourceVersion"] {
            m.remove(k);
        }
        if r.generation {
            m.insert("generation".into(), json!(1));
        } else {
            m.remove("generation");
        }
        if r.has(Sub::Status)
            && r.kind != "Node"
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
        if r.group.is_empty() && r.kind == "Pod" {
            let qos = qos_class(&obj);
            obj["status"] = json!({"phase": "Pending", "qosClass": qos});
        }
        if r.group.is_empty() && r.kind == "Namespace" {
            obj["status"] = json!({"phase": "Active"});
        }
        if r.group == "batch" && r.kind == "Job" {
            obj = crate::defaults::generate_job_selector(obj).map_err(ApiError::internal)?;
        }
        if r.group == "apps" && r.kind == "DaemonSet" {
            let asked = template_generation(&obj)?.unwrap_or(0);
            set_template_generation(&mut obj, asked.max(1));
        }
        if let Some(m) = manager {
            track(r, None, &mut obj, m)?;
        }
        // The Service storage allocates before validation (its BeginCreate);
        // what it takes is held until the write is over.
        let _reservation =
            if r.group.is_empty() && r.kind == "Service" { Some(self.alloc.allocate(&self.store, &mut obj, None, dry)?) } else { None };
        check_decodes(r, &obj)?;
        let errs = crate::validation::validate(r.group, r.version, r.kind, &obj, None);
        if !errs.is_empty() {
            let (group, kind) = strategy_kind(r);
            return Err(ApiError::invalid(group, kind, meta::name(&obj), &errs));
        }
        let attrs = Attributes { object: Some(&obj), ..attrs };
        warnings.extend(self.validate_hooks(&attrs).await?);
        let name = meta::name(&obj).to_string();
        if dry {
            if self.store.get(r, meta::namespace(&obj), &name).is_some() {
                return Err(ApiError::already_exists(r.group, r.plural, &name));
            }
            return Ok((Arc::new(obj), warnings));
        }
        let stored = self.store.create(r, obj).map_err(|e| e.into_api(r, &name))?;
        Ok((stored, warnings))
    }

    /// After mutating webhooks the object is decoded and defaulted again, as
    /// upstream does with a webhook's patch; it must still be of the
    /// resource's kind and in the request's namespace.
    fn redecode(&self, r: &ResourceType, ns: Option<&str>, obj: Value) -> ApiResult<Value> {
        let mut obj = crate::defaults::apply_defaults(r.group, r.version, r.kind, obj)
            .map_err(|e| ApiError::internal(format!("the object mutated by admission webhooks cannot be decoded: {e}")))?;
        check_type(r, &obj)?;
        set_namespace(r, ns, &mut obj)?;
        Ok(obj)
    }

    /// Decodes to the typed object, applies defaults, and reports unknown
    /// fields as the fieldValidation parameter asks.
    fn defaults(&self, r: &ResourceType, obj: Value, q: &Query, warnings: &mut Vec<String>) -> ApiResult<Value> {
        let before = obj.clone();
        let out = crate::defaults::apply_defaults(r.group, r.version, r.kind, obj).map_err(ApiError::bad_request)?;
        let mut unknown = Vec::new();
        unknown_fields(&before, &out, "", &mut unknown);
        if !unknown.is_empty() {
            match q.get("fieldValidation").unwrap_or("Warn") {
                "Strict" => {
                    let list: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
                    return Err(ApiError::bad_request(format!("strict decoding error: {}", list.join(", "))));
                }
                "Ignore" => {}
                _ => warnings.extend(unknown.iter().map(|f| format!("unknown field \"{f}\""))),
            }
        }
        Ok(out)
    }

    /// The MutatingAdmissionWebhook plugin, when enabled.
    async fn mutate_hooks(&self, attrs: &Attributes<'_>, object: Value) -> ApiResult<(Value, Vec<String>)> {
        if !self.opts.admission.enabled("MutatingAdmissionWebhook") {
            return Ok((object, Vec::new()));
        }
        self.webhooks.mutate(attrs, object).await
    }

    /// The ValidatingAdmissionWebhook plugin, when enabled.
    async fn validate_hooks(&self, attrs: &Attributes<'_>) -> ApiResult<Vec<String>> {
        if !self.opts.admission.enabled("ValidatingAdmissionWebhook") {
            return Ok(Vec::new());
        }
        self.webhooks.validate(attrs).await
    }

    /// The NamespaceLifecycle plugin, when enabled: the rule shared with
    /// rudder-admission-webhooks, over the store's namespaces.
    fn namespace_lifecycle(&self, req: &lifecycle::Request<'_>) -> ApiResult<()> {
        if !self.opts.admission.enabled(lifecycle::PLUGIN_NAME) {
            return Ok(());
        }
        let namespaces = registry::find("", "v1", "namespaces").expect("namespaces");
        let state = |ns: &str| {
            self.store.get(namespaces, "", ns).map_or(lifecycle::NamespaceState::NotFound, |o| lifecycle::NamespaceState::of(&o))
        };
        match lifecycle::admit(req, state) {
            lifecycle::Decision::Allow => Ok(()),
            lifecycle::Decision::Deny(d) => {
                Err(ApiError::from_status(d.code, d.reason, d.message.clone(), d.to_status().get("details").cloned()))
            }
        }
    }

    /// The built-in Priority and DefaultTolerationSeconds plugins, when
    /// enabled (run before the name is generated).
    fn admit_pod(&self, pod: &mut Value) -> ApiResult<()> {
        if self.opts.admission.enabled("Priority") {
            self.admit_pod_priority(pod)?;
        }
        if self.opts.admission.enabled("DefaultTolerationSeconds") {
            crate::defaults::admit_default_toleration_seconds(pod);
        }
        Ok(())
    }

    fn admit_pod_priority(&self, pod: &mut Value) -> ApiResult<()> {
        let pcs = registry::find("scheduling.k8s.io", "v1", "priorityclasses").expect("priorityclasses");
        let store = self.store.clone();
        let lookup = move |name: &str| {
            store.get(pcs, "", name).map(|pc| {
                let value = pc.get("value").and_then(Value::as_i64).unwrap_or(0) as i32;
                (value, pc.get("preemptionPolicy").and_then(Value::as_str).map(String::from))
            })
        };
        let store = self.store.clone();
        let global = move || {
            let (_, all) = store.list(pcs, None);
            all.iter().find(|pc| pc.get("globalDefault").and_then(Value::as_bool) == Some(true)).map(|pc| {
                (
                    meta::name(pc).to_string(),
                    pc.get("value").and_then(Value::as_i64).unwrap_or(0) as i32,
                    pc.get("preemptionPolicy").and_then(Value::as_str).map(String::from),
                )
            })
        };
        crate::defaults::admit_pod_priority(pod, &lookup, &global).map_err(|e| ApiError::forbidden("", "pods", &admission_name(pod), &e))
    }

    async fn update(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let body = decode_body(req)?;
        let dry = req.query.dry_run()?;
        let r = t.resource;
        let name = t.name.clone().unwrap_or_default();
        if let Some(s) = t.sub.as_deref() {
            match s {
                "status" if r.has(Sub::Status) => {}
                "scale" if r.has(Sub::Scale) => {
                    return self.update_scale(t, body, &req.query, dry, &req.manager()?, req.user()).await;
                }
                _ => return Err(no_sub(t, s)),
            }
        }
        check_type(r, &body)?;
        let body_name = meta::name(&body).to_string();
        if body_name != name {
            return Err(ApiError::bad_request(format!("the name of the object ({body_name}) does not match the name on the URL ({name})")));
        }
        let mut body = body;
        set_namespace(r, t.namespace.as_deref(), &mut body)?;
        let ns = t.namespace.clone().unwrap_or_default();
        let Some(old) = self.store.get(r, &ns, &name) else {
            if r.create_on_update && t.sub.is_none() {
                meta::meta_mut(&mut body).remove("resourceVersion");
                let m = req.manager()?;
                let manager = Manager { name: &m, subresource: "" };
                let (obj, warnings) =
                    self.create_object(r, t.namespace.as_deref(), body, &req.query, dry, Some(manager), req.user()).await?;
                return Ok(Reply::Json { code: 201, body: (*obj).clone(), warnings });
            }
            return Err(ApiError::not_found(r.group, r.plural, &name));
        };
        let expect = match body.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(v) => {
                let v = parse_rv(v)?;
                if v != store::rv_of(&old) {
                    return Err(ApiError::stale(r.group, r.plural, &name));
                }
                v
            }
            None => store::rv_of(&old),
        };
        let m = req.manager()?;
        let manager = Manager { name: &m, subresource: t.sub.as_deref().unwrap_or_default() };
        let (obj, warnings, code) =
            self.update_object(r, t.sub.as_deref(), &old, body, expect, &req.query, dry, true, Some(manager), req.user()).await?;
        Ok(Reply::Json { code, body: (*obj).clone(), warnings })
    }

    /// The update pipeline shared by update and patch, in kube-apiserver's
    /// order: defaults, mutating webhooks (when `admit`), what the main
    /// resource or the status subresource may change, generation,
    /// validation, validating webhooks, storage, and deletion once the last
    /// finalizer is gone.
    #[allow(clippy::too_many_arguments)]
    async fn update_object(
        &self,
        r: &'static ResourceType,
        sub: Option<&str>,
        old: &Obj,
        body: Value,
        expect: u64,
        q: &Query,
        dry: bool,
        admit: bool,
        manager: Option<Manager<'_>>,
        user: &User,
    ) -> ApiResult<(Obj, Vec<String>, u16)> {
        let mut warnings = Vec::new();
        let body = self.defaults(r, body, q, &mut warnings)?;
        let name = meta::name(old).to_string();
        let ns = meta::namespace(old).to_string();
        let attrs = Attributes {
            resource: r,
            subresource: sub,
            operation: Operation::Update,
            name: &name,
            namespace: &ns,
            object: None,
            old_object: Some(old),
            dry_run: dry,
            options: Some(write_options("UpdateOptions", q)),
            user,
        };
        let body = if admit {
            self.namespace_lifecycle(&lifecycle::Request {
                operation: lifecycle::Operation::Update,
                kind_group: r.group,
                kind: r.kind,
                group: r.group,
                resource: r.plural,
                name: &name,
                namespace: &ns,
                object: Some(&body),
            })?;
            let (body, w) = self.mutate_hooks(&attrs, body).await?;
            warnings.extend(w);
            let ns = (!ns.is_empty()).then_some(ns.as_str());
            self.redecode(r, ns, body)?
        } else {
            body
        };
        if meta::name(&body) != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                meta::name(&body)
            )));
        }
        // The request is kept but for what only the system sets (upstream's
        // rest.BeforeUpdate) and what the resource's strategy for this
        // endpoint takes back from the stored object (the status for the
        // main resource, the spec and more for the status subresource; see
        // crate::resets).
        let mut new = body;
        let om = meta::meta(old).cloned().unwrap_or_default();
        let m = meta::meta_mut(&mut new);
        // A uid in the request is kept: it must match (validated as
        // immutable below), as BeforeUpdate fills in only a missing one.
        let keep_uid = m.get("uid").and_then(Value::as_str).is_some_and(|u| !u.is_empty());
        for k in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            if k == "uid" && keep_uid {
                continue;
            }
            match om.get(k) {
                Some(v) => m.insert(k.into(), v.clone()),
                None => m.remove(k),
            };
        }
        crate::resets::prepare(r, sub, old, &mut new)?;
        // A DaemonSet's template generation is the server's: the stored one,
        // plus one when the main resource's write changes the template.
        if r.group == "apps" && r.kind == "DaemonSet" {
            let stored = template_generation(old)?.unwrap_or(0);
            let changed = sub != Some("status") && new.pointer("/spec/template") != old.pointer("/spec/template");
            set_template_generation(&mut new, if changed { stored + 1 } else { stored });
        }
        // Generation follows the main resource's changes to the spec (and,
        // for Deployments, to the annotations, which the controller copies to
        // its ReplicaSets); status writes leave it.
        let annotations = |o: &Value| o.pointer("/metadata/annotations").and_then(Value::as_object).filter(|a| !a.is_empty()).cloned();
        let annotations_changed = r.group == "apps" && r.kind == "Deployment" && annotations(&new) != annotations(old);
        if r.generation && sub != Some("status") && (meta::spec_part(&new) != meta::spec_part(old) || annotations_changed) {
            let g = old.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
            meta::meta_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        meta::meta_mut(&mut new).insert("resourceVersion".into(), json!(expect.to_string()));
        if let Some(m) = manager {
            track(r, Some(old), &mut new, m)?;
        }
        // The Service storage's BeginUpdate, before validation.
        let _reservation = if r.group.is_empty() && r.kind == "Service" && sub != Some("status") {
            Some(self.alloc.allocate(&self.store, &mut new, Some(old), dry)?)
        } else {
            None
        };
        // Removing finalizers from an object that is already deleting is
        // always allowed; everything else is validated.
        check_decodes(r, &new)?;
        let mut errs = crate::validation::validate(r.group, r.version, r.kind, &new, Some(old));
        if sub == Some("status") {
            errs.extend(crate::validation::validate_status(r.group, r.kind, &new, old));
        }
        let (group, kind) = strategy_kind(r);
        if !errs.is_empty() {
            return Err(ApiError::invalid(group, kind, meta::name(&new), &errs));
        }
        if meta::is_deleting(old) {
            let added: Vec<String> = meta::finalizers(&new).into_iter().filter(|f| !meta::finalizers(old).contains(f)).collect();
            if !added.is_empty() {
                return Err(ApiError::invalid(
                    group,
                    kind,
                    meta::name(&new),
                    &[FieldError::forbidden(
                        "metadata.finalizers",
                        format!("no new finalizers can be added if the object is being deleted, found new finalizers {added:?}"),
                    )],
                ));
            }
        }
        if admit {
            let attrs = Attributes { object: Some(&new), ..attrs };
            warnings.extend(self.validate_hooks(&attrs).await?);
        }
        if new == **old {
            // Nothing changed: nothing is written and no event is sent.
            return Ok((old.clone(), warnings, 200));
        }
        // A namespace also waits for its spec.finalizers (upstream's
        // ShouldDeleteNamespaceDuringUpdate).
        let held = r.group.is_empty()
            && r.kind == "Namespace"
            && new.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        let delete_now = meta::is_deleting(&new)
            && meta::finalizers(&new).is_empty()
            && !held
            && old.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64) == Some(0);
        if dry {
            return Ok((Arc::new(new), warnings, 200));
        }
        if delete_now {
            let stored = self.store.replace(r, expect, new).map_err(|e| e.into_api(r, &name))?;
            let gone = self.store.remove(r, &ns, &name, Some(store::rv_of(&stored))).map_err(|e| e.into_api(r, &name))?;
            return Ok((gone, warnings, 200));
        }
        let stored = self.store.replace(r, expect, new).map_err(|e| e.into_api(r, &name))?;
        Ok((stored, warnings, 200))
    }

    /// A write through the scale subresource: webhooks see the Scale, the
    /// object gets the new replicas.
    #[allow(clippy::too_many_arguments)]
    async fn write_scale(
        &self,
        r: &'static ResourceType,
        old: &Obj,
        scale: Value,
        expect: u64,
        q: &Query,
        dry: bool,
        manager: &str,
        user: &User,
    ) -> ApiResult<Reply> {
        let name = meta::name(old).to_string();
        let ns = meta::namespace(old).to_string();
        let old_scale = to_scale(r, old)?;
        let attrs = Attributes {
            resource: r,
            subresource: Some("scale"),
            operation: Operation::Update,
            name: &name,
            namespace: &ns,
            object: None,
            old_object: Some(&old_scale),
            dry_run: dry,
            options: Some(write_options("UpdateOptions", q)),
            user,
        };
        self.namespace_lifecycle(&lifecycle::Request {
            operation: lifecycle::Operation::Update,
            kind_group: "autoscaling",
            kind: "Scale",
            group: r.group,
            resource: r.plural,
            name: &name,
            namespace: &ns,
            object: Some(&scale),
        })?;
        let (scale, mut warnings) = self.mutate_hooks(&attrs, scale).await?;
        let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
        if replicas < 0 {
            return Err(ApiError::invalid(
                "autoscaling",
                "Scale",
                &name,
                &[FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
            ));
        }
        let mut new = (**old).clone();
        new["spec"]["replicas"] = json!(replicas);
        let mut new_scale = to_scale(r, &new)?;
        new_scale["metadata"]["resourceVersion"] = json!(expect.to_string());
        let attrs = Attributes { object: Some(&new_scale), ..attrs };
        warnings.extend(self.validate_hooks(&attrs).await?);
        let manager = Manager { name: manager, subresource: "scale" };
        let (obj, w, _) = self.update_object(r, None, old, new, expect, q, dry, false, Some(manager), user).await?;
        warnings.extend(w);
        Ok(Reply::Json { code: 200, body: to_scale(r, &obj)?, warnings })
    }

    async fn update_scale(&self, t: &Target, body: Value, q: &Query, dry: bool, manager: &str, user: &User) -> ApiResult<Reply> {
        let r = t.resource;
        let name = t.name.clone().unwrap_or_default();
        if body.get("kind").and_then(Value::as_str).is_some_and(|k| k != "Scale") {
            return Err(ApiError::bad_request("the object provided is unrecognized (must be of type Scale)"));
        }
        let old = self.get(t)?;
        let expect = match body.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            Some(v) => parse_rv(v)?,
            None => store::rv_of(&old),
        };
        if expect != store::rv_of(&old) {
            return Err(ApiError::stale(r.group, r.plural, &name));
        }
        self.write_scale(r, &old, body, expect, q, dry, manager, user).await
    }

    async fn patch(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let r = t.resource;
        let name = t.name.clone().unwrap_or_default();
        let ns = t.namespace.clone().unwrap_or_default();
        let dry = req.query.dry_run()?;
        match t.sub.as_deref() {
            None => {}
            Some("status") if r.has(Sub::Status) => {}
            Some("scale") if r.has(Sub::Scale) => {}
            Some(s) => return Err(no_sub(t, s)),
        }
        let ct = req.content_type.as_deref().unwrap_or_default();
        let ct = ct.split(';').next().unwrap_or_default().trim();
        let kind = match ct {
            "application/json-patch+json" => PatchKind::Json,
            "application/merge-patch+json" => PatchKind::Merge,
            "application/strategic-merge-patch+json" => PatchKind::Strategic,
            "application/apply-patch+yaml" => return self.apply(t, req).await,
            other => return Err(ApiError::unsupported_media_type(other)),
        };
        let m = req.manager()?;
        let patch: Value = serde_json::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        for _ in 0..MAX_RETRIES {
            let old = self.get(t)?;
            let base = if t.sub.as_deref() == Some("scale") { to_scale(r, &old)? } else { (*old).clone() };
            let patched = apply_patch(kind, &base, &patch, r)?;
            if t.sub.as_deref() == Some("scale") {
                match self.write_scale(r, &old, patched, store::rv_of(&old), &req.query, dry, &m, req.user()).await {
                    Err(e) if e.code == 409 && e.reason == "Conflict" => continue,
                    other => return other,
                }
            }
            let mut patched = patched;
            if !patched.is_object() {
                return Err(ApiError::bad_request("the patch must produce an object"));
            }
            // Identity and type come from the URL; a patch may not move the object.
            if meta::name(&patched) != name || meta::namespace(&patched) != ns {
                return Err(ApiError::bad_request("the name and namespace of an object cannot be changed by a patch"));
            }
            patched["apiVersion"] = json!(r.api_version());
            patched["kind"] = json!(r.kind);
            let precondition = patch.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty());
            let expect = match precondition {
                Some(v) => {
                    let v = parse_rv(v)?;
                    if v != store::rv_of(&old) {
                        return Err(ApiError::stale(r.group, r.plural, &name));
                    }
                    v
                }
                None => store::rv_of(&old),
            };
            let manager = Manager { name: &m, subresource: t.sub.as_deref().unwrap_or_default() };
            match self.update_object(r, t.sub.as_deref(), &old, patched, expect, &req.query, dry, true, Some(manager), req.user()).await {
                Ok((obj, warnings, code)) => return Ok(Reply::Json { code, body: (*obj).clone(), warnings }),
                Err(e) if e.code == 409 && e.reason == "Conflict" && precondition.is_none() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::conflict(r.group, r.plural, &name, "the object kept changing while the patch was applied; try again"))
    }

    /// Server-side apply (`application/apply-patch+yaml`): creates the
    /// object when it does not exist, else merges the configuration into it
    /// with field ownership (see [`managed::apply`]).
    async fn apply(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let r = t.resource;
        let name = t.name.clone().unwrap_or_default();
        let ns = t.namespace.clone().unwrap_or_default();
        let dry = req.query.dry_run()?;
        let sub = t.sub.as_deref().unwrap_or_default();
        if !sub.is_empty() && sub != "status" {
            return Err(ApiError::not_implemented(format!(
                "server-side apply to the {sub} subresource is not supported by the sandbox; apply to the object or use another patch type"
            )));
        }
        let Some(manager) = req.query.some("fieldManager") else {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "PatchOptions",
                "",
                &[FieldError::required("fieldManager", "is required for apply patch")],
            ));
        };
        if manager.len() > 128 {
            return Err(ApiError::invalid("meta.k8s.io", "PatchOptions", "", &[FieldError::too_long("fieldManager", 128)]));
        }
        let force = req.query.flag("force");
        let config: Value = serde_yaml::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
        if !config.is_object() {
            return Err(ApiError::bad_request("error decoding YAML: the applied configuration must be an object"));
        }
        let av = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = config.get("kind").and_then(Value::as_str).unwrap_or_default();
        if av != r.api_version() || kind != r.kind {
            return Err(ApiError::bad_request(format!(
                "the applied configuration is a {kind:?} of apiVersion {av:?}, but this endpoint serves {:?} of apiVersion {:?}",
                r.kind,
                r.api_version()
            )));
        }
        let config_name = meta::name(&config);
        // A configuration without a name takes the object's, if there is one.
        if !config_name.is_empty() && config_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({config_name}) does not match the name on the URL ({name})"
            )));
        }
        let precondition = config.pointer("/metadata/resourceVersion").and_then(Value::as_str).filter(|s| !s.is_empty());
        let now = meta::now();
        let api_version = r.api_version();
        let reset = crate::resets::for_write(r, Some(sub))?;
        let w = managed::Writer { manager, api_version: &api_version, subresource: sub, reset, now: &now };
        for _ in 0..MAX_RETRIES {
            let Some(old) = self.store.get(r, &ns, &name) else {
                if !sub.is_empty() || precondition.is_some() {
                    return Err(ApiError::not_found(r.group, r.plural, &name));
                }
                if config_name.is_empty() {
                    return Err(ApiError::bad_request(format!("the name of the object () does not match the name on the URL ({name})")));
                }
                let mut obj = managed::apply(r.group, r.kind, None, &config, force, &w)?.object;
                meta::meta_mut(&mut obj).remove("resourceVersion");
                match self.create_object(r, t.namespace.as_deref(), obj, &req.query, dry, None, req.user()).await {
                    Ok((obj, warnings)) => return Ok(Reply::Json { code: 201, body: (*obj).clone(), warnings }),
                    Err(e) if e.code == 409 && e.reason == "AlreadyExists" => continue,
                    Err(e) => return Err(e),
                }
            };
            if let Some(v) = precondition
                && parse_rv(v)? != store::rv_of(&old)
            {
                return Err(ApiError::stale(r.group, r.plural, &name));
            }
            let new = managed::apply(r.group, r.kind, Some(&old), &config, force, &w)?.object;
            match self.update_object(r, t.sub.as_deref(), &old, new, store::rv_of(&old), &req.query, dry, true, None, req.user()).await {
                Ok((obj, warnings, code)) => return Ok(Reply::Json { code, body: (*obj).clone(), warnings }),
                Err(e) if e.code == 409 && e.reason == "Conflict" && precondition.is_none() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(ApiError::conflict(r.group, r.plural, &name, "the object kept changing while the configuration was applied; try again"))
    }

    // ----- deletes -----

    async fn delete(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        if let Some(s) = t.sub.as_deref() {
            return Err(no_sub(t, s));
        }
        let opts = DeleteOptions::from_request(req)?;
        let dry = req.query.dry_run()? || opts.dry_run;
        let name = t.name.clone().unwrap_or_default();
        let ns = t.namespace.clone().unwrap_or_default();
        let (obj, deleted) = self.delete_object(t.resource, &ns, &name, &opts, dry, req.user()).await?;
        Ok(delete_reply(t.resource, &obj, deleted, &opts))
    }

    /// Deletes an object after the DELETE admission webhooks (mutating, then
    /// validating, both seeing the stored object as oldObject).
    pub async fn delete_object(
        &self,
        r: &'static ResourceType,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
        dry: bool,
        user: &User,
    ) -> ApiResult<(Obj, bool)> {
        let old = self.store.get(r, ns, name).ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
        self.namespace_lifecycle(&lifecycle::Request {
            operation: lifecycle::Operation::Delete,
            kind_group: r.group,
            kind: r.kind,
            group: r.group,
            resource: r.plural,
            name,
            namespace: ns,
            object: None,
        })?;
        let attrs = Attributes {
            resource: r,
            subresource: None,
            operation: Operation::Delete,
            name,
            namespace: ns,
            object: None,
            old_object: Some(&old),
            dry_run: dry,
            options: Some(opts.to_value(dry)),
            user,
        };
        let (_, mut warnings) = self.mutate_hooks(&attrs, Value::Null).await?;
        warnings.extend(self.validate_hooks(&attrs).await?);
        for w in warnings {
            tracing::debug!(resource = r.plural, namespace = ns, name, warning = %w, "admission warning on delete");
        }
        self.delete_unadmitted(r, ns, name, opts, dry)
    }

    /// Deletes an object as kube-apiserver does: preconditions, graceful
    /// deletion of pods on nodes, finalizers, and the propagation policy
    /// turned into the orphan or foregroundDeletion finalizer. Returns the
    /// object and whether it is gone.
    fn delete_unadmitted(&self, r: &'static ResourceType, ns: &str, name: &str, opts: &DeleteOptions, dry: bool) -> ApiResult<(Obj, bool)> {
        for _ in 0..MAX_RETRIES {
            let old = self.store.get(r, ns, name).ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
            check_preconditions(r, name, &old, opts)?;
            let mut new = (*old).clone();
            let mut finalizers = meta::finalizers(&new);
            let policy = match r.propagation {
                // Neither orphan nor foreground deletion: the finalizers they use go.
                DefaultPropagation::Unsupported => Propagation::Background,
                DefaultPropagation::Background => opts.propagation.unwrap_or(Propagation::Background),
                DefaultPropagation::Orphan => opts.propagation.unwrap_or(Propagation::Orphan),
            };
            // An existing orphan or foreground finalizer says what the earlier delete asked for.
            let asked = opts.propagation.is_some() || r.propagation == DefaultPropagation::Unsupported;
            let policy = if finalizers.iter().any(|f| f == "orphan") && !asked {
                Propagation::Orphan
            } else if finalizers.iter().any(|f| f == "foregroundDeletion") && !asked {
                Propagation::Foreground
            } else {
                policy
            };
            match policy {
                Propagation::Orphan => {
                    finalizers.retain(|f| f != "foregroundDeletion");
                    if !finalizers.iter().any(|f| f == "orphan") {
                        finalizers.push("orphan".into());
                    }
                }
                Propagation::Foreground => {
                    finalizers.retain(|f| f != "orphan");
                    if !finalizers.iter().any(|f| f == "foregroundDeletion") {
                        finalizers.push("foregroundDeletion".into());
                    }
                }
                Propagation::Background => finalizers.retain(|f| f != "orphan" && f != "foregroundDeletion"),
            }
            let grace = graceful_period(r, &old, opts.grace_period);
            let already = meta::is_deleting(&old);
            // A namespace waits for the namespace controller (its spec.finalizers).
            let held = r.kind == "Namespace" && old.pointer("/spec/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
            if finalizers.is_empty() && grace == 0 && !held {
                if dry {
                    return Ok((old, true));
                }
                match self.store.remove(r, ns, name, Some(store::rv_of(&old))) {
                    Ok(gone) => return Ok((gone, true)),
                    Err(WriteError::Conflict) => continue,
                    Err(e) => return Err(e.into_api(r, name)),
                }
            }
            meta::set_finalizers(&mut new, &finalizers);
            let m = meta::meta_mut(&mut new);
            let old_grace = m.get("deletionGracePeriodSeconds").and_then(Value::as_i64);
            if !already {
                m.insert("deletionTimestamp".into(), json!(meta::now_plus(grace)));
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
                if let Some(g) = m.get("generation").and_then(Value::as_i64) {
                    m.insert("generation".into(), json!(g + 1));
                }
            } else if old_grace.is_some_and(|g| grace < g) {
                // A later delete may shorten the grace period, never lengthen it.
                m.insert("deletionTimestamp".into(), json!(meta::now_plus(grace)));
                m.insert("deletionGracePeriodSeconds".into(), json!(grace));
            }
            // The namespace storage's Delete: the phase turns Terminating in the
            // same write, so NamespaceLifecycle refuses creates from then on.
            if !already && r.group.is_empty() && r.kind == "Namespace" {
                new["status"]["phase"] = json!("Terminating");
            }
            if new == *old {
                return Ok((old, false));
            }
            if dry {
                return Ok((Arc::new(new), false));
            }
            match self.store.replace(r, store::rv_of(&old), new) {
                Ok(stored) => {
                    // A pod whose grace period is now 0 and has no finalizers is gone.
                    if !held
                        && meta::finalizers(&stored).is_empty()
                        && stored.pointer("/metadata/deletionGracePeriodSeconds").and_then(Value::as_i64) == Some(0)
                        && let Ok(gone) = self.store.remove(r, ns, name, Some(store::rv_of(&stored)))
                    {
                        return Ok((gone, true));
                    }
                    return Ok((stored, false));
                }
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into_api(r, name)),
            }
        }
        Err(ApiError::conflict(r.group, r.plural, name, "the object kept changing while it was being deleted; try again"))
    }

    async fn delete_collection(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let f = self.filter(t, &req.query)?;
        let opts = DeleteOptions::from_request(req)?;
        let dry = req.query.dry_run()? || opts.dry_run;
        let r = t.resource;
        let (rv, objects) = self.store.list(r, t.namespace.as_deref());
        let mut items = Vec::new();
        for o in objects.iter().filter(|o| f.matches(o)) {
            match self.delete_object(r, meta::namespace(o), meta::name(o), &opts, dry, req.user()).await {
                Ok((obj, _)) => items.push((*obj).clone()),
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Reply::ok(
            json!({"kind": r.list_kind(), "apiVersion": r.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
        ))
    }

    // ----- changes made by the sandbox's own controllers -----

    /// Creates an object through the create pipeline.
    pub async fn create_internal(&self, r: &'static ResourceType, ns: Option<&str>, obj: Value, manager: &str) -> ApiResult<Obj> {
        let manager = Manager { name: manager, subresource: "" };
        self.create_object(r, ns, obj, &Query::default(), false, Some(manager), &ADMIN).await.map(|(o, _)| o)
    }

    /// Changes an object with `f` through the update pipeline, retrying
    /// when it changed underneath.
    pub async fn modify_internal(&self, r: &'static ResourceType, ns: &str, name: &str, f: impl Fn(&mut Value)) -> ApiResult<Obj> {
        for _ in 0..MAX_RETRIES {
            let old = self.store.get(r, ns, name).ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
            let mut new = (*old).clone();
            f(&mut new);
            let manager = Manager { name: INTERNAL_MANAGER, subresource: "" };
            match self.update_object(r, None, &old, new, store::rv_of(&old), &Query::default(), false, true, Some(manager), &ADMIN).await {
                Err(e) if e.code == 409 && e.reason == "Conflict" => continue,
                other => return other.map(|(o, _, _)| o),
            }
        }
        Err(ApiError::conflict(r.group, r.plural, name, "the object kept changing"))
    }

    /// Changes an object's status with `f`, retrying when it changed underneath.
    pub fn set_status_internal(&self, r: &'static ResourceType, ns: &str, name: &str, f: impl Fn(&mut Value)) {
        for _ in 0..MAX_RETRIES {
            let Some(old) = self.store.get(r, ns, name) else { return };
            let mut new = (*old).clone();
            f(&mut new);
            match self.store.replace(r, store::rv_of(&old), new) {
                Err(WriteError::Conflict) => continue,
                _ => return,
            }
        }
    }

    /// The namespace controller's last step: the `kubernetes` finalizer
    /// goes, and the namespace with it once no other finalizer holds it.
    pub fn finish_namespace(&self, ns: &str) {
        let r = registry::find("", "v1", "namespaces").expect("namespaces");
        self.set_status_internal(r, "", ns, |v| {
            if let Some(Value::Array(f)) = v.pointer_mut("/spec/finalizers") {
                f.retain(|x| x != "kubernetes");
            }
        });
        if let Some(o) = self.store.get(r, "", ns) {
            let spec_done = o.pointer("/spec/finalizers").and_then(Value::as_array).is_none_or(|f| f.is_empty());
            if spec_done && meta::finalizers(&o).is_empty() {
                let _ = self.store.remove(r, "", ns, Some(store::rv_of(&o)));
            }
        }
    }

    // ----- pod subresources -----

    /// Admission of a create on a pod subresource (binding, eviction): the
    /// webhooks see the subresource's object.
    async fn admit_sub_create(
        &self,
        t: &Target,
        sub: &str,
        body: Value,
        q: &Query,
        dry: bool,
        user: &User,
    ) -> ApiResult<(Value, Vec<String>)> {
        let name = t.name.clone().unwrap_or_default();
        let ns = t.namespace.clone().unwrap_or_default();
        let (kind_group, kind) = if sub == "eviction" { ("policy", "Eviction") } else { ("", "Binding") };
        self.namespace_lifecycle(&lifecycle::Request {
            operation: lifecycle::Operation::Create,
            kind_group,
            kind,
            group: t.resource.group,
            resource: t.resource.plural,
            name: &name,
            namespace: &ns,
            object: Some(&body),
        })?;
        let attrs = Attributes {
            resource: t.resource,
            subresource: Some(sub),
            operation: Operation::Create,
            name: &name,
            namespace: &ns,
            object: None,
            old_object: None,
            dry_run: dry,
            options: Some(write_options("CreateOptions", q)),
            user,
        };
        let (body, mut warnings) = self.mutate_hooks(&attrs, body).await?;
        let attrs = Attributes { object: Some(&body), ..attrs };
        warnings.extend(self.validate_hooks(&attrs).await?);
        Ok((body, warnings))
    }

    async fn bind(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let body = decode_body(req)?;
        let (body, warnings) = self.admit_sub_create(t, "binding", body, &req.query, req.query.dry_run()?, req.user()).await?;
        let name = t.name.clone().unwrap_or_default();
        let node = body.pointer("/target/name").and_then(Value::as_str).unwrap_or_default().to_string();
        if node.is_empty() {
            return Err(ApiError::invalid("", "Binding", &name, &[FieldError::required("target.name", "")]));
        }
        let dry = req.query.dry_run()?;
        let r = t.resource;
        for _ in 0..MAX_RETRIES {
            let old = self.get(t)?;
            if meta::is_deleting(&old) {
                return Err(ApiError::conflict("", "pods", &name, &format!("pod {name} is being deleted, cannot be assigned to a host")));
            }
            if let Some(cur) = old.pointer("/spec/nodeName").and_then(Value::as_str).filter(|s| !s.is_empty()) {
                return Err(ApiError::conflict("", "pods", &name, &format!("pod {name} is already assigned to node \"{cur}\"")));
            }
            if old.pointer("/spec/schedulingGates").and_then(Value::as_array).is_some_and(|g| !g.is_empty()) {
                return Err(ApiError::conflict("", "pods", &name, &format!("pod {name} has non-empty .spec.schedulingGates")));
            }
            let mut new = (*old).clone();
            new["spec"]["nodeName"] = json!(node);
            if let Some(a) = body.pointer("/metadata/annotations").and_then(Value::as_object) {
                let m = meta::meta_mut(&mut new);
                let anns = m.entry("annotations").or_insert_with(|| json!({}));
                for (k, v) in a {
                    anns[k] = v.clone();
                }
            }
            set_condition(&mut new, "PodScheduled", "True", None, None);
            if dry {
                break;
            }
            match self.store.replace(r, store::rv_of(&old), new) {
                Ok(_) => break,
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into_api(r, &name)),
            }
        }
        Ok(Reply::Json { code: 201, body: success_status(None), warnings })
    }

    async fn evict(&self, t: &Target, req: &Request) -> ApiResult<Reply> {
        let body = decode_body(req)?;
        let (body, warnings) = self.admit_sub_create(t, "eviction", body, &req.query, req.query.dry_run()?, req.user()).await?;
        let name = t.name.clone().unwrap_or_default();
        let ns = t.namespace.clone().unwrap_or_default();
        let pod = self.get(t)?;
        let mut opts = match body.get("deleteOptions") {
            Some(o) if o.is_object() => DeleteOptions::from_value(o)?,
            _ => DeleteOptions::default(),
        };
        opts.dry_run |= req.query.dry_run()?;
        let phase = pod.pointer("/status/phase").and_then(Value::as_str).unwrap_or("Pending");
        // Pods that are not running, or already deleting, are deleted without a budget check.
        if meta::is_deleting(&pod) || matches!(phase, "Succeeded" | "Failed" | "Pending") {
            self.disrupt_and_delete(t.resource, &ns, &name, opts)?;
            return Ok(Reply::Json { code: 201, body: success_status(None), warnings });
        }
        let pdbs_r = registry::find("policy", "v1", "poddisruptionbudgets").expect("pdbs");
        let labels = meta::labels(&pod);
        let (_, pdbs) = self.store.list(pdbs_r, Some(&ns));
        let matching: Vec<Obj> = pdbs
            .into_iter()
            .filter(|p| {
                let sel: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> =
                    p.pointer("/spec/selector").and_then(|s| serde_json::from_value(s.clone()).ok());
                // A PDB with an empty selector matches nothing for eviction, as upstream.
                sel.as_ref().is_some_and(|s| {
                    s.match_labels.as_ref().is_some_and(|m| !m.is_empty()) || s.match_expressions.as_ref().is_some_and(|m| !m.is_empty())
                }) && Selector::from_label_selector(sel.as_ref()).is_ok_and(|s| s.matches(&labels))
            })
            .collect();
        if matching.len() > 1 {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
        if let Some(pdb) = matching.first() {
            let pdb_name = meta::name(pdb).to_string();
            let observed = pdb.pointer("/status/observedGeneration").and_then(Value::as_i64).unwrap_or(0);
            let generation = pdb.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0);
            let allowed = pdb.pointer("/status/disruptionsAllowed").and_then(Value::as_i64).unwrap_or(0);
            if observed < generation || allowed <= 0 {
                let current = pdb.pointer("/status/currentHealthy").and_then(Value::as_i64).unwrap_or(0);
                let desired = pdb.pointer("/status/desiredHealthy").and_then(Value::as_i64).unwrap_or(0);
                let msg = if observed < generation {
                    "Cannot evict pod as it would violate the pod's disruption budget.".to_string()
                } else {
                    format!("The disruption budget {pdb_name} needs {desired} healthy pods and has {current} currently")
                };
                let mut e = ApiError::new(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.");
                e.details = Some(json!({"causes": [{"reason": "DisruptionBudget", "message": msg}]}));
                return Err(e);
            }
            if !opts.dry_run {
                let mut np = (**pdb).clone();
                np["status"]["disruptionsAllowed"] = json!(allowed - 1);
                let disrupted = np["status"].as_object_mut().expect("status").entry("disruptedPods").or_insert_with(|| json!({}));
                disrupted[name.as_str()] = json!(meta::now());
                self.store.replace(pdbs_r, store::rv_of(pdb), np).map_err(|e| match e {
                    WriteError::Conflict => {
                        ApiError::conflict("policy", "poddisruptionbudgets", &pdb_name, "the disruption budget changed; try again")
                    }
                    other => other.into_api(pdbs_r, &pdb_name),
                })?;
            }
        }
        self.disrupt_and_delete(t.resource, &ns, &name, opts)?;
        Ok(Reply::Json { code: 201, body: success_status(None), warnings })
    }

    /// Upstream's `addConditionAndDeletePod`: but in a dry run, the evicted
    /// pod first gets the `DisruptionTarget` condition (reason
    /// `EvictionByEvictionAPI`) in its status, checked against the
    /// eviction's preconditions; then it is deleted, a resourceVersion
    /// precondition moved to the version that write made.
    fn disrupt_and_delete(&self, r: &'static ResourceType, ns: &str, name: &str, mut opts: DeleteOptions) -> ApiResult<()> {
        if !opts.dry_run {
            let mut written = None;
            for _ in 0..MAX_RETRIES {
                let old = self.store.get(r, ns, name).ok_or_else(|| ApiError::not_found(r.group, r.plural, name))?;
                check_preconditions(r, name, &old, &opts)?;
                let mut new = (*old).clone();
                set_condition(&mut new, "DisruptionTarget", "True", Some("EvictionByEvictionAPI"), Some("Eviction API: evicting"));
                match self.store.replace(r, store::rv_of(&old), new) {
                    Ok(o) => {
                        written = Some(o);
                        break;
                    }
                    Err(WriteError::Conflict) => continue,
                    Err(e) => return Err(e.into_api(r, name)),
                }
            }
            let written = written.ok_or_else(|| ApiError::conflict(r.group, r.plural, name, "the object kept changing"))?;
            if opts.resource_version.is_some() {
                opts.resource_version = Some(store::rv_of(&written).to_string());
            }
        }
        self.delete_unadmitted(r, ns, name, &opts, opts.dry_run).map(|_| ())
    }
}

// ----- list/watch helpers -----

/// What a list or watch selects.
pub struct Filter {
    resource: &'static ResourceType,
    namespace: Option<String>,
    name: Option<String>,
    labels: Option<Selector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn matches(&self, o: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && meta::namespace(o) != ns
            && self.resource.namespaced
        {
            return false;
        }
        if let Some(n) = &self.name
            && meta::name(o) != n
        {
            return false;
        }
        if let Some(l) = &self.labels
            && !l.matches(&meta::labels(o))
        {
            return false;
        }
        if let Some(f) = &self.fields
            && !f.matches(|field| self.resource.field_value(o, field))
        {
            return false;
        }
        true
    }
}

/// How a watch event's object is sent: as is, or as a Table.
type Render = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

struct WatchTask {
    render: Render,
    store: Arc<Store>,
    resource: &'static ResourceType,
    filter: Arc<Filter>,
    start: WatchStart,
    initial_objects: Vec<Obj>,
    end_marker: bool,
    bookmarks: bool,
    interval: Duration,
    timeout: Duration,
    tx: mpsc::Sender<Result<Bytes, Infallible>>,
}

fn watch_line(kind: &str, obj: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The watch event a change is for this watcher, if any, with the object
/// as the watched resource has it (converted from the stored one): an
/// object that stops matching the selectors is DELETED for it, one that
/// starts matching is ADDED.
fn translate(f: &Filter, e: &Event) -> Option<(&'static str, Obj)> {
    let (obj, prev) = e.view(f.resource);
    let now = f.matches(&obj);
    let before = prev.as_ref().is_some_and(|p| f.matches(p));
    let kind = match e.kind {
        EventType::Added => now.then_some("ADDED"),
        EventType::Deleted => now.then_some("DELETED"),
        EventType::Modified => match (before, now) {
            (true, true) => Some("MODIFIED"),
            (false, true) => Some("ADDED"),
            (true, false) => Some("DELETED"),
            (false, false) => None,
        },
    }?;
    Some((kind, obj))
}

fn bookmark(r: &ResourceType, rv: u64, end: bool) -> Value {
    let mut m = json!({"resourceVersion": rv.to_string()});
    if end {
        m["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": r.kind, "apiVersion": r.api_version(), "metadata": m})
}

async fn run_watch(w: WatchTask) {
    let WatchTask { store, resource, filter, start, initial_objects, end_marker, bookmarks, interval, timeout, tx, render } = w;
    let WatchStart { replay, mut rx, rv } = start;
    let mut last_rv = rv;
    for o in &initial_objects {
        if filter.matches(o) && tx.send(Ok(watch_line("ADDED", &render(o)))).await.is_err() {
            return;
        }
    }
    if end_marker && tx.send(Ok(watch_line("BOOKMARK", &bookmark(resource, rv, true)))).await.is_err() {
        return;
    }
    for e in &replay {
        if let Some((kind, obj)) = translate(&filter, e)
            && tx.send(Ok(watch_line(kind, &render(&obj)))).await.is_err()
        {
            return;
        }
        last_rv = last_rv.max(e.rv);
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            _ = ticker.tick(), if bookmarks => {
                // Every event up to `cur` is already queued for this watcher:
                // send them first, so the bookmark never runs ahead of an event.
                let cur = store.current_rv();
                while let Ok(WatchMsg::Event(e)) = rx.try_recv() {
                    if let Some((kind, obj)) = translate(&filter, &e)
                        && tx.send(Ok(watch_line(kind, &render(&obj)))).await.is_err() {
                            return;
                        }
                }
                last_rv = last_rv.max(cur);
                if tx.send(Ok(watch_line("BOOKMARK", &bookmark(resource, last_rv, false)))).await.is_err() {
                    return;
                }
            }
            m = rx.recv() => {
                let e = match m {
                    None => return,
                    Some(WatchMsg::Event(e)) => e,
                    Some(WatchMsg::Expired { from, oldest }) => {
                        let _ = tx.send(Ok(watch_line("ERROR", &too_old(from, oldest).to_status()))).await;
                        return;
                    }
                };
                if let Some((kind, obj)) = translate(&filter, &e)
                    && tx.send(Ok(watch_line(kind, &render(&obj)))).await.is_err() {
                        return;
                    }
                last_rv = last_rv.max(e.rv);
            }
        }
    }
}

fn parse_rv(s: &str) -> ApiResult<u64> {
    s.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version {s:?}")))
}

fn too_old(at: u64, oldest: u64) -> ApiError {
    ApiError::expired(format!("too old resource version: {at} ({oldest})"))
}

fn invalid_list_options(field: &str, msg: &str) -> ApiError {
    let mut e = ApiError::invalid("meta.k8s.io", "ListOptions", "", &[FieldError::forbidden(field, msg)]);
    e.message = format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: Forbidden: {msg}");
    e
}

fn encode_continue(rv: u64, key: &store::Key) -> String {
    let start = if key.0.is_empty() { format!("{}\u{0}", key.1) } else { format!("{}/{}\u{0}", key.0, key.1) };
    let raw = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE.encode(raw.to_string())
}

fn decode_continue(token: &str) -> ApiResult<(u64, store::Key)> {
    let bad = || ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
    let raw = base64::engine::general_purpose::URL_SAFE.decode(token).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let start = v.get("start").and_then(Value::as_str).ok_or_else(bad)?.trim_end_matches('\u{0}');
    let key = match start.split_once('/') {
        Some((ns, name)) => (ns.to_string(), name.to_string()),
        None => (String::new(), start.to_string()),
    };
    Ok((rv, key))
}

// ----- write helpers -----

/// Decodes a request body: JSON or YAML, which must be an object.
fn decode_body(req: &Request) -> ApiResult<Value> {
    let ct = req.content_type.as_deref().unwrap_or("application/json");
    let ct = ct.split(';').next().unwrap_or_default().trim();
    let v: Value = match ct {
        "application/json" | "" | "*/*" => serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}")))?,
        "application/yaml" => {
            serde_yaml::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))?
        }
        crate::protobuf::CONTENT_TYPE => decode_protobuf(&req.body)?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !v.is_object() {
        return Err(ApiError::bad_request("couldn't get version/kind; json parse error: the body is not a JSON object"));
    }
    Ok(v)
}

fn decode_protobuf(body: &[u8]) -> ApiResult<Value> {
    crate::protobuf::decode(body).map_err(|e| match e {
        crate::protobuf::Error::Malformed(m) => ApiError::bad_request(format!("error decoding protobuf body: {m}")),
        crate::protobuf::Error::Unsupported(m) => ApiError::new(415, "UnsupportedMediaType", m),
    })
}

/// The body's kind and apiVersion must be the resource's.
fn check_type(r: &ResourceType, obj: &Value) -> ApiResult<()> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let av = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    if kind.is_empty() {
        return Err(ApiError::bad_request(format!("Object 'Kind' is missing in '{}'", truncate(&obj.to_string(), 200))));
    }
    if av.is_empty() {
        return Err(ApiError::bad_request(format!("Object 'apiVersion' is missing in '{}'", truncate(&obj.to_string(), 200))));
    }
    if av != r.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    if kind != r.kind {
        return Err(ApiError::bad_request(format!("the object provided is unrecognized (must be of type {}): {kind}", r.kind)));
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn set_namespace(r: &ResourceType, ns: Option<&str>, obj: &mut Value) -> ApiResult<()> {
    let m = meta::meta_mut(obj);
    if !r.namespaced {
        m.remove("namespace");
        return Ok(());
    }
    let Some(ns) = ns else {
        return Err(ApiError::bad_request(
            "the server could not find the requested resource: a namespaced object needs a namespace in the path",
        ));
    };
    match m.get("namespace").and_then(Value::as_str) {
        Some(n) if !n.is_empty() && n != ns => {
            Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"))
        }
        _ => {
            m.insert("namespace".into(), json!(ns));
            Ok(())
        }
    }
}

/// Paths of fields in `input` that decoding dropped (fields the type does not have).
fn unknown_fields(input: &Value, out: &Value, prefix: &str, acc: &mut Vec<String>) {
    match (input, out) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match b.get(k) {
                    None if !v.is_null() && !is_free_form(prefix) => acc.push(path),
                    Some(w) => unknown_fields(v, w, &path, acc),
                    None => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                unknown_fields(v, w, &format!("{prefix}[{i}]"), acc);
            }
        }
        _ => {}
    }
}

/// Maps whose keys are data, not fields.
fn is_free_form(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or_default();
    let last = last.split('[').next().unwrap_or_default();
    matches!(
        last,
        "labels"
            | "annotations"
            | "data"
            | "binaryData"
            | "stringData"
            | "nodeSelector"
            | "matchLabels"
            | "limits"
            | "requests"
            | "capacity"
            | "allocatable"
            | "hard"
            | "used"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Orphan,
    Background,
    Foreground,
}

/// Delete options from the body (DeleteOptions) or the query.
#[derive(Debug, Default, Clone)]
pub struct DeleteOptions {
    pub grace_period: Option<i64>,
    pub propagation: Option<Propagation>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
    /// `orphanDependents: false` was given (the answer is then 202 while the object remains).
    pub orphan_false: bool,
}

impl DeleteOptions {
    fn from_request(req: &Request) -> ApiResult<Self> {
        let protobuf =
            req.content_type.as_deref().is_some_and(|c| c.split(';').next().unwrap_or_default().trim() == crate::protobuf::CONTENT_TYPE);
        let mut o = if protobuf && !req.body.is_empty() {
            Self::from_value(&decode_protobuf(&req.body)?)?
        } else if req.body.iter().any(|b| !b.is_ascii_whitespace()) {
            let v: Value =
                serde_json::from_slice(&req.body).map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
            Self::from_value(&v)?
        } else {
            Self::default()
        };
        let q = &req.query;
        if let Some(g) = q.int("gracePeriodSeconds")? {
            o.grace_period = Some(g);
        }
        if let Some(p) = q.some("propagationPolicy") {
            o.propagation = Some(parse_propagation(p)?);
        }
        if let Some(v) = q.some("orphanDependents") {
            o.propagation = Some(if v == "true" { Propagation::Orphan } else { Propagation::Background });
            o.orphan_false = v == "false";
        }
        Ok(o)
    }

    /// The options as the DeleteOptions object admission reviews carry.
    fn to_value(&self, dry: bool) -> Value {
        let mut v = json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1"});
        if let Some(g) = self.grace_period {
            v["gracePeriodSeconds"] = json!(g);
        }
        if self.propagation.is_some() {
            v["propagationPolicy"] = json!(p_str(self.propagation));
        }
        if self.uid.is_some() || self.resource_version.is_some() {
            v["preconditions"] = json!({});
            if let Some(u) = &self.uid {
                v["preconditions"]["uid"] = json!(u);
            }
            if let Some(rv) = &self.resource_version {
                v["preconditions"]["resourceVersion"] = json!(rv);
            }
        }
        if dry {
            v["dryRun"] = json!(["All"]);
        }
        v
    }

    fn from_value(v: &Value) -> ApiResult<Self> {
        let mut o = Self { grace_period: v.get("gracePeriodSeconds").and_then(Value::as_i64), ..Self::default() };
        if let Some(p) = v.get("propagationPolicy").and_then(Value::as_str) {
            o.propagation = Some(parse_propagation(p)?);
        }
        if let Some(b) = v.get("orphanDependents").and_then(Value::as_bool) {
            if o.propagation.is_some() {
                return Err(ApiError::invalid(
                    "meta.k8s.io",
                    "DeleteOptions",
                    "",
                    &[FieldError::invalid(
                        "propagationPolicy",
                        p_str(o.propagation),
                        "orphanDependents and deletionPropagation cannot be both set",
                    )],
                ));
            }
            o.propagation = Some(if b { Propagation::Orphan } else { Propagation::Background });
            o.orphan_false = !b;
        }
        o.uid = v.pointer("/preconditions/uid").and_then(Value::as_str).map(String::from);
        o.resource_version = v.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(String::from);
        o.dry_run = v.get("dryRun").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x == "All"));
        Ok(o)
    }
}

fn p_str(p: Option<Propagation>) -> &'static str {
    match p {
        Some(Propagation::Orphan) => "Orphan",
        Some(Propagation::Background) => "Background",
        Some(Propagation::Foreground) => "Foreground",
        None => "",
    }
}

fn parse_propagation(p: &str) -> ApiResult<Propagation> {
    match p {
        "Orphan" => Ok(Propagation::Orphan),
        "Background" => Ok(Propagation::Background),
        "Foreground" => Ok(Propagation::Foreground),
        other => Err(ApiError::invalid(
            "meta.k8s.io",
            "DeleteOptions",
            "",
            &[FieldError::not_supported("propagationPolicy", other, &["Foreground", "Background", "Orphan"])],
        )),
    }
}

/// The grace period a delete gets: only pods bound to a node and not yet
/// finished are deleted gracefully; everything else at once.
fn graceful_period(r: &ResourceType, obj: &Value, asked: Option<i64>) -> i64 {
    if !(r.group.is_empty() && r.kind == "Pod") {
        return 0;
    }
    let bound = obj.pointer("/spec/nodeName").and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let phase = obj.pointer("/status/phase").and_then(Value::as_str).unwrap_or_default();
    if !bound || matches!(phase, "Succeeded" | "Failed") {
        return 0;
    }
    let g = asked.unwrap_or_else(|| obj.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30));
    // A negative grace period means 1 second, as upstream.
    if g < 0 { 1 } else { g }
}

fn delete_reply(r: &ResourceType, obj: &Value, deleted: bool, opts: &DeleteOptions) -> Reply {
    if !deleted {
        let code = if opts.orphan_false { 202 } else { 200 };
        return Reply::Json { code, body: obj.clone(), warnings: Vec::new() };
    }
    if r.return_deleted_object {
        return Reply::ok(obj.clone());
    }
    let mut details = json!({"name": meta::name(obj), "kind": r.plural, "uid": meta::uid(obj)});
    if !r.group.is_empty() {
        details["group"] = json!(r.group);
    }
    Reply::ok(success_status(Some(details)))
}

/// The CreateOptions or UpdateOptions of a request, as admission reviews carry them.
fn write_options(kind: &str, q: &Query) -> Value {
    let mut v = json!({"kind": kind, "apiVersion": "meta.k8s.io/v1"});
    if let Some(m) = q.some("fieldManager") {
        v["fieldManager"] = json!(m);
    }
    if q.some("dryRun").is_some() {
        v["dryRun"] = json!(["All"]);
    }
    if let Some(f) = q.some("fieldValidation") {
        v["fieldValidation"] = json!(f);
    }
    v
}

fn success_status(details: Option<Value>) -> Value {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"});
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

fn no_sub(t: &Target, s: &str) -> ApiError {
    ApiError::not_found(t.resource.group, &format!("{}/{s}", t.resource.plural), t.name.as_deref().unwrap_or_default())
}

/// The autoscaling/v1 Scale of a resource with a scale subresource.
fn to_scale(r: &ResourceType, obj: &Value) -> ApiResult<Value> {
    let selector = if r.kind == "ReplicationController" {
        // A plain label map.
        let set: std::collections::BTreeMap<String, String> =
            obj.pointer("/spec/selector").and_then(|s| serde_json::from_value(s.clone()).ok()).unwrap_or_default();
        Selector::from_set(&set).to_string()
    } else {
        let sel: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector> =
            obj.pointer("/spec/selector").and_then(|s| serde_json::from_value(s.clone()).ok());
        Selector::from_label_selector(sel.as_ref()).map(|s| s.to_string()).unwrap_or_default()
    };
    let m = meta::meta(obj).cloned().unwrap_or_default();
    let mut scale_meta = json!({});
    for k in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] {
        if let Some(v) = m.get(k) {
            scale_meta[k] = v.clone();
        }
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": selector},
    }))
}

/// The annotation in which apps/v1 shows a DaemonSet's template generation
/// (upstream's internal `spec.templateGeneration`, converted).
const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// A DaemonSet's template generation from its annotation, as the v1
/// conversion reads it (not a number: 400, as a failed conversion).
fn template_generation(obj: &Value) -> ApiResult<Option<i64>> {
    match obj.pointer("/metadata/annotations").and_then(|a| a.get(TEMPLATE_GENERATION)).and_then(Value::as_str) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("strconv.ParseInt: parsing {}: invalid syntax", rudder_common::field::go_quote(v)))),
    }
}

/// The annotation as the v1 conversion writes it (only a non-zero generation).
fn set_template_generation(obj: &mut Value, generation: i64) {
    let m = meta::meta_mut(obj);
    let annotations = m.entry("annotations").or_insert_with(|| json!({}));
    if let Some(a) = annotations.as_object_mut() {
        if generation == 0 {
            a.remove(TEMPLATE_GENERATION);
        } else {
            a.insert(TEMPLATE_GENERATION.into(), json!(generation.to_string()));
        }
    }
}

/// A delete's preconditions (uid, resourceVersion) against the stored object.
fn check_preconditions(r: &ResourceType, name: &str, old: &Value, opts: &DeleteOptions) -> ApiResult<()> {
    if let Some(uid) = &opts.uid
        && uid != meta::uid(old)
    {
        return Err(ApiError::conflict(
            r.group,
            r.plural,
            name,
            &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", meta::uid(old)),
        ));
    }
    if let Some(rv) = &opts.resource_version
        && *rv != store::rv_of(old).to_string()
    {
        return Err(ApiError::conflict(
            r.group,
            r.plural,
            name,
            &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}", store::rv_of(old)),
        ));
    }
    Ok(())
}

/// Sets a status condition, keeping lastTransitionTime when the status is unchanged.
pub fn set_condition(obj: &mut Value, kind: &str, status: &str, reason: Option<&str>, message: Option<&str>) {
    if !obj.get("status").is_some_and(Value::is_object) {
        obj["status"] = json!({});
    }
    let conds = obj["status"].as_object_mut().expect("status").entry("conditions").or_insert_with(|| json!([]));
    if !conds.is_array() {
        *conds = json!([]);
    }
    let list = conds.as_array_mut().expect("array");
    let now = meta::now();
    let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    if let Some(m) = message {
        c["message"] = json!(m);
    }
    match list.iter_mut().find(|x| x.get("type").and_then(Value::as_str) == Some(kind)) {
        Some(existing) => {
            if existing.get("status").and_then(Value::as_str) == Some(status) {
                c["lastTransitionTime"] = existing.get("lastTransitionTime").cloned().unwrap_or(json!(now));
            }
            *existing = c;
        }
        None => list.push(c),
    }
}

#[derive(Debug, Clone, Copy)]
enum PatchKind {
    Json,
    Merge,
    Strategic,
}

fn apply_patch(kind: PatchKind, base: &Value, patch: &Value, r: &ResourceType) -> ApiResult<Value> {
    match kind {
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("error decoding patch: a merge patch must be a JSON object"));
            }
            let mut out = base.clone();
            json_patch::merge(&mut out, patch);
            Ok(out)
        }
        PatchKind::Json => {
            let p: json_patch::Patch =
                serde_json::from_value(patch.clone()).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut out = base.clone();
            json_patch::patch(&mut out, &p).map_err(|e| ApiError::new(422, "Invalid", e.to_string()))?;
            Ok(out)
        }
        PatchKind::Strategic => {
            if !patch.is_object() {
                return Err(ApiError::bad_request("error decoding patch: a strategic merge patch must be a JSON object"));
            }
            crate::strategic::apply(base, patch, r.group, r.kind).map_err(|e| ApiError::new(e.code(), e.reason(), e.status_message()))
        }
    }
}

/// A pod's QoS class, as upstream computes it from requests and limits.
fn qos_class(pod: &Value) -> &'static str {
    let mut containers: Vec<&Value> = Vec::new();
    for k in ["/spec/containers", "/spec/initContainers"] {
        containers.extend(pod.pointer(k).and_then(Value::as_array).into_iter().flatten());
    }
    let get = |c: &Value, kind: &str, res: &str| c.pointer(&format!("/resources/{kind}/{res}")).and_then(Value::as_str).map(String::from);
    let mut any = false;
    let mut guaranteed = true;
    for c in &containers {
        for res in ["cpu", "memory"] {
            let (req, lim) = (get(c, "requests", res), get(c, "limits", res));
            any |= req.as_deref().is_some_and(|q| !is_zero(q)) || lim.as_deref().is_some_and(|q| !is_zero(q));
            // Requests default to limits, so a limit alone counts as equal.
            if lim.is_none() || req.as_ref().is_some_and(|r| Some(r) != lim.as_ref()) {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn is_zero(q: &str) -> bool {
    q.trim_start_matches('0').trim_start_matches('.').trim_start_matches('0').chars().next().is_none_or(|c| !c.is_ascii_digit())
}

fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|a| {
        let t = a.split(';').next().unwrap_or_default().trim();
        matches!(t, "application/json" | "*/*" | "application/*" | "" | "application/yaml" | "application/json;stream=watch")
    })
}

fn wants_table(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|a| a.contains("as=Table"))
}

/// What upstream's decoder refuses while converting a request's object to
/// the internal version: an autoscaling/v1 HPA whose round-trip annotations
/// do not decode (400 BadRequest).
fn check_decodes(r: &ResourceType, obj: &Value) -> ApiResult<()> {
    if r.group == "autoscaling" && r.version == "v1" && r.kind == "HorizontalPodAutoscaler" {
        crate::convert::hpa::check_v1(obj).map_err(ApiError::bad_request)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue(42, &("ns".into(), "b".into()));
        assert_eq!(decode_continue(&t).unwrap(), (42, ("ns".to_string(), "b".to_string())));
        assert!(decode_continue("garbage!").is_err());
    }

    #[test]
    fn unknown_fields_are_found_but_data_maps_are_not() {
        let input = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 1, "bogus": 2}});
        let out = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"replicas": 1}});
        let mut acc = Vec::new();
        unknown_fields(&input, &out, "", &mut acc);
        assert_eq!(acc, vec!["spec.bogus"]);
    }

    #[test]
    fn accept_headers() {
        assert!(accepts_json("application/json"));
        assert!(accepts_json("application/vnd.kubernetes.protobuf, */*"));
        assert!(!accepts_json("application/vnd.kubernetes.protobuf"));
        assert!(wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    }

    #[test]
    fn only_bound_running_pods_are_deleted_gracefully() {
        let pods = registry::find("", "v1", "pods").unwrap();
        let cms = registry::find("", "v1", "configmaps").unwrap();
        let bound = json!({"spec": {"nodeName": "n"}, "status": {"phase": "Running"}});
        assert_eq!(graceful_period(pods, &bound, None), 30);
        assert_eq!(graceful_period(pods, &bound, Some(0)), 0);
        assert_eq!(graceful_period(pods, &json!({"spec": {}}), None), 0);
        assert_eq!(graceful_period(cms, &bound, None), 0);
    }
}

#[cfg(test)]
mod list_body_tests {
    use super::*;

    #[test]
    fn a_list_body_is_the_head_and_the_items() {
        let head = json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}});
        let empty: Value = serde_json::from_slice(&list_body(&head, &[])).unwrap();
        assert_eq!(empty, json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "7"}, "items": []}));
        let items = vec![Arc::new(json!({"metadata": {"name": "a"}})), Arc::new(json!({"metadata": {"name": "b\"c"}}))];
        let two: Value = serde_json::from_slice(&list_body(&head, &items)).unwrap();
        assert_eq!(two["items"], json!([{"metadata": {"name": "a"}}, {"metadata": {"name": "b\"c"}}]));
        assert_eq!(two["metadata"]["resourceVersion"], "7");
    }
}
