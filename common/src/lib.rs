//! rudder-common: the runtime every Rudder binary shares.

pub mod field;
pub mod selector;
