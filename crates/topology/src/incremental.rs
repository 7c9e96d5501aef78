//! Re-parsing a topology file only where it changed.
//!
//! A 1,000-cluster file is ~155 KB of YAML, and parsing all of it costs
//! milliseconds (serde_yaml: ~58 M instructions) for every edit, even one
//! that adds a single remote cluster. [`Parser`] cuts the text into the
//! `remoteClusters:` items and the rest (the "skeleton": `cluster:`,
//! `tunables:` and the key itself with an empty list), parses each piece
//! alone, and reuses the pieces whose text it parsed last time.
//!
//! The result is always what [`Topology::from_yaml`] returns for the same
//! text. Cutting is textual, so whenever the text is not in the plain
//! block layout the cut relies on (one `remoteClusters:` key at column 0
//! followed by a block sequence, no directives or document markers) or any
//! piece fails to parse alone (an alias to an anchor in another piece, a
//! flow collection spanning pieces, any syntax error), the whole text is
//! parsed at once instead: errors always carry the file's own line and
//! column, and a piece never parses to something the whole would not.

use crate::{RemoteCluster, Result, Topology};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

/// Identity of a piece of text: its length and two independent 64-bit
/// hashes (FNV-1a and SipHash), so the parser need not keep the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key(usize, u64, u64);

impl Key {
    fn of(text: &str) -> Key {
        let mut sip = std::hash::DefaultHasher::new();
        text.hash(&mut sip);
        Key(text.len(), crate::fnv1a(text.as_bytes()), sip.finish())
    }
}

/// The text cut into the skeleton and the `remoteClusters:` items.
#[derive(Debug, PartialEq)]
struct Cut<'a> {
    /// The text with the items' lines removed and the key's line replaced
    /// by `remoteClusters: []`.
    skeleton: String,
    /// Each item's lines (`- id: ...` and the lines below it).
    items: Vec<&'a str>,
}

/// Indentation of a line, or `None` for a blank or comment-only line.
fn indent(line: &str) -> Option<usize> {
    let rest = line.trim_start_matches(' ');
    let body = rest.trim_end_matches(['\r', '\n']);
    (!body.trim().is_empty() && !body.trim_start().starts_with('#'))
        .then(|| line.len() - rest.len())
}

/// `remoteClusters:` alone on its line at column 0 (a comment may follow).
fn is_key_line(line: &str) -> bool {
    line.strip_prefix("remoteClusters:").is_some_and(|rest| {
        let rest = rest.trim();
        rest.is_empty() || rest.starts_with('#')
    })
}

/// Cuts `text`, or `None` when it is not in the layout the cut relies on.
fn cut(text: &str) -> Option<Cut<'_>> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.iter().any(|l| {
        l.starts_with("---") || l.starts_with("...") || l.starts_with('%') || l.contains('\t')
    }) {
        return None;
    }
    let mut keys = lines.iter().enumerate().filter(|(_, l)| is_key_line(l));
    let (key, _) = keys.next()?;
    if keys.next().is_some()
        || lines
            .iter()
            .filter(|l| l.starts_with("remoteClusters"))
            .count()
            != 1
    {
        return None;
    }
    // The items' indentation is the first content line's; it starts with
    // `-`. The block ends at the first content line less indented, or at
    // column 0 and not an item (an indentless sequence's end).
    let first = (key + 1..lines.len()).find(|&i| indent(lines[i]).is_some())?;
    let at = indent(lines[first])?;
    if !lines[first][at..].starts_with('-') {
        return None;
    }
    let is_item = |l: &str| {
        indent(l) == Some(at) && {
            let rest = l[at..].trim_end_matches(['\r', '\n']);
            rest == "-" || rest.starts_with("- ")
        }
    };
    let end = (first..lines.len())
        .find(|&i| indent(lines[i]).is_some_and(|n| n < at || (n == at && !is_item(lines[i]))))
        .unwrap_or(lines.len());
    let offsets: Vec<usize> = lines
        .iter()
        .scan(0, |off, l| {
            let start = *off;
            *off += l.len();
            Some(start)
        })
        .chain(std::iter::once(text.len()))
        .collect();
    let starts: Vec<usize> = (first..end).filter(|&i| is_item(lines[i])).collect();
    let items = starts
        .iter()
        .enumerate()
        .map(|(n, &s)| {
            let e = starts.get(n + 1).copied().unwrap_or(end);
            &text[offsets[s]..offsets[e]]
        })
        .collect();
    let mut skeleton = String::with_capacity(offsets[first] + text.len() - offsets[end] + 20);
    skeleton.push_str(&text[..offsets[key]]);
    skeleton.push_str("remoteClusters: []\n");
    skeleton.push_str(&text[offsets[key + 1]..offsets[first]]);
    skeleton.push_str(&text[offsets[end]..]);
    Some(Cut { skeleton, items })
}

/// What the last parse produced, to reuse.
#[derive(Debug, Default)]
struct Last {
    topology: Option<Arc<Topology>>,
    skeleton: Option<Key>,
    /// Each item's text → its clusters' range in `topology.remote_clusters`.
    items: HashMap<Key, Range<usize>>,
}

/// A parse from pieces, before validation.
struct Pieces {
    topology: Topology,
    skeleton: Key,
    items: HashMap<Key, Range<usize>>,
}

/// Parses topology files incrementally: see the module docs. One per
/// watched file; the first call parses every piece.
#[derive(Debug, Default)]
pub struct Parser {
    last: Last,
    /// Items parsed (not reused) so far; the tests read it.
    parsed: usize,
}

impl Parser {
    /// Parses and validates `text`, as [`Topology::from_yaml`] does.
    pub fn parse(&mut self, text: &str) -> Result<Arc<Topology>> {
        match cut(text).and_then(|c| self.pieces(&c)) {
            Some(next) => {
                next.topology.validate()?;
                let t = Arc::new(next.topology);
                self.last = Last {
                    topology: Some(t.clone()),
                    skeleton: Some(next.skeleton),
                    items: next.items,
                };
                Ok(t)
            }
            None => {
                self.last = Last::default();
                Topology::from_yaml(text).map(Arc::new)
            }
        }
    }

    /// The topology from the pieces (reused or parsed alone), unvalidated;
    /// `None` when a piece does not parse alone.
    fn pieces(&mut self, c: &Cut<'_>) -> Option<Pieces> {
        let last = self.last.topology.clone();
        let last = last.as_deref();
        let skeleton = Key::of(&c.skeleton);
        let mut t = match last {
            Some(l) if self.last.skeleton == Some(skeleton) => Topology {
                remote_clusters: Vec::new(),
                cluster: l.cluster.clone(),
                tunables: l.tunables.clone(),
            },
            _ => serde_yaml::from_str::<Topology>(&c.skeleton).ok()?,
        };
        if !t.remote_clusters.is_empty() || c.items.is_empty() {
            return None;
        }
        let mut items = HashMap::with_capacity(c.items.len());
        for text in &c.items {
            let key = Key::of(text);
            let start = t.remote_clusters.len();
            match (last, self.last.items.get(&key)) {
                (Some(l), Some(r)) => t
                    .remote_clusters
                    .extend_from_slice(&l.remote_clusters[r.clone()]),
                _ => {
                    self.parsed += 1;
                    t.remote_clusters
                        .extend(serde_yaml::from_str::<Vec<RemoteCluster>>(text).ok()?)
                }
            }
            items.insert(key, start..t.remote_clusters.len());
        }
        Some(Pieces {
            topology: t,
            skeleton,
            items,
        })
    }
}

#[cfg(test)]
#[path = "incremental_tests.rs"]
mod tests;
