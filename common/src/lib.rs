//! rudder-common: the runtime every Rudder binary shares.

pub mod field;
pub mod flags;
pub mod http;
pub mod selector;
