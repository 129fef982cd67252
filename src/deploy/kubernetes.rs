//! The kubernetes provider (being written).
