//! Builds a profile's plugins from the resolved configuration.

use crate::config::ResolvedProfile;
use crate::framework::Plugin;
use crate::plugins::*;
use crate::schedule::{Profile, Weighted};

/// One plugin by its upstream name, with its `pluginConfig` args.
pub fn plugin(name: &str, args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    match name {
        node_unschedulable::NAME => node_unschedulable::new(args),
        node_name::NAME => node_name::new(args),
        taint_toleration::NAME => taint_toleration::new(args),
        node_affinity::NAME => node_affinity::new(args),
        node_ports::NAME => node_ports::new(args),
        node_resources_fit::NAME => node_resources_fit::new(args),
        pod_topology_spread::NAME => pod_topology_spread::new(args),
        inter_pod_affinity::NAME => inter_pod_affinity::new(args),
        dynamic_resources::NAME => dynamic_resources::new(args),
        balanced_allocation::NAME => balanced_allocation::new(args),
        image_locality::NAME => image_locality::new(args),
        other => Err(format!("plugin {other:?} does not exist")),
    }
}

/// A runnable profile; errors name the profile and plugin (bad args).
pub fn profile(p: &ResolvedProfile) -> Result<Profile, String> {
    let mut plugins = Vec::new();
    for spec in &p.plugins {
        let plugin =
            plugin(&spec.name, spec.args.as_ref()).map_err(|e| format!("profile {:?}: plugin {}: {e}", p.scheduler_name, spec.name))?;
        plugins.push(Weighted { plugin, weight: spec.weight, filter: spec.filter, score: spec.score });
    }
    Ok(Profile {
        scheduler_name: p.scheduler_name.clone(),
        plugins,
        percentage_of_nodes_to_score: p.percentage_of_nodes_to_score,
        preemption: p.preemption,
        dynamic_resources: p.dynamic_resources,
    })
}
