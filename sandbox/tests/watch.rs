//! Conformance: list (selectors, pagination, resourceVersion) and watch
//! (from a resourceVersion, bookmarks, initial events, 410 Gone), and
//! kube-runtime's watcher and reflector against the sandbox.

mod util;

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::json;
use util::{eventually, raw, start, status};

fn cm(name: &str, labels: serde_json::Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}})).unwrap()
}

fn pod(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "w"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap()
}

fn rv(o: &impl kube::Resource) -> String {
    o.meta().resource_version.clone().unwrap()
}

#[tokio::test]
async fn label_selectors() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    for (n, l) in [
        ("a", json!({"app": "web", "tier": "fe"})),
        ("b", json!({"app": "web", "tier": "be"})),
        ("c", json!({"app": "db"})),
        ("d", json!({})),
    ] {
        cms.create(&PostParams::default(), &cm(n, l)).await.unwrap();
    }
    let names = |sel: &'static str| {
        let cms = cms.clone();
        async move {
            let mut v: Vec<String> =
                cms.list(&ListParams::default().labels(sel)).await.unwrap().items.into_iter().map(|c| c.metadata.name.unwrap()).collect();
            v.sort();
            v
        }
    };
    assert_eq!(names("app=web").await, ["a", "b"]);
    assert_eq!(names("app==web").await, ["a", "b"]);
    assert_eq!(names("app!=web").await, ["c", "d"]);
    assert_eq!(names("tier in (fe,x)").await, ["a"]);
    assert_eq!(names("tier notin (fe)").await, ["b", "c", "d"]);
    assert_eq!(names("tier").await, ["a", "b"]);
    assert_eq!(names("!tier").await, ["c", "d"]);
    assert_eq!(names("app=web,tier=be").await, ["b"]);
    let e = status(cms.list(&ListParams::default().labels("app in (")).await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (400, "BadRequest"));
}

#[tokio::test]
async fn field_selectors() {
    let (_s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c.clone());
    for n in ["a", "b"] {
        pods.create(&PostParams::default(), &pod(n)).await.unwrap();
    }
    let got = pods.list(&ListParams::default().fields("metadata.name=b")).await.unwrap();
    assert_eq!(got.items.len(), 1);
    let got = pods.list(&ListParams::default().fields("spec.nodeName=")).await.unwrap();
    assert_eq!(got.items.len(), 2, "unscheduled pods have an empty nodeName");
    let got = pods.list(&ListParams::default().fields("metadata.name!=b,metadata.namespace=default")).await.unwrap();
    assert_eq!(got.items.len(), 1);
    let e = status(pods.list(&ListParams::default().fields("spec.bogus=x")).await.unwrap_err());
    assert_eq!(e.code, 400);
    assert_eq!(e.message, "field label not supported: spec.bogus");
}

#[tokio::test]
async fn pagination_is_consistent() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    for i in 0..10 {
        cms.create(&PostParams::default(), &cm(&format!("c{i:02}"), json!({}))).await.unwrap();
    }
    let first = cms.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(first.items.len(), 4);
    assert_eq!(first.metadata.remaining_item_count, Some(6));
    let token = first.metadata.continue_.clone().unwrap();
    // Changes after the first page do not show in later pages.
    cms.create(&PostParams::default(), &cm("c99", json!({}))).await.unwrap();
    cms.delete("c09", &DeleteParams::default()).await.unwrap();
    let mut names: Vec<String> = first.items.iter().map(|c| c.metadata.name.clone().unwrap()).collect();
    let mut token = Some(token);
    while let Some(t) = token {
        let page = cms.list(&ListParams::default().limit(4).continue_token(&t)).await.unwrap();
        assert_eq!(page.metadata.resource_version, first.metadata.resource_version);
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
    }
    let want: Vec<String> = (0..10).map(|i| format!("c{i:02}")).collect();
    assert_eq!(names, want);
}

#[tokio::test]
async fn list_resource_version_semantics() {
    let (s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    let a = cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    cms.create(&PostParams::default(), &cm("b", json!({}))).await.unwrap();
    // Exact: the state as it was at that version.
    let (code, body) =
        raw(&c, "GET", &format!("/api/v1/namespaces/default/configmaps?resourceVersion={}&resourceVersionMatch=Exact", rv(&a)), "", "")
            .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    // resourceVersionMatch without resourceVersion is invalid.
    let (code, _) = raw(&c, "GET", "/api/v1/namespaces/default/configmaps?resourceVersionMatch=NotOlderThan", "", "").await;
    assert_eq!(code, 422);
    // A version from the future times out as upstream's "Too large resource version".
    // (kube-rs retries 504 itself: ask with a client that does not.)
    let no_retry = util::no_retry(&s);
    let (code, body) =
        raw(&no_retry, "GET", "/api/v1/namespaces/default/configmaps?resourceVersion=99999999&resourceVersionMatch=NotOlderThan", "", "")
            .await;
    assert_eq!(code, 504, "{body}");
    // Exact at a compacted version is 410 Expired.
    s.store().compact();
    let (code, body) =
        raw(&c, "GET", &format!("/api/v1/namespaces/default/configmaps?resourceVersion={}&resourceVersionMatch=Exact", rv(&a)), "", "")
            .await;
    assert_eq!((code, body["reason"].as_str()), (410, Some("Expired")), "{body}");
}

#[tokio::test]
async fn watch_from_resource_version_replays_then_follows() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let a = cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    cms.create(&PostParams::default(), &cm("b", json!({"x": "1"}))).await.unwrap();
    let mut w = cms.watch(&WatchParams::default().timeout(10), &rv(&a)).await.unwrap().boxed();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("{other:?}"),
    }
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Deleted(o) => {
            assert_eq!(o.metadata.name.as_deref(), Some("a"));
            assert!(rv(&o).parse::<u64>().unwrap() > rv(&a).parse::<u64>().unwrap(), "a deletion carries its own resourceVersion");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn watch_with_selector_sees_objects_leave_and_enter() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let a = cms.create(&PostParams::default(), &cm("a", json!({"app": "web"}))).await.unwrap();
    let mut w = cms.watch(&WatchParams::default().labels("app=web").timeout(10), &rv(&a)).await.unwrap().boxed();
    let mut changed = a.clone();
    changed.metadata.labels = Some([("app".to_string(), "db".to_string())].into());
    let changed = cms.replace("a", &PostParams::default(), &changed).await.unwrap();
    assert!(matches!(w.try_next().await.unwrap().unwrap(), WatchEvent::Deleted(_)));
    let mut back = changed;
    back.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
    cms.replace("a", &PostParams::default(), &back).await.unwrap();
    assert!(matches!(w.try_next().await.unwrap().unwrap(), WatchEvent::Added(_)));
}

#[tokio::test]
async fn watch_from_a_compacted_version_is_410_gone() {
    let (s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c);
    let a = cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    cms.create(&PostParams::default(), &cm("b", json!({}))).await.unwrap();
    s.store().compact();
    let mut w = cms.watch(&WatchParams::default().timeout(10), &rv(&a)).await.unwrap().boxed();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
            assert!(e.message.starts_with("too old resource version"), "{}", e.message);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn watch_sends_bookmarks() {
    let cfg = rudder_sandbox::Config {
        api: rudder_sandbox::Options { bookmark_interval: Duration::from_millis(200), ..Default::default() },
        ..Default::default()
    };
    let s = rudder_sandbox::Sandbox::start_with(cfg).await.unwrap();
    let cms: Api<ConfigMap> = Api::default_namespaced(s.client().unwrap());
    let a = cms.create(&PostParams::default(), &cm("a", json!({}))).await.unwrap();
    let mut w = cms.watch(&WatchParams::default().timeout(10), &rv(&a)).await.unwrap().boxed();
    cms.create(&PostParams::default(), &cm("b", json!({}))).await.unwrap();
    let mut seen_added = false;
    loop {
        match w.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(_) => seen_added = true,
            WatchEvent::Bookmark(b) => {
                assert!(seen_added, "a bookmark never runs ahead of an event");
                assert!(b.metadata.resource_version.parse::<u64>().unwrap() >= rv(&a).parse::<u64>().unwrap());
                break;
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn send_initial_events_ends_with_the_marker_bookmark() {
    let (_s, c) = start().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    for n in ["a", "b"] {
        cms.create(&PostParams::default(), &cm(n, json!({}))).await.unwrap();
    }
    let wp = WatchParams::streaming_lists().timeout(10);
    let mut w = cms.watch(&wp, "").await.unwrap().boxed();
    let mut added = 0;
    loop {
        match w.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(_) => added += 1,
            WatchEvent::Bookmark(b) => {
                assert_eq!(b.metadata.annotations.get("k8s.io/initial-events-end").map(String::as_str), Some("true"));
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(added, 2);
    // Without resourceVersionMatch=NotOlderThan it is refused.
    let (code, _) =
        raw(&c, "GET", "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true", "", "").await;
    assert_eq!(code, 422);
}

/// The reflector survives a forced 410 and converges to the same store as a fresh list.
async fn reflector_survives_410(config: watcher::Config) {
    let (s, c) = start().await;
    let pods: Api<Pod> = Api::default_namespaced(c);
    for i in 0..5 {
        pods.create(&PostParams::default(), &pod(&format!("p{i}"))).await.unwrap();
    }
    let (reader, writer) = reflector::store::<Pod>();
    let inits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = inits.clone();
    let stream = watcher(pods.clone(), config).default_backoff().reflect(writer).map_ok(move |e| {
        if matches!(e, watcher::Event::Init) {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let task = tokio::spawn(stream.for_each(|_| async {}));
    eventually(10, "initial sync", || async { (reader.state().len() == 5).then_some(()) }).await;

    // Forget history and end the watch with 410 Expired: the watcher must relist.
    s.store().compact_and_expire_watches();
    for i in 5..8 {
        pods.create(&PostParams::default(), &pod(&format!("p{i}"))).await.unwrap();
    }
    pods.delete("p0", &DeleteParams::default()).await.unwrap();
    eventually(15, "a relist after 410", || async { (inits.load(std::sync::atomic::Ordering::SeqCst) >= 2).then_some(()) }).await;
    pods.delete("p1", &DeleteParams::default()).await.unwrap();

    let fresh = pods.list(&ListParams::default()).await.unwrap();
    let mut want: Vec<(String, String)> = fresh.items.iter().map(|p| (p.metadata.name.clone().unwrap(), rv(p))).collect();
    want.sort();
    eventually(10, "the reflector to match a fresh list", || {
        let reader = reader.clone();
        let want = want.clone();
        async move {
            let mut got: Vec<(String, String)> =
                reader.state().iter().map(|p| (p.metadata.name.clone().unwrap(), rv(p.as_ref()))).collect();
            got.sort();
            (got == want).then_some(())
        }
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn reflector_survives_410_with_list_watch() {
    reflector_survives_410(watcher::Config::default()).await;
}

#[tokio::test]
async fn reflector_survives_410_with_streaming_lists() {
    reflector_survives_410(watcher::Config::default().streaming_lists()).await;
}
