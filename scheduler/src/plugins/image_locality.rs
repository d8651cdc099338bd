//! `ImageLocality` (upstream `pkg/scheduler/framework/plugins/imagelocality`):
//! favours nodes that already have the pod's images, weighing each image
//! by its size scaled by how many nodes have it (so that one node does not
//! attract every pod of a popular image), between a minimum and a maximum
//! threshold.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;

use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status};

/// The upstream plugin name.
pub const NAME: &str = "ImageLocality";

const MB: i64 = 1024 * 1024;
/// Image sums below this score 0.
const MIN_THRESHOLD: i64 = 23 * MB;
/// Image sums at or above this, times the number of containers, score the
/// maximum.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

const PRE_SCORE_KEY: &str = "PreScoreImageLocality";

/// An image as the cluster has it (upstream `ImageStateSummary`): its size
/// and on how many nodes it is.
#[derive(Clone, Copy)]
struct ImageState {
    size: i64,
    num_nodes: usize,
}

/// The pod's images across the cluster, from PreScore.
#[derive(Clone)]
struct PreScoreState {
    images: HashMap<String, ImageState>,
    total_nodes: usize,
}

/// The plugin; it has no arguments.
pub struct ImageLocality;

/// The plugin; it takes no arguments, so `args` are ignored as upstream
/// ignores them.
pub fn new(_args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    Ok(Box::new(ImageLocality))
}

/// The name a container runtime reports for an image: `:latest` added
/// when the reference has no tag.
fn normalized_image_name(name: &str) -> String {
    let colon = name.rfind(':').map_or(-1, |i| i as i64);
    let slash = name.rfind('/').map_or(-1, |i| i as i64);
    if colon <= slash { format!("{name}:latest") } else { name.to_string() }
}

/// The normalized images of the pod's init containers and containers.
fn pod_images(pod: &PodInfo) -> Vec<String> {
    let Some(spec) = pod.pod.spec.as_ref() else { return vec![] };
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| normalized_image_name(c.image.as_deref().unwrap_or_default()))
        .collect()
}

fn num_containers(pod: &PodInfo) -> i64 {
    let spec = pod.pod.spec.as_ref();
    let n = spec.map_or(0, |s| s.containers.len() + s.init_containers.as_ref().map_or(0, Vec::len));
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The size of the image the node reports under `name`, if it has it.
fn node_image_size(node: &Node, name: &str) -> Option<i64> {
    let images = node.status.as_ref()?.images.as_ref()?;
    images.iter().find(|i| i.names.iter().flatten().any(|n| n == name)).map(|i| i.size_bytes.unwrap_or(0))
}

/// For each of the pod's (distinct) images, its size as the first node
/// reporting it has it, and the number of nodes that have it.
fn image_states(names: &[String], snapshot: &Snapshot) -> HashMap<String, ImageState> {
    let mut states: HashMap<String, ImageState> = HashMap::new();
    for node in snapshot.nodes.iter().filter_map(|n| n.node.as_deref()) {
        for name in names {
            if let Some(size) = node_image_size(node, name) {
                states.entry(name.clone()).or_insert(ImageState { size, num_nodes: 0 }).num_nodes += 1;
            }
        }
    }
    states
}

/// The image's size scaled by the fraction of nodes that have it.
fn scaled_image_score(state: &ImageState, total_nodes: usize) -> i64 {
    if total_nodes == 0 {
        return 0;
    }
    let spread = state.num_nodes as f64 / total_nodes as f64;
    (state.size as f64 * spread) as i64
}

/// The sum clamped to the thresholds, scaled to 0..=MAX_NODE_SCORE.
fn calculate_priority(sum: i64, num_containers: i64) -> i64 {
    let min = i128::from(MIN_THRESHOLD);
    let max = i128::from(MAX_CONTAINER_THRESHOLD) * i128::from(num_containers);
    let sum = i128::from(sum);
    let sum = if sum < min {
        min
    } else if sum > max {
        max
    } else {
        sum
    };
    if max == min {
        return 0;
    }
    i64::try_from(i128::from(MAX_NODE_SCORE) * (sum - min) / (max - min)).unwrap_or(0)
}

fn pre_score_state(pod: &PodInfo, snapshot: &Snapshot) -> PreScoreState {
    let mut names = pod_images(pod);
    names.sort();
    names.dedup();
    PreScoreState { images: image_states(&names, snapshot), total_nodes: snapshot.nodes.len() }
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scores(&self) -> bool {
        true
    }

    fn pre_score(&self, state: &mut CycleState, pod: &PodInfo, _nodes: &[Arc<NodeInfo>], snapshot: &Snapshot) -> Status {
        state.write(PRE_SCORE_KEY, pre_score_state(pod, snapshot));
        Status::success()
    }

    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        let Some(n) = node.node.as_deref() else { return Err(Status::error("node not found")) };
        let s = state.require::<PreScoreState>(PRE_SCORE_KEY)?;
        let sum = pod_images(pod)
            .iter()
            .filter(|name| node_image_size(n, name).is_some())
            .filter_map(|name| s.images.get(name))
            .fold(0i64, |acc, image| acc.saturating_add(scaled_image_score(image, s.total_nodes)));
        Ok(calculate_priority(sum, num_containers(pod)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> PodInfo {
        PodInfo::new(Arc::new(serde_json::from_value(json!({ "spec": spec })).unwrap()))
    }

    fn containers(images: &[&str]) -> Value {
        Value::Array(images.iter().map(|i| json!({"name": i, "image": format!("gcr.io/{i}")})).collect())
    }

    /// A node reporting images as (names, size in MB).
    fn node(name: &str, images: &[(&[&str], i64)]) -> Arc<NodeInfo> {
        let images: Vec<Value> = images.iter().map(|(names, mb)| json!({"names": names, "sizeBytes": mb * MB})).collect();
        Arc::new(NodeInfo::new(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name}, "status": {"images": images}})).unwrap(),
        )))
    }

    fn scores(pod: &PodInfo, nodes: Vec<Arc<NodeInfo>>) -> Vec<i64> {
        let plugin = new(None).unwrap();
        let snapshot = Snapshot { nodes: nodes.clone(), ..Snapshot::default() };
        let mut state = CycleState::default();
        assert!(plugin.pre_score(&mut state, pod, &nodes, &snapshot).is_success());
        nodes.iter().map(|n| plugin.score(&state, pod, n).unwrap()).collect()
    }

    #[test]
    fn image_locality_priority() {
        let n403002000 = |n| {
            node(
                n,
                &[
                    (&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
                    (&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
                    (&["gcr.io/2000:latest"], 2000),
                ],
            )
        };
        let n25010 = |n| node(n, &[(&["gcr.io/250:latest"], 250), (&["gcr.io/10:latest", "gcr.io/10:v1"], 10)]);
        let n60040900 = |n| node(n, &[(&["gcr.io/600:latest"], 600), (&["gcr.io/40:latest"], 40), (&["gcr.io/900:latest"], 900)]);
        let n300600900 = |n| node(n, &[(&["gcr.io/300:latest"], 300), (&["gcr.io/600:latest"], 600), (&["gcr.io/900:latest"], 900)]);
        let n400030 = |n| node(n, &[(&["gcr.io/4000:latest"], 4000), (&["gcr.io/30:latest"], 30)]);
        let n203040 = |n| node(n, &[(&["gcr.io/20:latest"], 20), (&["gcr.io/30:latest"], 30), (&["gcr.io/40:latest"], 40)]);
        let empty = |n| node(n, &[]);
        let cases = vec![
            (
                // node2: 100 * (250M/2 - 23M)/(1000M * 2 - 23M) = 5
                "two images spread on two nodes, prefer the larger image one",
                pod(json!({"containers": containers(&["40", "250"])})),
                vec![n403002000("node1"), n25010("node2")],
                vec![0, 5],
            ),
            (
                // node1: 100 * ((40M + 300M)/2 - 23M)/(1000M * 2 - 23M) = 7
                "two images on one node, prefer this node",
                pod(json!({"containers": containers(&["40", "300"])})),
                vec![n403002000("node1"), n25010("node2")],
                vec![7, 0],
            ),
            (
                "if exceed limit, use limit",
                pod(json!({"containers": containers(&["10", "4000"])})),
                vec![n400030("node1"), n25010("node2")],
                vec![MAX_NODE_SCORE, 0],
            ),
            (
                // node1: 100 * (4000M/3 - 23M)/(1000M * 2 - 23M) = 66
                "if exceed limit, use limit (with node which has no images present)",
                pod(json!({"containers": containers(&["10", "4000"])})),
                vec![n400030("node1"), n25010("node2"), empty("node3")],
                vec![66, 0, 0],
            ),
            (
                // node1: 100 * (600M * 2/3 + 900M * 2/3 - 23M) / (1000M * 3 - 23M) = 32
                // node2: 100 * (300M * 1/3 + 600M * 2/3 + 900M * 2/3 - 23M) / (1000M * 3 - 23M) = 36
                "pod with multiple large images, node2 is preferred",
                pod(json!({"containers": containers(&["300", "600", "900"])})),
                vec![n60040900("node1"), n300600900("node2"), empty("node3")],
                vec![32, 36, 0],
            ),
            (
                // node1: 100 * (30M + 40M * 1/2 - 23M) / (1000M * 2 - 23M) = 1
                "pod with multiple small images",
                pod(json!({"containers": containers(&["30", "40"])})),
                vec![n203040("node1"), n400030("node2")],
                vec![1, 0],
            ),
            (
                // node1: 100 * (300M * 1/2 - 23M) / (1000M * 2 - 23M) = 6
                "include InitContainers: two images spread on two nodes, prefer the larger image one",
                pod(json!({"containers": containers(&["30"]), "initContainers": containers(&["300"])})),
                vec![n403002000("node1"), n203040("node2")],
                vec![6, 0],
            ),
        ];
        for (name, pod, nodes, want) in cases {
            assert_eq!(scores(&pod, nodes), want, "{name}");
        }
    }

    #[test]
    fn normalized_image_names() {
        let digest = "root@sha256:4813494d137e1631bba301d5acab6e7bb7aa74ce1185d456565ef51d737677b2";
        let cases = [("root", "root:latest"), ("gcr.io:5000/root", "gcr.io:5000/root:latest"), ("root:tag", "root:tag"), (digest, digest)];
        for (input, want) in cases {
            assert_eq!(normalized_image_name(input), want, "{input}");
        }
    }
}
