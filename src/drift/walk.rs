//! The comparison of one desired object with its live copy: a single walk of both trees (and of
//! gitferry's FieldsV1) that records where they differ and, when asked, builds the two views a
//! person is shown: the desired object and the part of the live one that was compared.
//!
//! Drift is a field Git declares whose live value differs or is missing, or a field gitferry
//! owns that is live but no longer in Git. A live field that is neither (a default the API
//! server filled in, a field another controller owns) is not looked at. Empty maps, empty
//! lists and nulls count as absent, as the API server stores them.

use serde_json::{Map, Value};

use super::lists;
use super::managed::Owned;
use super::normalise;
use super::path::{self, Seg};
use super::secrets::{self, HIDDEN, HIDDEN_CHANGED};

/// The compared desired and live views of a value (`None` when not building views, or absent).
pub(crate) type Views = (Option<Value>, Option<Value>);

/// One drifted field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Drifted {
    pub pointer: String,
    pub label: String,
}

/// What one walk needs to know about its object, and what it found.
pub(crate) struct Walk<'a, 'o> {
    path: Vec<Seg<'a>>,
    drift: Vec<Drifted>,
    /// Whether to build the views: only for an object already known to have drifted, so that
    /// comparing an in-sync object copies nothing.
    views: bool,
    /// Whether the object is a Secret, whose `data` values are hidden.
    secret: bool,
    /// The reference tokens of the ignore rules for this object.
    ignore: &'o [Vec<String>],
    ignored_labels: &'o [String],
}

impl<'a, 'o> Walk<'a, 'o> {
    pub(crate) fn new(
        secret: bool,
        ignore: &'o [Vec<String>],
        ignored_labels: &'o [String],
        views: bool,
    ) -> Self {
        Self {
            path: Vec::with_capacity(16),
            drift: Vec::new(),
            views,
            secret,
            ignore,
            ignored_labels,
        }
    }

    pub(crate) fn has_drift(&self) -> bool {
        !self.drift.is_empty()
    }

    pub(crate) fn into_drift(self) -> Vec<Drifted> {
        self.drift
    }

    /// Compares `desired` with `live`, where gitferry owns `owned` of `live`.
    pub(crate) fn both(&mut self, desired: &'a Value, live: &'a Value, owned: Owned<'a>) -> Views {
        match (desired, live) {
            (Value::Object(d), Value::Object(l)) => self.maps(d, l, owned),
            (Value::Array(d), Value::Array(l)) => self.lists(d, l, owned),
            _ => self.leaves(desired, live),
        }
    }

    fn maps(
        &mut self,
        desired: &'a Map<String, Value>,
        live: &'a Map<String, Value>,
        owned: Owned<'a>,
    ) -> Views {
        let (mut d_view, mut l_view) = (Map::new(), Map::new());
        // How many owned and live entries Git declares: when that is all of them, there is no
        // owned entry Git dropped, and the second loop (lookups for every owned field) is
        // skipped, which is the common case of an object in sync.
        let (mut declared_owned, mut declared_live) = (0, 0);
        for (key, d) in desired {
            if d.is_null() || self.enter(key) {
                continue;
            }
            let child = owned.field(key);
            declared_owned += usize::from(!child.is_no());
            match live.get(key).filter(|l| !l.is_null()) {
                Some(l) => {
                    declared_live += 1;
                    let (d, l) = self.both(d, l, child);
                    insert(&mut d_view, key, d);
                    insert(&mut l_view, key, l);
                }
                None => {
                    let view = self.take(d, Owned::Whole);
                    if view.is_some() {
                        self.record();
                    }
                    insert(&mut d_view, key, view);
                }
            }
            self.path.pop();
        }
        let undeclared = match owned {
            Owned::No => false,
            Owned::Whole => live.len() > declared_live,
            Owned::Some(_) => owned.children("f:").count() > declared_owned,
        };
        if undeclared {
            for (key, l, child) in owned.entries(live) {
                if desired.get(key).is_some_and(|d| !d.is_null()) || l.is_null() || self.enter(key)
                {
                    continue;
                }
                let view = self.take(l, child);
                if view.is_some() {
                    self.record();
                }
                insert(&mut l_view, key, view);
                self.path.pop();
            }
        }
        self.pack(Value::Object(d_view), Value::Object(l_view))
    }

    fn lists(&mut self, desired: &'a [Value], live: &'a [Value], owned: Owned<'a>) -> Views {
        let (by, pairs) = lists::pair(desired, live, owned);
        let (mut d_view, mut l_view) = (Vec::new(), Vec::new());
        for pair in pairs {
            let (index, item) = match (pair.desired, pair.live) {
                (Some(i), _) => (i, &desired[i]),
                (None, Some(j)) if !pair.owned.is_no() => (j, &live[j]),
                _ => continue,
            };
            self.path.push(Seg::Item {
                index,
                item,
                by: by.clone(),
            });
            if !self.ignored() {
                let (d, l) = match (pair.desired, pair.live) {
                    (Some(i), Some(j)) => self.both(&desired[i], &live[j], pair.owned),
                    (Some(i), None) => (self.take(&desired[i], Owned::Whole), None),
                    (_, live_j) => (None, live_j.and_then(|j| self.take(&live[j], pair.owned))),
                };
                let one_sided = pair.desired.is_none() || pair.live.is_none();
                if one_sided && (d.is_some() || l.is_some()) {
                    self.record();
                }
                d_view.extend(d.filter(|_| self.views));
                l_view.extend(l.filter(|_| self.views));
            }
            self.path.pop();
        }
        self.pack(Value::Array(d_view), Value::Array(l_view))
    }

    fn leaves(&mut self, desired: &'a Value, live: &'a Value) -> Views {
        let same = same(desired, live);
        if !same {
            self.record();
        }
        if !self.views {
            return (None, None);
        }
        if secrets::is_hidden(&self.path, self.secret) {
            let live = if same { HIDDEN } else { HIDDEN_CHANGED };
            return (Some(HIDDEN.into()), Some(live.into()));
        }
        if same {
            return (Some(desired.clone()), Some(live.clone()));
        }
        (
            self.take(desired, Owned::Whole),
            self.take(live, Owned::Whole),
        )
    }

    /// The part of `value` that `owned` covers, normalised and with hidden values masked;
    /// `None` when nothing is left.
    fn take(&mut self, value: &'a Value, owned: Owned<'a>) -> Option<Value> {
        match (value, owned) {
            (_, Owned::No) | (Value::Null, _) => None,
            (Value::Object(map), _) => {
                let mut out = Map::new();
                for (key, v) in map {
                    if self.enter(key) {
                        continue;
                    }
                    let view = self.take(v, owned.field(key));
                    insert(&mut out, key, view);
                    self.path.pop();
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            (Value::Array(items), _) => {
                let (by, pairs) = lists::pair(&[], items, owned);
                let mut out = Vec::new();
                for pair in pairs {
                    let Some(j) = pair.live else { continue };
                    self.path.push(Seg::Item {
                        index: j,
                        item: &items[j],
                        by: by.clone(),
                    });
                    if !self.ignored() {
                        out.extend(self.take(&items[j], pair.owned));
                    }
                    self.path.pop();
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
            _ if secrets::is_hidden(&self.path, self.secret) => Some(HIDDEN.into()),
            (leaf, _) => Some(leaf.clone()),
        }
    }

    /// Steps into the map entry `key`, unless it is never compared or ignored; `true` when it
    /// is skipped (and the path is as it was).
    fn enter(&mut self, key: &'a str) -> bool {
        if normalise::dropped(&self.path, key, self.ignored_labels) {
            return true;
        }
        self.path.push(Seg::Field(key));
        if self.ignored() {
            self.path.pop();
            return true;
        }
        false
    }

    fn ignored(&self) -> bool {
        self.ignore
            .iter()
            .any(|tokens| path::is_at(&self.path, tokens))
    }

    fn record(&mut self) {
        self.drift.push(Drifted {
            pointer: path::pointer(&self.path),
            label: path::label(&self.path),
        });
    }

    fn pack(&self, desired: Value, live: Value) -> Views {
        if self.views {
            (Some(desired), Some(live))
        } else {
            (None, None)
        }
    }
}

fn insert(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

/// Equal values; numbers by value, since `1` and `1.0` are the same quantity to the API server.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
