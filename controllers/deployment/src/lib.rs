//! Rudder's Deployment controller: the pure parts (what a sync decides), as
//! upstream `pkg/controller/deployment` does them.
//!
//! - the `pod-template-hash` of a pod template is
//!   `rudder_common::template_hash` (upstream's `controller.ComputeHash`,
//!   which the DaemonSet controller's `controller-revision-hash` uses too).
//! - [`util`]: revisions, annotations, conditions, finding the new and old
//!   ReplicaSets (upstream `util/deployment_util.go`).
//! - [`rollout`]: the arithmetic of a rollout step: surge and unavailability
//!   fenceposts, rolling update and recreate, proportional scaling, cleanup.

pub mod rollout;
pub mod util;
