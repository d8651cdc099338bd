//! Rudder's hpa controller. Not implemented yet: see the issue tracker.
