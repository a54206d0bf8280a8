//! The module's leaf lines: each declared tensor (or family member) drawn over the
//! ranges of its axes, one line per member, for `tq emit --target numpy`.

use super::*;

/// The leaves of a declaration: members with the range of each dimension.
pub(super) fn leaf_lines(m: &mut Machine, d: &Decl) -> Result<Vec<String>, String> {
    let (dist, args) = match &d.init {
        // Arguments that read the family variable (`normal(0, (1 + c l)/J) for l in
        // 1..L`): each member's are its own.
        Some(Init::Dist(c)) if d.family.is_some() && m.element_wise(d, &c.args) => {
            return family_leaf_lines(m, d, c);
        }
        Some(Init::Dist(c)) => {
            let mut args = Vec::new();
            for a in &c.args {
                match m.const_expr(a) {
                    Ok(v) => args.push(py_float(v)),
                    // An argument that reads the declared indices (or other tensors) is
                    // drawn element by element in `sample_dependent`.
                    Err(_) if c.args.iter().any(reads_names) => return Ok(vec![]),
                    Err(e) => return Err(e.message),
                }
            }
            (c.func.name.clone(), args)
        }
        Some(Init::Value(e)) => (
            "value".to_string(),
            vec![py_float(m.const_expr(e).map_err(|e| e.message)?)],
        ),
        None => return Ok(vec![]),
    };
    // The members' ranges from their axes, without listing their elements (a weight of
    // 1,100 x 1,100 listed 1,210,000 positions, 250 MB; session 35); a member declared
    // twice is listed as before.
    let members = m.decl_members(d).map_err(|e| e.message)?;
    let names: std::collections::BTreeSet<&str> =
        members.iter().map(|dm| dm.member.as_str()).collect();
    if names.len() != members.len() {
        let elements = m.decl_elements(d).map_err(|e| e.message)?;
        return member_lines(elements, &dist, &args);
    }
    let mut out = Vec::new();
    for dm in &members {
        out.extend(grid_line(dm, &dist, &args)?);
    }
    Ok(out)
}

/// A member's line from its axes (`None` when a dimension takes no value: no element).
pub(super) fn grid_line(
    dm: &crate::num::DeclMember,
    dist: &str,
    args: &[String],
) -> Result<Option<String>, String> {
    if dm.axes.iter().any(|a| a.is_empty()) {
        return Ok(None);
    }
    let mut ranges = Vec::new();
    let mut count: usize = 1;
    for axis in &dm.axes {
        let lo = axis.iter().copied().min().unwrap_or(0);
        let hi = axis.iter().copied().max().unwrap_or(0);
        count = count.saturating_mul((hi - lo + 1) as usize);
        ranges.push(format!("({lo}, {hi})"));
    }
    if count != dm.elements() {
        return Err(format!(
            "the elements of `{}` do not form a grid",
            dm.member
        ));
    }
    Ok(Some(member_line(&dm.member, &ranges, dist, args)))
}

/// A member's line in the module's list of leaves.
pub(super) fn member_line(member: &str, ranges: &[String], dist: &str, args: &[String]) -> String {
    format!(
        "    ({}, [{}], {}, [{}]),",
        py_str(member),
        ranges.join(", "),
        py_str(dist),
        args.join(", ")
    )
}

/// A run of elements of one member with the same arguments: the arguments (printed) and
/// the elements.
type MemberRun = (Vec<String>, Vec<(String, Vec<i64>)>);

/// The leaves of a family whose distribution's arguments read the family variable:
/// the arguments evaluated per member (with the member's family value bound); arguments
/// that differ within a member (they read the declared indices) cannot be emitted.
pub(super) fn family_leaf_lines(
    m: &mut Machine,
    d: &Decl,
    c: &Call,
) -> Result<Vec<String>, String> {
    // Arguments that read no index of the target (the family variable only): one value
    // per member, at its family value, without listing its elements (420 members of
    // 50 x 50 listed 1,050,000 elements with their bindings, 336 MB; session 35). Each
    // member was its own run below, so the lines are the same.
    let family = d.family.as_ref().map(|r| r.var.name.as_str());
    let mut reads_index = false;
    for ix in d.target.indices.iter().flatten() {
        let IndexExpr::Affine(a) = ix else { continue };
        for t in &a.terms {
            for f in &t.factors {
                // The family variable, and a size written for every position (`W_l[N, N]
                // ~ normal(0, 1/N)`: the arguments read the size's value, the same at
                // every element; the listing below held 600 MB for 780 such members).
                if Some(f.name.as_str()) == family || m.env.sizes.contains_key(&f.name) {
                    continue;
                }
                for arg in &c.args {
                    crate::syntax::visit::walk_refs(arg, &mut |r| {
                        reads_index |= crate::syntax::printer::print_name(&r.name) == f.name;
                    });
                }
            }
        }
    }
    if !reads_index {
        let mut out = Vec::new();
        for dm in m.decl_members(d).map_err(|e| e.message)? {
            if dm.axes.iter().any(|a| a.is_empty()) {
                continue;
            }
            let b: crate::num::Bind = match (&d.family, dm.fam) {
                (Some(r), Some(v)) => vec![(r.var.name.clone(), v)],
                _ => vec![],
            };
            let mut args = Vec::new();
            for a in &c.args {
                args.push(py_float(m.eval(a, &b).map_err(|e| e.message)?));
            }
            out.extend(grid_line(&dm, &c.func.name, &args)?);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    let mut run: Option<MemberRun> = None;
    let flush = |run: &mut Option<MemberRun>, out: &mut Vec<String>| -> Result<(), String> {
        if let Some((args, els)) = run.take() {
            out.extend(member_lines(els, &c.func.name, &args)?);
        }
        Ok(())
    };
    for (member, pos, b) in m.decl_element_binds(d).map_err(|e| e.message)? {
        let mut args = Vec::new();
        for a in &c.args {
            args.push(py_float(m.eval(a, &b).map_err(|e| e.message)?));
        }
        match &mut run {
            Some((a, els)) if els.first().is_some_and(|(m0, _)| *m0 == member) => {
                if *a != args {
                    return Err(format!(
                        "cannot emit `{}`: its distribution's arguments differ within the member `{member}`",
                        crate::syntax::printer::print_ref(&d.target)
                    ));
                }
                els.push((member, pos));
            }
            _ => {
                flush(&mut run, &mut out)?;
                run = Some((args, vec![(member, pos)]));
            }
        }
    }
    flush(&mut run, &mut out)?;
    Ok(out)
}

/// One line per member: its name, the range of each dimension, the distribution and
/// its arguments.
pub(super) fn member_lines(
    elements: Vec<(String, Vec<i64>)>,
    dist: &str,
    args: &[String],
) -> Result<Vec<String>, String> {
    let mut by_member: BTreeMap<String, Vec<Vec<i64>>> = BTreeMap::new();
    let mut order = Vec::new();
    for (member, pos) in elements {
        if !by_member.contains_key(&member) {
            order.push(member.clone());
        }
        by_member.entry(member).or_default().push(pos);
    }
    let mut out = Vec::new();
    for member in order {
        let ps = &by_member[&member];
        let rank = ps.first().map_or(0, |p| p.len());
        let mut ranges = Vec::new();
        let mut count: usize = 1;
        for k in 0..rank {
            let lo = ps.iter().map(|p| p[k]).min().unwrap_or(0);
            let hi = ps.iter().map(|p| p[k]).max().unwrap_or(0);
            count = count.saturating_mul((hi - lo + 1) as usize);
            ranges.push(format!("({lo}, {hi})"));
        }
        if count != ps.len() {
            return Err(format!("the elements of `{member}` do not form a grid"));
        }
        out.push(member_line(&member, &ranges, dist, args));
    }
    Ok(out)
}
