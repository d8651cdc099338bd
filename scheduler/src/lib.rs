//! The Rudder scheduler: kube-scheduler v1.36's behaviour for the pods whose
//! `spec.schedulerName` is one of its profiles.
//!
//! * [`framework`]: what plugins see (pods, nodes, the cycle's snapshot)
//!   and the plugin trait.
//! * [`plugins`]: the default profile's filters and scores.

pub mod cache;
pub mod config;
pub mod framework;
pub mod metrics;
pub mod plugins;
pub mod post_filter;
pub mod preemption;
pub mod queue;
pub mod registry;
pub mod run;
pub mod schedule;
