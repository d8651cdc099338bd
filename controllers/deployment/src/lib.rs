//! Rudder's Deployment controller: the pure parts (what a sync decides), as
//! upstream `pkg/controller/deployment` does them.
//!
//! - [`hash`]: the `pod-template-hash` of a pod template, as upstream
//!   computes it (so ReplicaSets made by upstream keep their names).
//! - [`util`]: revisions, annotations, conditions, finding the new and old
//!   ReplicaSets (upstream `util/deployment_util.go`).
//! - [`rollout`]: the arithmetic of a rollout step: surge and unavailability
//!   fenceposts, rolling update and recreate, proportional scaling, cleanup.

pub mod hash;
pub mod rollout;
pub mod util;
