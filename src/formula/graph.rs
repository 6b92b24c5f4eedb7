//! The dependency graph of derived fields: a stable topological order (ties broken by name, so
//! every run evaluates in the same order) and, when there is none, the cycle that prevents it.

use std::collections::{BTreeMap, BTreeSet};

use super::{dep_field, dep_name, Compiled, Dep};
use crate::data::Datasets;
use crate::diag::Diagnostic;
use crate::source::SourceMap;

/// The order to evaluate derived fields in, or a cycle.
pub(super) fn order(
    compiled: &BTreeMap<Dep, Compiled>,
    data: &Datasets,
) -> Result<Vec<Dep>, Vec<Dep>> {
    let mut waiting: BTreeMap<Dep, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<Dep, Vec<Dep>> = BTreeMap::new();
    for (dep, c) in compiled {
        let inputs: BTreeSet<Dep> = c
            .deps
            .iter()
            .copied()
            .filter(|d| compiled.contains_key(d))
            .collect();
        waiting.insert(*dep, inputs.len());
        for i in inputs {
            dependents.entry(i).or_default().push(*dep);
        }
    }
    let mut ready: BTreeSet<(String, Dep)> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(d, _)| (dep_name(*d, data), *d))
        .collect();
    let mut out = Vec::with_capacity(compiled.len());
    while let Some(first) = ready.iter().next().cloned() {
        ready.remove(&first);
        let dep = first.1;
        out.push(dep);
        for next in dependents.get(&dep).map(Vec::as_slice).unwrap_or_default() {
            let n = waiting.get_mut(next).expect("every node is counted");
            *n -= 1;
            if *n == 0 {
                ready.insert((dep_name(*next, data), *next));
            }
        }
    }
    if out.len() == compiled.len() {
        return Ok(out);
    }
    let done: BTreeSet<Dep> = out.into_iter().collect();
    Err(find_cycle(compiled, &done, data))
}

/// A cycle among the fields that could not be ordered, starting at the smallest name.
fn find_cycle(
    compiled: &BTreeMap<Dep, Compiled>,
    done: &BTreeSet<Dep>,
    data: &Datasets,
) -> Vec<Dep> {
    let stuck: BTreeSet<Dep> = compiled
        .keys()
        .copied()
        .filter(|d| !done.contains(d))
        .collect();
    let start = stuck
        .iter()
        .copied()
        .min_by_key(|d| dep_name(*d, data))
        .expect("a cycle has members");
    let mut path = vec![start];
    let mut seen: BTreeMap<Dep, usize> = BTreeMap::from([(start, 0)]);
    let mut current = start;
    loop {
        let next = compiled[&current]
            .deps
            .iter()
            .copied()
            .filter(|d| stuck.contains(d))
            .min_by_key(|d| dep_name(*d, data))
            .expect("a stuck node waits on another stuck node");
        if let Some(&i) = seen.get(&next) {
            let mut cycle = path.split_off(i);
            let smallest = (0..cycle.len())
                .min_by_key(|&k| dep_name(cycle[k], data))
                .unwrap_or(0);
            cycle.rotate_left(smallest);
            return cycle;
        }
        seen.insert(next, path.len());
        path.push(next);
        current = next;
    }
}

/// The diagnostic for a cycle: it names the whole cycle and points at each member's formula.
pub(super) fn cycle_diagnostic(cycle: &[Dep], data: &Datasets, sources: &SourceMap) -> Diagnostic {
    let mut names: Vec<String> = cycle.iter().map(|d| dep_name(*d, data)).collect();
    names.push(names[0].clone());
    let first = dep_field(cycle[0], data);
    let pos = first.formula.as_ref().map_or(first.pos, |f| f.pos);
    if cycle.len() == 1 {
        return Diagnostic::error(format!("the formula of `{}` uses `{}` itself", names[0], names[0]))
            .at(sources, pos)
            .label("this formula refers to its own result")
            .help("a value cannot be computed from itself: compute it from parameters, inputs or other figures");
    }
    let mut d = Diagnostic::error(format!(
        "formulas depend on each other in a cycle: {}",
        names.join(" -> ")
    ))
    .at(sources, pos)
    .label("this formula is part of the cycle");
    for dep in &cycle[1..] {
        let f = dep_field(*dep, data);
        let p = f.formula.as_ref().map_or(f.pos, |f| f.pos);
        let file = sources.get(p.file);
        d = d.note(format!(
            "`{}` is computed at {}:{}:{}",
            dep_name(*dep, data),
            file.path.display(),
            p.line,
            p.col
        ));
    }
    d.help("a value cannot be computed from itself: make one of these an input, or break the chain")
}
