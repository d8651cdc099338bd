//! rudder-common: the runtime every Rudder binary shares.

pub mod cache;
pub mod client;
pub mod controller;
pub mod controller_ref;
pub mod errors;
pub mod events;
pub mod expectations;
pub mod field;
pub mod flags;
pub mod http;
pub mod intstr;
pub mod leader;
pub mod pods;
pub mod process;
pub mod quantity;
pub mod runtime;
pub mod scheduling;
pub mod selector;
pub mod status;
pub mod template_hash;
pub mod workqueue;
