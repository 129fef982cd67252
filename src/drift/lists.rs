//! Pairing the items of a desired list with those of its live copy.
//!
//! Server-side apply merges lists of objects by a merge key (containers by `name`, ports by
//! `containerPort` and `protocol`), and the FieldsV1 of gitferry's entry names the keys
//! (`k:{"name":"web"}`): comparing by position instead would call a sidecar injected before
//! `web` a change of every field of `web`. Sets of scalars (`v:` entries) pair by value. Where
//! gitferry owns nothing to learn the key from, items that all have a distinct `name` pair by
//! it, since that is the merge key of nearly every such Kubernetes list; anything else pairs by
//! position. A short list (nearly all of them) is scanned, comparing key fields in place; a long
//! one goes through hash maps of key texts, so it is not compared quadratically.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::Value;

use super::managed::Owned;
use super::path::By;

/// One pair: an item of the desired list, of the live list, or of both, and what gitferry owns
/// of the live one.
#[derive(Debug)]
pub(crate) struct Pair<'a> {
    pub desired: Option<usize>,
    pub live: Option<usize>,
    pub owned: Owned<'a>,
}

/// Up to this many items, scanning beats building key texts and hashing them.
const SHORT: usize = 16;

/// The pairs of `desired` and `live`: desired items in order, then live items with no desired
/// counterpart.
pub(crate) fn pair<'a>(desired: &[Value], live: &[Value], owned: Owned<'a>) -> (By, Vec<Pair<'a>>) {
    let (by, owned_items) = OwnedItems::new(owned, desired, live);
    let hashed: Option<HashMap<String, usize>> = (!matches!(by, By::Index) && live.len() > SHORT)
        .then(|| {
            let keyed = live.iter().enumerate().rev();
            keyed.map(|(j, item)| (item_key(item, &by), j)).collect()
        });
    let mut pairs = Vec::with_capacity(desired.len().max(live.len()));
    let mut taken = vec![false; live.len()];
    for (i, item) in desired.iter().enumerate() {
        let exact = match (&by, &hashed) {
            (By::Index, _) => (i < live.len()).then_some(i),
            (_, Some(index)) => index.get(&item_key(item, &by)).copied(),
            (_, None) => (0..live.len()).find(|&j| !taken[j] && same_key(item, &live[j], &by)),
        };
        let found = match &by {
            By::Keys(keys) if exact.is_none() => partial_match(item, live, keys, &taken),
            _ => exact,
        };
        let live_j = found.filter(|&j| !taken[j]);
        if let Some(j) = live_j {
            taken[j] = true;
        }
        let owned = live_j.map_or(Owned::No, |j| owned_items.get(&live[j], j));
        pairs.push(Pair {
            desired: Some(i),
            live: live_j,
            owned,
        });
    }
    for (j, item) in live.iter().enumerate().filter(|(j, _)| !taken[*j]) {
        let owned = owned_items.get(item, j);
        pairs.push(Pair {
            desired: None,
            live: Some(j),
            owned,
        });
    }
    (by, pairs)
}

/// Whether every item is an object with a `name` no other item has.
fn named(items: &[Value]) -> bool {
    let names: Option<Vec<&str>> = items.iter().map(|i| i.get("name")?.as_str()).collect();
    let Some(names) = names else { return false };
    if names.len() <= SHORT {
        return names
            .iter()
            .enumerate()
            .all(|(i, n)| !names[..i].contains(n));
    }
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    names.iter().all(|n| seen.insert(*n))
}

/// Whether `a` and `b` are the same item: equal on every key field, `a` having at least one.
fn same_key(a: &Value, b: &Value, by: &By) -> bool {
    match by {
        By::Index => false,
        By::Value => a == b,
        By::Keys(keys) => {
            keys.iter().any(|k| a.get(k).is_some()) && keys.iter().all(|k| a.get(k) == b.get(k))
        }
    }
}

/// The text an item is hashed by: its merge key fields (those it has) or, in a set, itself.
fn item_key(item: &Value, by: &By) -> String {
    match by {
        By::Index => String::new(),
        By::Value => item.to_string(),
        By::Keys(keys) => {
            let mut out = String::new();
            for k in keys.iter() {
                if let Some(v) = item.get(k) {
                    let _ = write!(out, "{k}={v}\u{0}");
                }
            }
            out
        }
    }
}

/// A desired item that leaves out part of the merge key (a port without `protocol`, which the
/// API server defaults to TCP before merging) pairs with the first free live item that agrees
/// on the part it gives. Rare and on short lists, so a scan.
fn partial_match(item: &Value, live: &[Value], keys: &[String], taken: &[bool]) -> Option<usize> {
    let given: Vec<(&String, &Value)> = keys
        .iter()
        .filter_map(|k| item.get(k).map(|v| (k, v)))
        .collect();
    if given.is_empty() || given.len() == keys.len() {
        return None;
    }
    live.iter().enumerate().position(|(j, candidate)| {
        !taken[j]
            && given
                .iter()
                .all(|(k, v)| candidate.get(k.as_str()) == Some(v))
    })
}

/// What gitferry owns of each live item, found by the item's key among the FieldsV1 entries
/// (by its position, for a list matched by index).
struct OwnedItems<'a> {
    owned: Owned<'a>,
    by: By,
    /// The `k:` keys (or `v:` values), parsed, and what is owned of each item.
    entries: Vec<(Value, Owned<'a>)>,
    /// The same by key text, for a long list.
    hashed: Option<HashMap<String, Owned<'a>>>,
}

impl<'a> OwnedItems<'a> {
    /// The FieldsV1 entries of a list's items, and how the list is matched (see the module's
    /// comment): the merge key its `k:` entries use, by value for `v:` ones.
    fn new(owned: Owned<'a>, desired: &[Value], live: &[Value]) -> (By, Self) {
        let parse = |prefix: &'a str| -> Vec<(Value, Owned<'a>)> {
            let parsed = owned.children(prefix).filter_map(|(json, set)| {
                let key = serde_json::from_str::<Value>(json).ok()?;
                let set = if prefix == "v:" {
                    Owned::Whole
                } else {
                    Owned::set(Some(set))
                };
                Some((key, set))
            });
            parsed.collect()
        };
        let keyed = parse("k:");
        let (by, entries) = match keyed.first().and_then(|(key, _)| key.as_object()) {
            Some(fields) => (
                By::Keys(fields.keys().cloned().collect::<Vec<_>>().into()),
                keyed,
            ),
            None => match parse("v:") {
                set if !set.is_empty() => (By::Value, set),
                _ if owned.is_no() && named(desired) && named(live) => {
                    (By::Keys(Rc::from(vec!["name".to_owned()])), Vec::new())
                }
                _ => (By::Index, Vec::new()),
            },
        };
        let hashed = (entries.len() > SHORT).then(|| {
            entries
                .iter()
                .map(|(key, set)| (item_key(key, &by), *set))
                .collect()
        });
        let items = Self {
            owned,
            by: by.clone(),
            entries,
            hashed,
        };
        (by, items)
    }

    fn get(&self, item: &Value, index: usize) -> Owned<'a> {
        match (self.owned, &self.by, &self.hashed) {
            (Owned::Some(_), By::Index, _) => self
                .owned
                .children("i:")
                .find(|(i, _)| i.parse::<usize>().ok() == Some(index))
                .map_or(Owned::No, |(_, set)| Owned::set(Some(set))),
            (Owned::Some(_), by, Some(hashed)) => hashed
                .get(&item_key(item, by))
                .copied()
                .unwrap_or(Owned::No),
            (Owned::Some(_), by, None) => self
                .entries
                .iter()
                .find(|(key, _)| same_key(key, item, by))
                .map_or(Owned::No, |(_, set)| *set),
            (other, _, _) => other,
        }
    }
}
