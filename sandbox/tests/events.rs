//! Conformance: core `v1` Events and `events.k8s.io/v1` Events are two views
//! of one storage, converted as kube-apiserver converts them: an Event
//! written through either API is got, listed, watched (with each API's
//! field selectors), patched and deleted through the other; each API
//! validates as upstream does.

mod util;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::events::v1 as events;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use rudder_common::events::{EventType, Recorder};
use serde_json::{Value, json};
use util::{eventually, raw, start, status};

const EVENT_TIME: &str = "2026-01-02T03:04:05.123456Z";

/// An Event as Rudder's recorder makes it (events.k8s.io/v1).
fn recorded(name: &str, regarding: &str) -> events::Event {
    serde_json::from_value(json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "eventTime": EVENT_TIME,
        "reportingController": "replicaset-controller",
        "reportingInstance": "replicaset-controller-host-a",
        "action": "Create", "reason": "SuccessfulCreate", "type": "Normal",
        "note": format!("Created pod: {regarding}-x"),
        "regarding": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "namespace": "default", "name": regarding, "uid": "u-1"},
        "related": {"apiVersion": "v1", "kind": "Pod", "namespace": "default", "name": format!("{regarding}-x")},
    }))
    .expect("an Event")
}

/// An Event as a legacy (core/v1) recorder makes it.
fn legacy(name: &str, pod: &str) -> core::Event {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "default", "name": pod, "fieldPath": "spec.containers{app}"},
        "reason": "Pulled", "message": "Container image \"nginx\" already present", "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-01-02T03:04:05Z", "lastTimestamp": "2026-01-02T03:09:05Z", "count": 4,
    }))
    .expect("an Event")
}

/// The names of the Events a field selector selects, through `api`.
async fn names<K>(api: &Api<K>, selector: &str) -> Vec<String>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.list(&ListParams::default().fields(selector))
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.meta().name.clone().unwrap_or_default())
        .collect()
}

fn apis(c: &kube::Client) -> (Api<events::Event>, Api<core::Event>) {
    (Api::default_namespaced(c.clone()), Api::default_namespaced(c.clone()))
}

#[tokio::test]
async fn an_event_recorded_through_events_k8s_io_is_a_core_event() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    let made = new.create(&PostParams::default(), &recorded("web.1", "web")).await.unwrap();
    assert_eq!(made.note.as_deref(), Some("Created pod: web-x"));
    assert_eq!(made.regarding.as_ref().and_then(|r| r.name.as_deref()), Some("web"));

    let e = old.get("web.1").await.unwrap();
    assert_eq!(e.metadata.resource_version, made.metadata.resource_version, "one object, one resourceVersion");
    assert_eq!(e.metadata.uid, made.metadata.uid);
    let io = &e.involved_object;
    assert_eq!(
        (io.api_version.as_deref(), io.kind.as_deref(), io.namespace.as_deref(), io.name.as_deref(), io.uid.as_deref()),
        (Some("apps/v1"), Some("ReplicaSet"), Some("default"), Some("web"), Some("u-1"))
    );
    assert_eq!(e.message.as_deref(), Some("Created pod: web-x"));
    assert_eq!(e.reporting_component.as_deref(), Some("replicaset-controller"));
    assert_eq!(e.reporting_instance.as_deref(), Some("replicaset-controller-host-a"));
    assert_eq!((e.reason.as_deref(), e.action.as_deref(), e.type_.as_deref()), (Some("SuccessfulCreate"), Some("Create"), Some("Normal")));
    assert_eq!(e.event_time.as_ref().map(|t| t.0.to_string()), Some(EVENT_TIME.to_string()));
    assert_eq!(e.related.as_ref().and_then(|r| r.name.as_deref()), Some("web-x"));
    assert_eq!((e.count, e.first_timestamp.as_ref(), e.last_timestamp.as_ref()), (None, None, None));

    // As JSON: Go's encoding of the core type (source and reportingComponent always there).
    let (code, body) = raw(&c, "GET", "/api/v1/namespaces/default/events/web.1", "", "").await;
    assert_eq!(code, 200);
    assert_eq!((body["apiVersion"].as_str(), body["kind"].as_str()), (Some("v1"), Some("Event")));
    assert_eq!(body["source"], json!({}));
    for gone in ["regarding", "note", "reportingController", "deprecatedSource"] {
        assert!(body.get(gone).is_none(), "{gone} is not a core field: {body}");
    }

    let list = old.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].message.as_deref(), Some("Created pod: web-x"));

    // A watch through core from the beginning sees it, converted.
    let mut w = old.watch(&WatchParams::default(), "0").await.unwrap().boxed();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Added(e)) => assert_eq!(e.involved_object.name.as_deref(), Some("web")),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

#[tokio::test]
async fn a_core_event_reads_through_events_k8s_io() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    old.create(&PostParams::default(), &legacy("p.1", "p")).await.unwrap();
    let e = new.get("p.1").await.unwrap();
    let src = e.deprecated_source.as_ref().expect("deprecatedSource");
    assert_eq!((src.component.as_deref(), src.host.as_deref()), (Some("kubelet"), Some("node-1")));
    assert_eq!(e.deprecated_count, Some(4));
    assert_eq!(e.deprecated_first_timestamp.as_ref().map(|t| t.0.to_string()), Some("2026-01-02T03:04:05Z".to_string()));
    assert_eq!(e.deprecated_last_timestamp.as_ref().map(|t| t.0.to_string()), Some("2026-01-02T03:09:05Z".to_string()));
    assert_eq!(e.note.as_deref(), Some("Container image \"nginx\" already present"));
    let r = e.regarding.as_ref().expect("regarding");
    assert_eq!((r.kind.as_deref(), r.name.as_deref(), r.field_path.as_deref()), (Some("Pod"), Some("p"), Some("spec.containers{app}")));
    // An empty reportingComponent is no reportingController (omitempty).
    let (_, body) = raw(&c, "GET", "/apis/events.k8s.io/v1/namespaces/default/events/p.1", "", "").await;
    assert_eq!((body["apiVersion"].as_str(), body["kind"].as_str()), (Some("events.k8s.io/v1"), Some("Event")));
    assert!(body.get("reportingController").is_none() && body.get("reportingInstance").is_none(), "{body}");
    for gone in ["involvedObject", "message", "source", "count", "reportingComponent"] {
        assert!(body.get(gone).is_none(), "{gone} is not an events.k8s.io field: {body}");
    }
    let list = new.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.types.api_version, "events.k8s.io/v1");
}

#[tokio::test]
async fn field_selectors_use_each_apis_field_names() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    new.create(&PostParams::default(), &recorded("web.1", "web")).await.unwrap();
    new.create(&PostParams::default(), &recorded("db.1", "db")).await.unwrap();
    old.create(&PostParams::default(), &legacy("web-x.1", "web-x")).await.unwrap();

    assert_eq!(names(&old, "involvedObject.name=web").await, ["web.1"]);
    assert_eq!(names(&old, "involvedObject.kind=ReplicaSet,reason=SuccessfulCreate").await, ["db.1", "web.1"]);
    assert_eq!(names(&old, "reportingComponent=replicaset-controller").await, ["db.1", "web.1"]);
    // source: the source component, else the reporting controller.
    assert_eq!(names(&old, "source=kubelet").await, ["web-x.1"]);
    assert_eq!(names(&old, "source=replicaset-controller").await, ["db.1", "web.1"]);
    assert_eq!(names(&new, "regarding.name=web").await, ["web.1"]);
    assert_eq!(names(&new, "regarding.kind=Pod").await, ["web-x.1"]);
    assert_eq!(names(&new, "reportingController=replicaset-controller,type=Normal").await, ["db.1", "web.1"]);
    assert_eq!(names(&new, "source=kubelet").await, ["web-x.1"]);

    let e = status(old.list(&ListParams::default().fields("regarding.name=web")).await.unwrap_err());
    assert_eq!((e.code, e.message.as_str()), (400, "field label not supported: regarding.name"));
    let e = status(new.list(&ListParams::default().fields("involvedObject.name=web")).await.unwrap_err());
    assert_eq!((e.code, e.message.as_str()), (400, "field label not supported: involvedObject.name"));

    // Watches select with the same names.
    let mut w = new.watch(&WatchParams::default().fields("regarding.name=db"), "0").await.unwrap().boxed();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Added(e)) => assert_eq!(e.metadata.name.as_deref(), Some("db.1")),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

#[tokio::test]
async fn a_series_patched_through_one_api_is_seen_through_the_other() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    let made = new.create(&PostParams::default(), &recorded("web.1", "web")).await.unwrap();
    let rv = made.metadata.resource_version.clone().unwrap();
    let mut core_watch = old.watch(&WatchParams::default(), &rv).await.unwrap().boxed();

    // What the recorder sends when the event repeats.
    let series = json!({"series": {"count": 2, "lastObservedTime": "2026-01-02T03:06:05.000000Z"}});
    let patched = new.patch("web.1", &PatchParams::default(), &Patch::Strategic(&series)).await.unwrap();
    assert_eq!(patched.series.as_ref().map(|s| s.count), Some(2));
    let e = old.get("web.1").await.unwrap();
    let s = e.series.as_ref().expect("series");
    assert_eq!((s.count, s.last_observed_time.as_ref().map(|t| t.0.to_string())), (Some(2), Some("2026-01-02T03:06:05Z".to_string())));
    match core_watch.try_next().await.unwrap() {
        Some(WatchEvent::Modified(e)) => assert_eq!(e.series.and_then(|s| s.count), Some(2)),
        other => panic!("expected MODIFIED, got {other:?}"),
    }

    // A merge patch through core; events.k8s.io sees it.
    old.patch("web.1", &PatchParams::default(), &Patch::Merge(json!({"series": {"count": 3}}))).await.unwrap();
    let e = new.get("web.1").await.unwrap();
    assert_eq!(e.series.map(|s| s.count), Some(3));
    let e = old.get("web.1").await.unwrap();
    assert!(e.metadata.resource_version > made.metadata.resource_version);

    // events.k8s.io keeps what was reported; core/v1 does not check.
    let e = status(new.patch("web.1", &PatchParams::default(), &Patch::Merge(json!({"note": "changed"}))).await.unwrap_err());
    assert_eq!((e.code, e.message.as_str()), (422, "Event \"web.1\" is invalid: message: Invalid value: \"changed\": field is immutable"));
    let changed = old.patch("web.1", &PatchParams::default(), &Patch::Merge(json!({"message": "changed"}))).await.unwrap();
    assert_eq!(changed.message.as_deref(), Some("changed"));
    assert_eq!(new.get("web.1").await.unwrap().note.as_deref(), Some("changed"));
}

#[tokio::test]
async fn a_delete_through_one_api_is_seen_through_both() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    let made = new.create(&PostParams::default(), &recorded("web.1", "web")).await.unwrap();
    let rv = made.metadata.resource_version.clone().unwrap();
    let mut w = new.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    old.delete("web.1", &DeleteParams::default()).await.unwrap();
    let e = status(new.get("web.1").await.unwrap_err());
    assert_eq!((e.code, e.message.as_str()), (404, "events.events.k8s.io \"web.1\" not found"));
    assert!(old.get_opt("web.1").await.unwrap().is_none());
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Deleted(e)) => assert_eq!(e.note.as_deref(), Some("Created pod: web-x")),
        other => panic!("expected DELETED, got {other:?}"),
    }
    // And the other way; Events take no part in garbage collection, so a
    // foreground delete deletes at once.
    old.create(&PostParams::default(), &legacy("p.1", "p")).await.unwrap();
    new.delete("p.1", &DeleteParams::foreground()).await.unwrap();
    assert!(old.get_opt("p.1").await.unwrap().is_none());
    old.create(&PostParams::default(), &legacy("p.2", "p")).await.unwrap();
    new.delete_collection(&DeleteParams::default(), &ListParams::default().fields("regarding.name=p")).await.unwrap();
    assert!(old.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn each_api_validates_as_upstream() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    // Without eventTime, reporting controller and action: fine for core/v1 ...
    let bare = json!({
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "bare.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Something",
    });
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/events", "application/json", &bare.to_string()).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!((body["reportingComponent"].as_str(), body["reportingInstance"].as_str()), (Some(""), Some("")));
    // ... but not for events.k8s.io/v1.
    let strict = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "bare.2", "namespace": "default"},
        "regarding": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "Something", "type": "Normal",
    });
    let (code, body) = raw(&c, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", "application/json", &strict.to_string()).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["message"], "Event \"bare.2\" is invalid: eventTime: Required value");
    assert_eq!(body["details"]["kind"], "Event");
    assert!(body["details"].get("group").is_none(), "{body}");

    // A new-style event through core/v1 needs what events.k8s.io fills in,
    // named by core's field names.
    let mut timed = bare.clone();
    timed["metadata"]["name"] = json!("timed.1");
    timed["eventTime"] = json!(EVENT_TIME);
    let (code, body) = raw(&c, "POST", "/api/v1/namespaces/default/events", "application/json", &timed.to_string()).await;
    assert_eq!(code, 422, "{body}");
    let fields: Vec<&str> = body["details"]["causes"].as_array().unwrap().iter().filter_map(|c| c["field"].as_str()).collect();
    assert_eq!(fields, ["reportingComponent", "reportingComponent", "reportingComponent", "reportingInstance", "action"]);

    // A series needs a count of 2 and a last observed time.
    let mut ev = recorded("s.1", "s");
    ev.series = None;
    let mut v = serde_json::to_value(&ev).unwrap();
    v["series"] = json!({"count": 1});
    let (code, body) = raw(&c, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", "application/json", &v.to_string()).await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Event \"s.1\" is invalid: [series.count: Invalid value: \"\": should be at least 2, series.lastObservedTime: Required value]"
    );
    // Decoding errors name the request's type.
    let (code, body) = raw(
        &c,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/default/events",
        "application/json",
        r#"{"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "x"}, "note": 5}"#,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert_eq!(
        body["message"],
        "Event in version \"v1\" cannot be handled as a Event: json: cannot unmarshal number into Go struct field Event.note of type string"
    );
    assert!(new.get_opt("s.1").await.unwrap().is_none() && old.get_opt("bare.1").await.unwrap().is_some());
}

#[tokio::test]
async fn the_recorders_series_lands_in_core_events() {
    let (_s, c) = start().await;
    let (_, old) = apis(&c);
    let recorder = Recorder::new(c.clone(), "replicaset-controller", "replicaset-controller-test");
    let regarding = core::ObjectReference {
        api_version: Some("apps/v1".into()),
        kind: Some("ReplicaSet".into()),
        namespace: Some("default".into()),
        name: Some("web".into()),
        uid: Some("u-1".into()),
        ..Default::default()
    };
    for _ in 0..3 {
        recorder.publish(&regarding, None, EventType::Normal, "SuccessfulCreate", "Create", "Created pod: web-x");
    }
    recorder.flush().await;
    let e = eventually(10, "the series in core/v1", || async {
        let list = old.list(&ListParams::default().fields("involvedObject.name=web,involvedObject.kind=ReplicaSet")).await.ok()?;
        list.items.into_iter().find(|e| e.series.as_ref().and_then(|s| s.count) == Some(3))
    })
    .await;
    assert_eq!(e.reporting_component.as_deref(), Some("replicaset-controller"));
    assert_eq!(e.message.as_deref(), Some("Created pod: web-x"));
}

#[tokio::test]
async fn managed_fields_keep_their_version_and_ownership_crosses_versions() {
    let (_s, c) = start().await;
    let (new, old) = apis(&c);
    new.create(&PostParams { field_manager: Some("recorder".into()), ..Default::default() }, &recorded("web.1", "web")).await.unwrap();
    let e = old.get("web.1").await.unwrap();
    let mf = e.metadata.managed_fields.unwrap_or_default();
    assert_eq!(mf.len(), 1);
    assert_eq!((mf[0].manager.as_deref(), mf[0].api_version.as_deref()), (Some("recorder"), Some("events.k8s.io/v1")));
    let fields = serde_json::to_value(&mf[0].fields_v1).unwrap();
    assert!(fields["f:note"].is_object(), "written through events.k8s.io: {fields}");
    // A core/v1 update of the message takes it from the events.k8s.io manager.
    old.patch(
        "web.1",
        &PatchParams { field_manager: Some("editor".into()), ..Default::default() },
        &Patch::Merge(json!({"message": "edited"})),
    )
    .await
    .unwrap();
    let e = old.get("web.1").await.unwrap();
    let mf = e.metadata.managed_fields.unwrap_or_default();
    let by = |m: &str| -> Value {
        serde_json::to_value(&mf.iter().find(|x| x.manager.as_deref() == Some(m)).expect("manager").fields_v1).unwrap()
    };
    assert!(by("recorder").get("f:note").is_none(), "{:?}", by("recorder"));
    assert!(by("editor")["f:message"].is_object(), "{:?}", by("editor"));
    // Applying the note through events.k8s.io conflicts with the core/v1 manager, in the applier's names.
    let config = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.1"}, "note": "applied"});
    let e = status(new.patch("web.1", &PatchParams::apply("applier"), &Patch::Apply(&config)).await.unwrap_err());
    assert_eq!((e.code, e.message.as_str()), (409, "Apply failed with 1 conflict: conflict with \"editor\" using v1: .note"));
}
