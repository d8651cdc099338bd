//! End-to-end suite. Not implemented yet.
