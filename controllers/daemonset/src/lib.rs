//! Rudder's daemonset controller. Not implemented yet: see the issue tracker.
