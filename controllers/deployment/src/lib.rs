//! Rudder's deployment controller. Not implemented yet: see the issue tracker.
