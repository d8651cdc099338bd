//! The Rudder scheduler. Not implemented yet: see the issue tracker.
