//! Rudder's HorizontalPodAutoscaler controller: the pure parts of upstream
//! `pkg/controller/podautoscaler` (Kubernetes v1.36), without I/O.
//! `UPSTREAM.md` beside this crate is a digest, in prose, of what upstream's
//! controller does (the spec where the issue is silent).
//!
//! - [`replicas`]: the replica calculator (per-pod resource and custom
//!   metrics with missing and unready pods, Object and External targets,
//!   tolerances).

pub mod replicas;
