//! Rudder's job controller. Not implemented yet: see the issue tracker.
