//! The scheduler on simulated nodes, each scenario of its issue a test:
//! pods name `schedulerName: rudder-scheduler` (the binary's default
//! profile) and are placed by it through the binding subresource.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{ListParams, PostParams};
use rudder_e2e::{World, eventually, sim_config};
use serde_json::{Value, json};

async fn world() -> World {
    World::start(&["rudder-scheduler"]).await.expect("world")
}

fn pod(name: &str, labels: Value, spec: Value) -> Pod {
    let mut spec = spec;
    spec["schedulerName"] = json!("rudder-scheduler");
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]);
    }
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": spec})).expect("a pod")
}

async fn create(pods: &Api<Pod>, p: Pod) {
    pods.create(&PostParams::default(), &p).await.expect("pod created");
}

async fn node_of(pods: &Api<Pod>, name: &str) -> String {
    eventually(60, &format!("{name} to be scheduled"), || async { pods.get(name).await.ok()?.spec?.node_name }).await
}

/// Waits until the pod's PodScheduled=False condition and one of its
/// FailedScheduling events both carry exactly `expected`.
async fn says_unschedulable(world: &World, ns: &str, name: &str, expected: &str) {
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), ns);
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), ns);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        let condition = pods.get(name).await.ok().and_then(|p| {
            p.status?
                .conditions?
                .into_iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False" && c.reason.as_deref() == Some("Unschedulable"))
        });
        if let Some(c) = condition {
            last = c.message.unwrap_or_default();
        }
        if last == expected {
            let list = events.list(&ListParams::default().fields(&format!("regarding.name={name}"))).await.expect("events");
            if list.items.iter().any(|e| e.reason.as_deref() == Some("FailedScheduling") && e.note.as_deref() == Some(expected)) {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: wanted PodScheduled=False and a FailedScheduling event saying\n  {expected}\nlast condition message:\n  {last}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the scheduler has marked the pod PodScheduled=False/Unschedulable.
fn reported_unschedulable(p: &Pod) -> bool {
    let conditions = p.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|cs| cs.iter().any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("Unschedulable")))
}

async fn zone_of(world: &World, node: &str) -> String {
    let n = Api::<Node>::all(world.client.clone()).get(node).await.expect("node");
    n.metadata.labels.unwrap_or_default().get("topology.kubernetes.io/zone").cloned().unwrap_or_default()
}

#[tokio::test]
async fn topology_spread_constraints_spread_pods_over_zones() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let spread = json!({"topologySpreadConstraints": [{
        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "spread"}}
    }]});
    for i in 0..6 {
        create(&pods, pod(&format!("spread-{i}"), json!({"app": "spread"}), spread.clone())).await;
    }
    let mut per_zone: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..6 {
        let node = node_of(&pods, &format!("spread-{i}")).await;
        *per_zone.entry(zone_of(&world, &node).await).or_default() += 1;
    }
    assert_eq!(per_zone.values().copied().collect::<Vec<_>>(), [2, 2, 2], "{per_zone:?}");
}

#[tokio::test]
async fn required_anti_affinity_puts_one_replica_per_node_and_leaves_the_rest_pending() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "solo"}}
    }]}}});
    for i in 0..4 {
        create(&pods, pod(&format!("solo-{i}"), json!({"app": "solo"}), anti.clone())).await;
    }
    let (mut nodes, mut pending) = (Vec::new(), Vec::new());
    eventually(60, "three placed and one reported", || async {
        let list = pods.list(&ListParams::default()).await.ok()?;
        let placed: Vec<String> = list.items.iter().filter_map(|p| p.spec.as_ref()?.node_name.clone()).collect();
        let reported: Vec<&Pod> = list.items.iter().filter(|p| reported_unschedulable(p)).collect();
        (placed.len() == 3 && reported.len() == 1).then_some(())
    })
    .await;
    for p in pods.list(&ListParams::default()).await.unwrap().items {
        match p.spec.and_then(|s| s.node_name) {
            Some(n) => nodes.push(n),
            None => pending.push(p.metadata.name.unwrap()),
        }
    }
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one per node: {nodes:?}");
    // Evicting a replica would help, but none has a lower priority.
    says_unschedulable(
        &world,
        &ns,
        &pending[0],
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. no new claims to deallocate, preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    )
    .await;
}

#[tokio::test]
async fn a_pod_that_fits_nowhere_is_scheduled_when_a_node_is_added() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let big = json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "12"}}}]});
    create(&pods, pod("big", json!({}), big)).await;
    // More than any node has at all: preemption cannot help anywhere.
    says_unschedulable(
        &world,
        &ns,
        "big",
        "0/3 nodes are available: 3 Insufficient cpu. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    )
    .await;
    let _nodes = world.add_nodes(rudder_sandbox::sim::SimConfig { count: 1, prefix: "big-node".into(), cpu: "16".into(), ..sim_config() });
    assert_eq!(node_of(&pods, "big").await, "big-node-0");
}

#[tokio::test]
async fn taints_keep_pods_away_unless_tolerated() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let taint: k8s_openapi::api::core::v1::Taint = rudder_sandbox::sim::node::parse_taint("dedicated=db:NoSchedule").unwrap();
    let _nodes = world.add_nodes(rudder_sandbox::sim::SimConfig {
        count: 1,
        prefix: "db-node".into(),
        taints: vec![taint],
        zones: vec!["zone-db".into()],
        ..sim_config()
    });
    // Only the tainted node is allowed by the selector: without toleration, nowhere fits.
    let on_db = json!({"kubernetes.io/hostname": "db-node-0"});
    create(&pods, pod("plain", json!({}), json!({"nodeSelector": on_db}))).await;
    says_unschedulable(
        &world,
        &ns,
        "plain",
        "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
    )
    .await;
    let tolerating =
        json!({"nodeSelector": on_db, "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]});
    create(&pods, pod("tolerant", json!({}), tolerating)).await;
    assert_eq!(node_of(&pods, "tolerant").await, "db-node-0");
}

#[tokio::test]
async fn node_selector_picks_the_node() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    create(&pods, pod("picky", json!({}), json!({"nodeSelector": {"topology.kubernetes.io/zone": "zone-b"}}))).await;
    let node = node_of(&pods, "picky").await;
    assert_eq!(zone_of(&world, &node).await, "zone-b");
    create(&pods, pod("nowhere", json!({}), json!({"nodeSelector": {"disk": "ssd"}}))).await;
    let message = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    says_unschedulable(&world, &ns, "nowhere", message).await;
    // The events kubectl describe shows, from the profile's name.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), &ns);
    let seen = |pod: &'static str, reason: &'static str| {
        let events = events.clone();
        async move {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items
                .into_iter()
                .find(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(pod) && e.reason.as_deref() == Some(reason))
        }
    };
    let scheduled = eventually(30, "a Scheduled event", || seen("picky", "Scheduled")).await;
    assert_eq!(scheduled.note.as_deref(), Some(format!("Successfully assigned {ns}/picky to {node}").as_str()));
    assert_eq!(scheduled.reporting_controller.as_deref(), Some("rudder-scheduler"));
    assert_eq!(scheduled.type_.as_deref(), Some("Normal"));
    let failed = eventually(30, "a FailedScheduling event", || seen("nowhere", "FailedScheduling")).await;
    assert_eq!(failed.note.as_deref(), Some(message));
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
}

#[tokio::test]
async fn pods_for_other_schedulers_are_left_alone() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let mut other = pod("other", json!({}), json!({}));
    other.spec.as_mut().unwrap().scheduler_name = Some("someone-else".into());
    create(&pods, other).await;
    // A pod of ours created after it is scheduled: the scheduler has seen
    // both by then.
    create(&pods, pod("ours", json!({}), json!({}))).await;
    node_of(&pods, "ours").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = pods.get("other").await.unwrap();
    assert!(p.spec.unwrap().node_name.is_none());
    assert!(p.status.and_then(|s| s.conditions).unwrap_or_default().iter().all(|c| c.type_ != "PodScheduled"));
}

#[tokio::test]
async fn a_hundred_pods_on_ten_nodes_never_overcommit() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let _nodes = world.add_nodes(rudder_sandbox::sim::SimConfig {
        count: 10,
        prefix: "small".into(),
        cpu: "2".into(),
        memory: "4Gi".into(),
        zones: vec!["zone-small".into()],
        ..sim_config()
    });
    // 100 pods of 300m on 10 nodes of 2 CPU: 60 fit (6 per node), 40 do not.
    let small = json!({"nodeSelector": {"topology.kubernetes.io/zone": "zone-small"},
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "300m", "memory": "100Mi"}}}]});
    eventually(30, "the ten small nodes", || async {
        let nodes = Api::<Node>::all(world.client.clone())
            .list(&ListParams::default().labels("topology.kubernetes.io/zone=zone-small"))
            .await
            .ok()?;
        (nodes.items.len() == 10).then_some(())
    })
    .await;
    for i in 0..100 {
        create(&pods, pod(&format!("p-{i:03}"), json!({"app": "many"}), small.clone())).await;
    }
    let list = eventually(120, "60 placed and 40 reported unschedulable", || async {
        let list = pods.list(&ListParams::default()).await.ok()?;
        let placed = list.items.iter().filter(|p| p.spec.as_ref().is_some_and(|s| s.node_name.is_some())).count();
        let reported = list.items.iter().filter(|p| reported_unschedulable(p)).count();
        (placed == 60 && reported == 40).then_some(list)
    })
    .await;
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for p in &list.items {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.clone()) {
            *per_node.entry(n).or_default() += 1;
        }
    }
    assert_eq!(per_node.len(), 10, "{per_node:?}");
    assert!(per_node.values().all(|&n| n == 6), "2 CPU hold six 300m pods, never seven: {per_node:?}");
}

#[tokio::test]
async fn a_high_priority_pod_preempts_a_low_priority_one() {
    use k8s_openapi::api::scheduling::v1::PriorityClass;
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let classes: Api<PriorityClass> = Api::all(world.client.clone());
    for (name, value, policy) in [("low", 10, "PreemptLowerPriority"), ("high", 1000, "PreemptLowerPriority"), ("polite", 1000, "Never")] {
        let pc = serde_json::from_value(json!({"metadata": {"name": format!("{ns}-{name}")}, "value": value, "preemptionPolicy": policy}))
            .unwrap();
        classes.create(&PostParams::default(), &pc).await.expect("priority class");
    }
    let zone = format!("zone-{ns}");
    let _nodes = world.add_nodes(rudder_sandbox::sim::SimConfig {
        count: 1,
        prefix: format!("{ns}-n"),
        cpu: "2".into(),
        zones: vec![zone.clone()],
        ..sim_config()
    });
    let spec = |class: &str, extra: Value| {
        let mut s = json!({
            "priorityClassName": format!("{ns}-{class}"),
            "terminationGracePeriodSeconds": 1,
            "nodeSelector": {"topology.kubernetes.io/zone": zone},
            "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1500m"}}}]
        });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                s[k] = v;
            }
        }
        s
    };
    create(&pods, pod("low", json!({}), spec("low", json!({})))).await;
    let node = node_of(&pods, "low").await;
    // A pod that may not preempt waits, and says why.
    create(&pods, pod("polite", json!({}), spec("polite", json!({})))).await;
    says_unschedulable(
        &world,
        &ns,
        "polite",
        "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: not eligible due to preemptionPolicy=Never.",
    )
    .await;
    assert!(pods.get("low").await.unwrap().metadata.deletion_timestamp.is_none());
    pods.delete("polite", &Default::default()).await.unwrap();

    create(&pods, pod("high", json!({}), spec("high", json!({})))).await;
    // The victim is marked, deleted and gone; the preemptor nominated, then placed.
    eventually(60, "the victim to be marked DisruptionTarget or gone", || async {
        match pods.get_opt("low").await.ok()? {
            None => Some(()),
            Some(p) => p
                .status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "DisruptionTarget" && c.reason.as_deref() == Some("PreemptionByScheduler"))
                .then_some(()),
        }
    })
    .await;
    assert_eq!(node_of(&pods, "high").await, node);
    eventually(60, "the victim to be gone", || async { pods.get_opt("low").await.ok()?.is_none().then_some(()) }).await;
}

#[tokio::test]
async fn preemption_tried_on_some_nodes_says_why_for_each() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let taint: k8s_openapi::api::core::v1::Taint = rudder_sandbox::sim::node::parse_taint("dedicated=db:NoSchedule").unwrap();
    let _nodes =
        world.add_nodes(rudder_sandbox::sim::SimConfig { count: 1, prefix: "db-node".into(), taints: vec![taint], ..sim_config() });
    // Each untainted node (8 cpu) nearly full with a pod of the same priority.
    let filler = json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "7"}}}]});
    for i in 0..3 {
        create(&pods, pod(&format!("fill-{i}"), json!({}), filler.clone())).await;
    }
    for i in 0..3 {
        node_of(&pods, &format!("fill-{i}")).await;
    }
    let two = json!({"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "2"}}}]});
    create(&pods, pod("p", json!({}), two)).await;
    says_unschedulable(
        &world,
        &ns,
        "p",
        "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient cpu. no new claims to deallocate, preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
    )
    .await;
}

/// A node of 2 cpu in a zone of its own, a low-priority pod on it that
/// takes a minute to stop, and a high-priority pod that preempted it and
/// holds the node as nominated. Returns the node's name.
async fn nominated_after_preemption(world: &World, ns: &str) -> (String, rudder_e2e::NodesGuard) {
    use k8s_openapi::api::scheduling::v1::PriorityClass;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), ns);
    let classes: Api<PriorityClass> = Api::all(world.client.clone());
    for (name, value) in [("low", 10), ("high", 1000)] {
        let pc = serde_json::from_value(json!({"metadata": {"name": format!("{ns}-{name}")}, "value": value})).unwrap();
        classes.create(&PostParams::default(), &pc).await.expect("priority class");
    }
    let zone = format!("zone-{ns}");
    let nodes = world.add_nodes(rudder_sandbox::sim::SimConfig {
        count: 1,
        prefix: format!("{ns}-n"),
        cpu: "2".into(),
        zones: vec![zone.clone()],
        ..sim_config()
    });
    let spec = |class: &str| {
        json!({
            "priorityClassName": format!("{ns}-{class}"),
            "terminationGracePeriodSeconds": 120,
            "nodeSelector": {"topology.kubernetes.io/zone": zone},
            "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1500m"}}}]
        })
    };
    let mut low = pod("low", json!({}), spec("low"));
    low.metadata.annotations = Some([("sim.rudder.dev/termination-delay".to_string(), "90s".to_string())].into());
    create(&pods, low).await;
    let node = node_of(&pods, "low").await;
    create(&pods, pod("high", json!({}), spec("high"))).await;
    eventually(60, "high to be nominated to the victim's node", || async {
        let p = pods.get("high").await.ok()?;
        (p.status?.nominated_node_name.as_deref() == Some(node.as_str())).then_some(())
    })
    .await;
    eventually(30, "the victim to be terminating", || async { pods.get("low").await.ok()?.metadata.deletion_timestamp.map(|_| ()) }).await;
    (node, nodes)
}

#[tokio::test]
async fn a_terminating_victim_on_the_nominated_node_holds_preemption_back() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let (node, _nodes) = nominated_after_preemption(&world, &ns).await;
    // A change to the pod sends it round again while the victim still runs.
    let poke = json!({"metadata": {"labels": {"poked": "yes"}}});
    pods.patch("high", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(poke)).await.unwrap();
    says_unschedulable(
        &world,
        &ns,
        "high",
        "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: not eligible due to a terminating pod on the nominated node.",
    )
    .await;
    let p = pods.get("high").await.unwrap();
    assert_eq!(p.status.and_then(|s| s.nominated_node_name).as_deref(), Some(node.as_str()), "the nomination is kept");
}

#[tokio::test]
async fn a_nominated_node_preemption_can_no_longer_help_is_cleared() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    let (node, _nodes) = nominated_after_preemption(&world, &ns).await;
    // The nominated node gets a taint the pod does not tolerate.
    let taint = json!({"spec": {"taints": [{"key": "maintenance", "effect": "NoSchedule"}]}});
    Api::<Node>::all(world.client.clone()).patch(&node, &kube::api::PatchParams::default(), &kube::api::Patch::Merge(taint)).await.unwrap();
    says_unschedulable(
        &world,
        &ns,
        "high",
        "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector. no new claims to deallocate, preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
    )
    .await;
    eventually(30, "the nomination to be cleared", || async {
        let p = pods.get("high").await.ok()?;
        p.status?.nominated_node_name.is_none_or(|n| n.is_empty()).then_some(())
    })
    .await;
}
