//! Runs (deploys, destroys, steps) and their logs behind `/runs/<id>?token=…`: the log a run
//! writes ([`log`]), how its link is made and checked ([`links`]), and how long it is kept
//! ([`retention`]).

pub mod links;
pub mod log;
pub mod retention;

pub use links::{RunLinks, new_id, token_hash, token_matches};
pub use log::RunLog;
