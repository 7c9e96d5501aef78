//! The jump graph of a table: loops, depth, and which base chains each
//! chain runs under.

use crate::hook::{ChainType, Hook};
use crate::model::{Action, Chain, Table};
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub(crate) fn find_cycle<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Option<Vec<String>> {
    fn dfs<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        stack: &mut Vec<&'a str>,
        done: &mut HashSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| *s == n) {
            let mut cyc: Vec<String> = stack[pos..].iter().map(|s| s.to_string()).collect();
            cyc.push(n.to_string());
            return Some(cyc);
        }
        if !done.insert(n) {
            return None;
        }
        stack.push(n);
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = dfs(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = HashSet::new();
    edges
        .keys()
        .find_map(|n| dfs(n, edges, &mut vec![], &mut done))
}

/// The kernel's jump stack (NFT_JUMP_STACK_SIZE): a base chain may be
/// followed by at most 15 nested jumps (the 16th is refused with EMLINK,
/// checked in a namespace).
pub const MAX_JUMP_DEPTH: usize = 16;

/// A chain path from a base chain deeper than [`MAX_JUMP_DEPTH`] jumps, if
/// any (the graph is acyclic here).
pub(crate) fn too_deep(t: &Table, edges: &BTreeMap<&str, Vec<&str>>) -> Option<Vec<String>> {
    fn longest<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        memo: &mut BTreeMap<&'a str, Vec<&'a str>>,
    ) -> Vec<&'a str> {
        if let Some(p) = memo.get(n) {
            return p.clone();
        }
        let mut best: Vec<&str> = vec![];
        for m in edges.get(n).into_iter().flatten() {
            let p = longest(m, edges, memo);
            if p.len() > best.len() {
                best = p;
            }
        }
        best.insert(0, n);
        memo.insert(n, best.clone());
        best
    }
    let mut memo = BTreeMap::new();
    t.chains
        .iter()
        .filter(|c| c.base.is_some())
        .map(|c| longest(&c.name, edges, &mut memo))
        .find(|p| p.len() > MAX_JUMP_DEPTH)
        .map(|p| p.into_iter().map(String::from).collect())
}

/// For each chain, the (type, hook) of every base chain it runs under.
pub(crate) fn reachable_contexts<'a>(
    t: &'a Table,
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
) -> BTreeMap<&'a str, BTreeSet<(ChainType, Hook)>> {
    let mut out: BTreeMap<&str, BTreeSet<(ChainType, Hook)>> = BTreeMap::new();
    for c in t.chains.iter().filter(|c| c.base.is_some()) {
        let b = c.base.unwrap();
        let mut todo = vec![c.name.as_str()];
        let mut seen = HashSet::new();
        while let Some(n) = todo.pop() {
            if !seen.insert(n) {
                continue;
            }
            out.entry(n).or_default().insert((b.ty, b.hook));
            todo.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    out
}

/// Chains reachable from no base chain (dead code in a ruleset).
pub fn unreachable_chains(t: &Table) -> Vec<&Chain> {
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &t.chains {
        for r in &c.rules {
            if let Some(Action::Jump(target)) = &r.action {
                edges
                    .entry(c.name.as_str())
                    .or_default()
                    .push(target.as_str());
            }
        }
    }
    let ctx = reachable_contexts(t, &edges);
    t.chains
        .iter()
        .filter(|c| !ctx.contains_key(c.name.as_str()))
        .collect()
}
