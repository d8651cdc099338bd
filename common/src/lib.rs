//! rudder-common: the runtime every Rudder binary shares.

pub mod selector;
