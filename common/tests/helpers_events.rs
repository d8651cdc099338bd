//! `rudder_common::events::Recorder` against the sandbox: events.k8s.io/v1
//! Events, series for isomorphic events, and publishing that never blocks.

use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Client, ResourceExt};
use rudder_common::events::{EventType, Recorder, RecorderOptions};
use rudder_sandbox::testing::{eventually, start};

const CONTROLLER: &str = "replicaset-controller";
const INSTANCE: &str = "replicaset-controller-test";

fn rs_ref(ns: &str, name: &str) -> ObjectReference {
    ObjectReference {
        api_version: Some("apps/v1".into()),
        kind: Some("ReplicaSet".into()),
        namespace: Some(ns.into()),
        name: Some(name.into()),
        uid: Some(format!("{name}-uid")),
        ..Default::default()
    }
}

/// The Events of our controller in `ns`, sorted by name.
async fn our_events(client: &Client, ns: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    let mut evs: Vec<Event> = api
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.reporting_controller.as_deref() == Some(CONTROLLER))
        .collect();
    evs.sort_by_key(|e| e.name_any());
    evs
}

fn count(e: &Event) -> Option<i32> {
    e.series.as_ref().map(|s| s.count)
}

#[tokio::test]
async fn isomorphic_events_become_one_series() {
    let (_sandbox, client) = start().await;
    let recorder = Recorder::new(client.clone(), CONTROLLER, INSTANCE);
    let web = rs_ref("default", "web");
    recorder.publish(&web, None, EventType::Normal, "SuccessfulCreate", "Create", "Created pod: web-abc");
    recorder.publish(&web, None, EventType::Normal, "SuccessfulCreate", "Create", "Created pod: web-abc");
    recorder.flush().await;
    let evs = eventually(10, "one Event with series.count 2", || async {
        let evs = our_events(&client, "default").await;
        (evs.len() == 1 && count(&evs[0]) == Some(2)).then_some(evs)
    })
    .await;
    let e = &evs[0];
    assert!(e.name_any().starts_with("web."), "{}", e.name_any());
    assert_eq!(e.regarding.as_ref(), Some(&web));
    assert_eq!(e.reason.as_deref(), Some("SuccessfulCreate"));
    assert_eq!(e.action.as_deref(), Some("Create"));
    assert_eq!(e.note.as_deref(), Some("Created pod: web-abc"));
    assert_eq!(e.type_.as_deref(), Some("Normal"));
    assert_eq!(e.reporting_instance.as_deref(), Some(INSTANCE));
    assert!(e.event_time.is_some());
    let series = e.series.as_ref().expect("series");
    assert!(e.event_time.as_ref().is_some_and(|t| t.0 <= series.last_observed_time.0));

    // Another reason is another Event.
    recorder.publish(&web, None, EventType::Warning, "FailedCreate", "Create", "quota exceeded");
    recorder.flush().await;
    let evs = eventually(10, "a second Event", || async {
        let evs = our_events(&client, "default").await;
        (evs.len() == 2).then_some(evs)
    })
    .await;
    let failed = evs.iter().find(|e| e.reason.as_deref() == Some("FailedCreate")).expect("FailedCreate event");
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(failed.series.is_none());

    // A third repeat is counted in the cache and written by flush.
    recorder.publish(&web, None, EventType::Normal, "SuccessfulCreate", "Create", "Created pod: web-abc");
    recorder.flush().await;
    eventually(10, "series.count 3", || async {
        let evs = our_events(&client, "default").await;
        let created = evs.iter().find(|e| e.reason.as_deref() == Some("SuccessfulCreate"))?;
        (evs.len() == 2 && count(created) == Some(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn namespaces_related_objects_and_recreated_series() {
    let (_sandbox, client) = start().await;
    let recorder = Recorder::new(client.clone(), CONTROLLER, INSTANCE);
    // A cluster-scoped object reports to the default namespace.
    let node = ObjectReference { api_version: Some("v1".into()), kind: Some("Node".into()), name: Some("n1".into()), ..Default::default() };
    let pod = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        namespace: Some("kube-system".into()),
        name: Some("p".into()),
        ..Default::default()
    };
    recorder.publish(&node, Some(&pod), EventType::Normal, "Scheduled", "Binding", "assigned kube-system/p to n1");
    // Events land in the regarding object's namespace.
    recorder.publish(&pod, None, EventType::Normal, "Killing", "Delete", "stopping");
    recorder.flush().await;
    let on_node = eventually(10, "the node's Event in default", || async {
        let evs = our_events(&client, "default").await;
        (evs.len() == 1).then_some(evs)
    })
    .await;
    assert!(on_node[0].name_any().starts_with("n1."));
    assert_eq!(on_node[0].related.as_ref(), Some(&pod));
    eventually(10, "the pod's Event in kube-system", || async {
        let evs = our_events(&client, "kube-system").await;
        (evs.len() == 1 && evs[0].name_any().starts_with("p.")).then_some(())
    })
    .await;

    // When the Event of a series is gone, the series write creates it again.
    let name = on_node[0].name_any();
    let api: Api<Event> = Api::namespaced(client.clone(), "default");
    api.delete(&name, &DeleteParams::default()).await.expect("delete");
    recorder.publish(&node, Some(&pod), EventType::Normal, "Scheduled", "Binding", "assigned kube-system/p to n1");
    recorder.flush().await;
    eventually(10, "the Event recreated with its series", || async {
        let e = api.get_opt(&name).await.ok().flatten()?;
        (count(&e) == Some(2)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn publishing_never_blocks_or_fails() {
    let (sandbox, client) = start().await;
    let options = RecorderOptions { queue_capacity: 2, retry_sleep: Duration::from_millis(10), max_tries: 2, ..Default::default() };
    let recorder = Recorder::with_options(client.clone(), CONTROLLER, INSTANCE, options);
    let web = rs_ref("default", "web");
    // Far more than the queue holds: the surplus is dropped, publish returns.
    for i in 0..200 {
        recorder.publish(&web, None, EventType::Normal, "Burst", "Create", &format!("event {i}"));
    }
    recorder.flush().await;
    let evs = eventually(10, "some burst events", || async {
        let evs = our_events(&client, "default").await;
        (!evs.is_empty()).then_some(evs)
    })
    .await;
    assert!(evs.len() < 200, "{} events", evs.len());

    // With the API server gone, publishing still returns and flush still finishes.
    sandbox.stop().await;
    recorder.publish(&web, None, EventType::Warning, "Unreachable", "Create", "nobody listens");
    recorder.publish(&web, None, EventType::Warning, "Unreachable", "Create", "nobody listens");
    recorder.flush().await;
    drop(recorder);
}

#[test]
fn a_recorder_outside_a_runtime_drops_events_quietly() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (sandbox, client) = rt.block_on(start());
    let recorder = std::thread::spawn(move || {
        let recorder = Recorder::new(client, CONTROLLER, INSTANCE);
        recorder.publish(&rs_ref("default", "web"), None, EventType::Normal, "R", "A", "dropped");
        recorder
    })
    .join()
    .expect("no panic without a runtime");
    rt.block_on(async {
        recorder.flush().await;
        assert!(our_events(&sandbox.client().expect("client"), "default").await.is_empty());
    });
}
