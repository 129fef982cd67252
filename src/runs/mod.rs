//! Runs' logs behind `/runs/<id>?token=…`: how their links are made and checked
//! ([`links`]), and how long they are kept ([`retention`]).

pub mod links;
pub mod retention;

pub use links::{RunLinks, new_id, token_hash, token_matches};
