//! Explaining why a claim over the data does not hold: for `all(dataset, condition)`, the rows
//! that break it with the values the condition reads; otherwise the values the claim reads.

use std::collections::BTreeSet;

use crate::formula::compile::{AggKind, Ir, RowSel};
use crate::formula::{Ctx, V};
use crate::model::Model;

/// The values that make a claim false, one line each.
pub fn explain(ir: &Ir, model: &Model) -> Vec<String> {
    let data = &model.data;
    if let Ir::Agg {
        kind: kind @ (AggKind::All | AggKind::Any),
        ds,
        value: Some(pred),
        filter,
        ..
    } = ir
    {
        let d = &data.datasets[*ds];
        let mut cols = BTreeSet::new();
        columns_read(pred, &mut cols);
        let mut out = Vec::new();
        for row in 0..d.len() {
            let ctx = Ctx::row(data, *ds, row);
            if let Some(f) = filter {
                if crate::formula::eval::eval(f, ctx).ok() != Some(V::Bool(true)) {
                    continue;
                }
            }
            let ok = crate::formula::eval::eval(pred, ctx).ok() == Some(V::Bool(true));
            if (*kind == AggKind::All && !ok) || (*kind == AggKind::Any) {
                let values: Vec<String> = cols
                    .iter()
                    .map(|&c| {
                        format!(
                            "{} = {}",
                            d.columns[c].field.name,
                            model.display(&d.columns[c].field, &d.columns[c].cells[row])
                        )
                    })
                    .collect();
                out.push(format!("`{}`: {}", d.row_keys[row], values.join(", ")));
            }
            if out.len() >= 20 {
                out.push("...".into());
                break;
            }
        }
        if *kind == AggKind::Any {
            out.insert(
                0,
                format!("no row of `{}` satisfies the condition:", d.name),
            );
        }
        return out;
    }
    let mut refs = Vec::new();
    leaves(ir, &mut refs);
    let mut out = Vec::new();
    for leaf in refs {
        let line = match leaf {
            Ir::Global(g, _) => {
                let gl = &data.globals[*g];
                format!(
                    "{} = {}",
                    gl.field.name,
                    model.display(&gl.field, &gl.value)
                )
            }
            Ir::Field {
                ds,
                row: RowSel::Fixed(r),
                col,
                ..
            } => {
                let d = &data.datasets[*ds];
                let c = &d.columns[*col];
                format!(
                    "{}[\"{}\"].{} = {}",
                    d.name,
                    d.row_keys[*r as usize],
                    c.field.name,
                    model.display(&c.field, &c.cells[*r as usize])
                )
            }
            _ => continue,
        };
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// The columns of the current row a condition reads.
fn columns_read(ir: &Ir, out: &mut BTreeSet<usize>) {
    visit(ir, &mut |n| {
        if let Ir::Col(c, _) = n {
            out.insert(*c);
        }
    });
}

fn leaves<'a>(ir: &'a Ir, out: &mut Vec<&'a Ir>) {
    match ir {
        Ir::Global(..)
        | Ir::Field {
            row: RowSel::Fixed(_),
            ..
        } => out.push(ir),
        _ => children(ir).into_iter().for_each(|c| leaves(c, out)),
    }
}

/// Calls `f` on every node of a formula (not descending into aggregates' rows).
pub fn visit<'a>(ir: &'a Ir, f: &mut dyn FnMut(&'a Ir)) {
    f(ir);
    for c in children(ir) {
        visit(c, f);
    }
}

fn children(ir: &Ir) -> Vec<&Ir> {
    match ir {
        Ir::Neg(a) | Ir::Not(a) | Ir::Present(a) => vec![a],
        Ir::Bin(_, a, b, _) => vec![a, b],
        Ir::Cond(a, b, c) => vec![a, b, c],
        Ir::Func(_, args, _) => args.iter().collect(),
        Ir::Field {
            row: RowSel::Via(inner),
            ..
        } => vec![inner],
        _ => Vec::new(),
    }
}
