//! Shared test helpers.

pub mod fixture_dataset;
