//! Rudder's replicaset controller. Not implemented yet: see the issue tracker.
