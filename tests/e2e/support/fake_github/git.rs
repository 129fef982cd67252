//! Git objects of the fake: real git ids (blob, tree, commit), ancestry and three-way merges.
//!
//! A tree is kept flat (path → bytes); tree ids are computed the way git does, nested
//! directories included, so shas look and behave like GitHub's.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha1::{Digest, Sha1};

pub type Tree = BTreeMap<String, Vec<u8>>;

#[derive(Clone, Debug)]
pub struct Commit {
    pub sha: String,
    pub tree_sha: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author: String,
    pub time: DateTime<Utc>,
    pub tree: Arc<Tree>,
}

fn raw_hash(kind: &str, data: &[u8]) -> Vec<u8> {
    let mut h = Sha1::new();
    h.update(format!("{kind} {}\0", data.len()).as_bytes());
    h.update(data);
    h.finalize().to_vec()
}

/// `sha1("blob {len}\0{bytes}")`, as `git hash-object` prints it.
pub fn blob_sha(data: &[u8]) -> String {
    hex::encode(raw_hash("blob", data))
}

/// The id of the git tree object for these files (directories nested as git does).
pub fn tree_sha(tree: &Tree) -> String {
    let files: Vec<(&str, &[u8])> = tree
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_slice()))
        .collect();
    hex::encode(dir_hash(&files))
}

fn dir_hash(files: &[(&str, &[u8])]) -> Vec<u8> {
    // Git orders entries by name, a directory sorting as "name/".
    let mut entries: BTreeMap<String, (&str, Vec<u8>)> = BTreeMap::new();
    let mut dirs: BTreeMap<&str, Vec<(&str, &[u8])>> = BTreeMap::new();
    for (path, data) in files {
        match path.split_once('/') {
            Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, data)),
            None => {
                entries.insert(path.to_string(), ("100644", raw_hash("blob", data)));
            }
        }
    }
    for (dir, sub) in dirs {
        entries.insert(format!("{dir}/"), ("40000", dir_hash(&sub)));
    }
    let mut body = Vec::new();
    for (key, (mode, id)) in entries {
        body.extend_from_slice(mode.as_bytes());
        body.push(b' ');
        body.extend_from_slice(key.trim_end_matches('/').as_bytes());
        body.push(0);
        body.extend_from_slice(&id);
    }
    raw_hash("tree", &body)
}

/// One entry of a tree listing (`GET /git/trees/{sha}`).
#[derive(Clone, Debug)]
pub struct TreeEntry {
    pub path: String,
    pub mode: &'static str,
    pub kind: &'static str,
    pub sha: String,
    pub size: Option<usize>,
}

/// Entries directly under `prefix` ("" for the root), or all of them when `recursive`.
pub fn tree_entries(tree: &Tree, prefix: &str, recursive: bool) -> Vec<TreeEntry> {
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", prefix.trim_end_matches('/'))
    };
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for (path, data) in tree.range(prefix.clone()..) {
        let Some(rel) = path.strip_prefix(&prefix) else {
            break;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        let depth = if recursive { parts.len() } else { 1 };
        for i in 1..depth.min(parts.len()) + 1 {
            let sub = parts[..i].join("/");
            if i == parts.len() {
                out.push(TreeEntry {
                    path: sub,
                    mode: "100644",
                    kind: "blob",
                    sha: blob_sha(data),
                    size: Some(data.len()),
                });
            } else if seen_dirs.insert(sub.clone()) {
                let full = format!("{prefix}{sub}");
                out.push(TreeEntry {
                    sha: tree_sha(&subtree(tree, &full)),
                    path: sub,
                    mode: "040000",
                    kind: "tree",
                    size: None,
                });
            }
        }
    }
    out
}

/// The files under directory `dir`, with paths relative to it.
pub fn subtree(tree: &Tree, dir: &str) -> Tree {
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    tree.range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, c)| (p[prefix.len()..].to_string(), c.clone()))
        .collect()
}

/// The id of a commit object with these fields (author and committer are the same).
pub fn commit_sha(
    tree_sha: &str,
    parents: &[String],
    author: &str,
    time: DateTime<Utc>,
    message: &str,
) -> String {
    let ident = format!(
        "{author} <{author}@users.noreply.github.com> {} +0000",
        time.timestamp()
    );
    let mut body = format!("tree {tree_sha}\n");
    for p in parents {
        body.push_str(&format!("parent {p}\n"));
    }
    body.push_str(&format!("author {ident}\ncommitter {ident}\n\n{message}"));
    if !message.ends_with('\n') {
        body.push('\n');
    }
    hex::encode(raw_hash("commit", body.as_bytes()))
}

/// All commits reachable from `sha`, itself included.
pub fn ancestors(commits: &HashMap<String, Commit>, sha: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut todo = vec![sha.to_string()];
    while let Some(s) = todo.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(c) = commits.get(&s) {
            todo.extend(c.parents.iter().cloned());
        }
    }
    seen
}

/// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
pub fn is_ancestor(commits: &HashMap<String, Commit>, ancestor: &str, descendant: &str) -> bool {
    ancestors(commits, descendant).contains(ancestor)
}

/// The nearest common ancestor of `a` and `b`, if any.
pub fn merge_base(commits: &HashMap<String, Commit>, a: &str, b: &str) -> Option<String> {
    let of_a = ancestors(commits, a);
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([b.to_string()]);
    while let Some(s) = queue.pop_front() {
        if of_a.contains(&s) {
            return Some(s);
        }
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(c) = commits.get(&s) {
            queue.extend(c.parents.iter().cloned());
        }
    }
    None
}

/// Commits reachable from `head` but not from `base`, oldest first (following first parents
/// and merged-in parents alike).
pub fn commits_between(commits: &HashMap<String, Commit>, base: &str, head: &str) -> Vec<Commit> {
    let exclude = ancestors(commits, base);
    let mut list: Vec<Commit> = ancestors(commits, head)
        .into_iter()
        .filter(|s| !exclude.contains(s))
        .filter_map(|s| commits.get(&s).cloned())
        .collect();
    list.sort_by(|x, y| x.time.cmp(&y.time).then_with(|| x.sha.cmp(&y.sha)));
    list
}

/// Three-way merge of flat trees. Err lists the conflicting paths (both sides changed a path
/// differently).
pub fn three_way(base: &Tree, ours: &Tree, theirs: &Tree) -> Result<Tree, Vec<String>> {
    let mut paths: Vec<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    paths.sort();
    paths.dedup();
    let mut out = Tree::new();
    let mut conflicts = Vec::new();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let merged = if o == t || t == b {
            o
        } else if o == b {
            t
        } else {
            conflicts.push(path.clone());
            continue;
        };
        if let Some(content) = merged {
            out.insert(path.clone(), content.clone());
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

/// Whether `name` (a full ref, `refs/heads/x`) passes `git check-ref-format`, which GitHub
/// applies to refs it creates: no `..`, `@{`, control characters, space, `~ ^ : ? * [ \`, no
/// component starting with `.` or ending with `.lock`, no empty component, no trailing `.`.
pub fn valid_ref_name(name: &str) -> bool {
    const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '?', '*', '[', '\\'];
    name != "@"
        && name.contains('/')
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && !name
            .chars()
            .any(|c| c.is_ascii_control() || FORBIDDEN.contains(&c))
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

/// How a file differs between two trees (`GET /commits/{ref}` `files`, compare).
#[derive(Clone, Debug)]
pub struct FileChange {
    pub path: String,
    pub status: &'static str,
    pub new_content: Option<Vec<u8>>,
}

pub fn diff(old: &Tree, new: &Tree) -> Vec<FileChange> {
    let mut out = Vec::new();
    for (path, content) in new {
        match old.get(path) {
            None => out.push(FileChange {
                path: path.clone(),
                status: "added",
                new_content: Some(content.clone()),
            }),
            Some(prev) if prev != content => out.push(FileChange {
                path: path.clone(),
                status: "modified",
                new_content: Some(content.clone()),
            }),
            Some(_) => {}
        }
    }
    for path in old.keys().filter(|p| !new.contains_key(*p)) {
        out.push(FileChange {
            path: path.clone(),
            status: "removed",
            new_content: None,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_sha_matches_git() {
        assert_eq!(
            blob_sha(b"hello"),
            "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"
        );
    }

    #[test]
    fn empty_tree_matches_git() {
        assert_eq!(
            tree_sha(&Tree::new()),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
    }

    #[test]
    fn ref_names_follow_check_ref_format() {
        for good in [
            "refs/heads/main",
            "refs/heads/team/ünï+fix#1%2F&x=y",
            "refs/heads/a@b",
        ] {
            assert!(valid_ref_name(good), "{good}");
        }
        for bad in [
            "refs/heads/a b",
            "refs/heads/a..b",
            "refs/heads/a?b",
            "refs/heads/.hidden",
            "refs/heads/x.lock",
            "refs/heads//x",
            "refs/heads/x/",
            "refs/heads/x.",
            "refs/heads/a@{1}",
            "refs/heads/a~1",
            "refs/heads/a\\b",
            "main",
        ] {
            assert!(!valid_ref_name(bad), "{bad}");
        }
    }

    /// Values from `git write-tree` and `git hash-object -t commit` on the same content.
    #[test]
    fn tree_and_commit_ids_match_git() {
        let tree: Tree = [
            ("README.md", "# shop\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/a/b.txt", "b"),
            ("src-x", "x"),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
        let tree_id = tree_sha(&tree);
        assert_eq!(tree_id, "f7711567343f25d6b4a40ede66384b2518de811f");
        let time = chrono::DateTime::from_timestamp(1704067201, 0).expect("timestamp");
        assert_eq!(
            commit_sha(&tree_id, &[], "alice", time, "init"),
            "bef9d8bc6ecccf2cb463d6c05d237d10889aec99"
        );
    }
}
