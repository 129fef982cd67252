//! The command provider (being written).
