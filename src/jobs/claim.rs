//! The SQL of every leased queue, written once and generated per queue and dialect.
//!
//! Webhook deliveries, preview work, pipeline steps and notifications are all rows a worker
//! *claims*: it marks the row as its own until `lease_until`, does the work, and writes the
//! outcome. A [`LeasedQueue`] describes one such table (its key, which rows are due, in which
//! order, what a claim sets); from it come the three statements every queue needs, so their
//! shape, and the rules that make them safe, exist in one place:
//!
//! - the claim ([`LeasedQueue::claim`]): one `UPDATE … WHERE key = (SELECT key … LIMIT 1)
//!   RETURNING …`. On SQLite the database's single writer runs the subquery and the update as
//!   one, so two claimers cannot take one row. On PostgreSQL the subquery locks its row with
//!   `FOR UPDATE SKIP LOCKED`: a concurrent claimer passes over a row another transaction is
//!   taking instead of queueing behind it, and a row taken (and committed) since the
//!   statement's snapshot is checked again against `due` before it is locked, so it is never
//!   taken twice.
//! - the guard of every later write ([`LeasedQueue::update_held`]): the row is written only if
//!   it still holds the claim's token. A worker whose lease lapsed, and whose row another
//!   worker claimed meanwhile, therefore cannot overwrite the newer claim's work.
//! - renewal ([`LeasedQueue::renew`]): the guarded write of a new `lease_until`.
//!
//! The statements are built once (each store module keeps them in a `LazyLock`), only from the
//! `&'static str` parts of the descriptions: no input ever reaches their text.

use crate::store::Dialect;

/// The column every leased table keeps its lease's end in (Unix ms).
pub const LEASE_UNTIL: &str = "lease_until";

/// The alias of the candidate row in a claim's subquery; [`LeasedQueue::due`] and
/// [`LeasedQueue::order`] name its columns through it (`c.state`), so a correlated subquery
/// of the predicate can tell the candidate from the rows it counts.
pub const CANDIDATE: &str = "c";

/// What tells one claim of a row from another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// A text column the claim sets to the claimer's token (`$3` of the claim), unique to the
    /// claim (see `store::lease_owner`).
    Token(&'static str),
    /// A counter every claim bumps; its value after a claim is that claim's fencing token.
    /// For a table without an owner column: a later claim has a higher count, so an earlier
    /// claimer's writes no longer match.
    Counter(&'static str),
}

impl Holder {
    fn column(self) -> &'static str {
        match self {
            Self::Token(column) | Self::Counter(column) => column,
        }
    }
}

/// One leased queue: a table whose rows are claimed under a lease.
///
/// In [`due`](Self::due), [`order`](Self::order) and [`on_claim`](Self::on_claim), `$1` is
/// the new `lease_until` and `$2` is now (both Unix ms).
#[derive(Clone, Copy, Debug)]
pub struct LeasedQueue {
    pub table: &'static str,
    /// The primary key's columns, in the order their values are bound.
    pub key: &'static [&'static str],
    pub holder: Holder,
    /// Which rows a claim may take, over the candidate [`CANDIDATE`]: the free rows whose
    /// work is due, and the held ones whose lease lapsed (`c.lease_until < $2`), since their
    /// worker died. Written per queue so it reads through the queue's own index.
    pub due: &'static str,
    /// Which due row goes first (over [`CANDIDATE`]); must end in a unique column, so the
    /// order is total.
    pub order: &'static str,
    /// What else a claim sets (`state = 'processing'`), after the lease and the holder; `""`
    /// for nothing. Assignments read the row as it was before the claim.
    pub on_claim: &'static str,
    /// What else must hold of a row for its holder to still hold it (`state =
    /// 'processing'`), checked by every guarded write; `""` for nothing.
    pub held: &'static str,
    /// The columns a claim returns: the claimed row, as the store's row type reads it.
    pub returning: &'static str,
}

/// A queue's claim in each dialect. Binds `$1` = the new `lease_until`, `$2` = now and, for a
/// [`Holder::Token`], `$3` = the token.
#[derive(Debug)]
pub struct ClaimSql {
    sqlite: String,
    postgres: String,
}

impl ClaimSql {
    pub fn get(&self, dialect: Dialect) -> &str {
        match dialect {
            Dialect::Sqlite => &self.sqlite,
            Dialect::Postgres => &self.postgres,
        }
    }
}

impl LeasedQueue {
    /// The claim statement: takes the first due row in `order`, or none.
    pub fn claim(&self) -> ClaimSql {
        ClaimSql {
            sqlite: self.claim_with(""),
            // Only PostgreSQL runs claims side by side; see the module's documentation.
            postgres: self.claim_with("\n     FOR UPDATE SKIP LOCKED"),
        }
    }

    fn claim_with(&self, lock: &str) -> String {
        let Self {
            table,
            due,
            order,
            on_claim,
            returning,
            ..
        } = self;
        let holder = match self.holder {
            Holder::Token(column) => format!("{column} = $3"),
            Holder::Counter(column) => format!("{column} = {column} + 1"),
        };
        let also = if on_claim.is_empty() {
            String::new()
        } else {
            format!(",\n       {on_claim}")
        };
        let target = match self.key {
            [column] => (*column).to_owned(),
            columns => format!("({})", columns.join(", ")),
        };
        let candidate: Vec<String> = self
            .key
            .iter()
            .map(|column| format!("{CANDIDATE}.{column}"))
            .collect();
        let candidate = candidate.join(", ");
        format!(
            "UPDATE {table}
   SET {LEASE_UNTIL} = $1, {holder}{also}
 WHERE {target} = (
    SELECT {candidate} FROM {table} {CANDIDATE}
     WHERE {due}
     ORDER BY {order}
     LIMIT 1{lock})
RETURNING {returning}"
        )
    }

    /// A write by the holder of a claim: `UPDATE table SET {set} WHERE key = … AND holder = …
    /// [AND held]`. `set` binds `$1..=$set_params`; the key's values follow, then the holder's
    /// token (the claim's token, or the count a [`Holder::Counter`] claim returned). Writes
    /// nothing when another claim took the row meanwhile. Callers may append `AND …`
    /// conditions and a `RETURNING` clause.
    pub fn update_held(&self, set: &str, set_params: usize) -> String {
        let mut next = set_params;
        let mut conditions: Vec<String> = self
            .key
            .iter()
            .map(|column| {
                next += 1;
                format!("{column} = ${next}")
            })
            .collect();
        conditions.push(format!("{} = ${}", self.holder.column(), next + 1));
        if !self.held.is_empty() {
            conditions.push(self.held.to_owned());
        }
        format!(
            "UPDATE {} SET {set}\n WHERE {}",
            self.table,
            conditions.join(" AND ")
        )
    }

    /// Renewal by the holder (or shortening, to let the row be taken again sooner): binds
    /// `$1` = the new `lease_until`, then the key and the token as [`Self::update_held`].
    pub fn renew(&self) -> String {
        self.update_held(&format!("{LEASE_UNTIL} = $1"), 1)
    }
}

#[cfg(test)]
mod tests;
