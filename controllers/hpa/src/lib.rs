//! Rudder's HorizontalPodAutoscaler controller: the pure parts of upstream
//! `pkg/controller/podautoscaler` (Kubernetes v1.36), without I/O.
//! `UPSTREAM.md` beside this crate is a digest, in prose, of what upstream's
//! controller does (the spec where the issue is silent).
//!
//! - [`replicas`]: the replica calculator (per-pod resource and custom
//!   metrics with missing and unready pods, Object and External targets,
//!   tolerances).
//! - [`compute`]: every metric of an HPA to one proposal, its status
//!   entries, the ScalingActive condition and the warning events.
//! - [`behavior`]: from a proposal to the count written: stabilization
//!   (legacy and per direction), the scale-up and scale-down rates of
//!   `spec.behavior`, min/max, the scale events, the conditions' reasons.
//! - [`discovery`]: which custom metrics API version to ask.
//! - [`selectors`]: which HPAs control which pods (`AmbiguousSelector`).

pub mod behavior;
pub mod compute;
pub mod discovery;
pub mod replicas;
pub mod selectors;
pub mod status;
