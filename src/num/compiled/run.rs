//! Running compiled statements: the members' storage and the statement runner.

use super::*;

/// One member's elements, by position.
pub(super) type Elements = FastMap<Vec<i64>, f64>;

/// Where a compiled run finds its members' elements: maps taken out of the store for the
/// run (`Vec<Elements>`, indexed by member), or the store itself ([`InPlace`]).
pub(super) trait Members {
    /// The element of `member` at `pos`, if stored.
    fn get(&self, member: usize, pos: &[i64]) -> Option<f64>;
    /// The elements of `member` for a write (entering the store when it is not there yet,
    /// as the interpreter's first write puts it there).
    fn elements(&mut self, member: usize) -> &mut Elements;
}

impl Members for Vec<Elements> {
    #[inline]
    fn get(&self, member: usize, pos: &[i64]) -> Option<f64> {
        self[member].get(pos).copied()
    }
    #[inline]
    fn elements(&mut self, member: usize) -> &mut Elements {
        &mut self[member]
    }
}

/// The store (taken out of the machine for the run and put back) read and written where
/// it is, each member looked up by its key at each access: for a statement of one element without summed indices (a scalar RNN step),
/// whose accesses are fewer than the two look-ups per member of taking its map out of
/// the store and putting it back.
pub(super) struct InPlace<'s> {
    pub(super) vals: super::super::Store,
    pub(super) keys: &'s [(String, bool)],
}

impl Members for InPlace<'_> {
    #[inline]
    fn get(&self, member: usize, pos: &[i64]) -> Option<f64> {
        let (name, grad) = &self.keys[member];
        self.vals
            .get(&(name.as_str(), *grad) as &dyn MemberKey)
            .and_then(|m| m.get(pos))
            .copied()
    }
    fn elements(&mut self, member: usize) -> &mut Elements {
        let key = &self.keys[member];
        let k = &(key.0.as_str(), key.1) as &dyn MemberKey;
        if self.vals.contains_key(k) {
            return self.vals.get_mut(k).expect("present");
        }
        self.vals.entry(key.clone()).or_default()
    }
}

/// The state of one compiled run.
pub(super) struct Run<M: Members> {
    pub(super) steps: u64,
    pub(super) max_steps: u64,
    pub(super) kink_sides: u64,
    /// [`crate::num::Machine::saturated`] during the run.
    pub(super) saturated: u64,
    pub(super) elements: usize,
    pub(super) max_elements: usize,
    pub(super) circular: bool,
    pub(super) maps: M,
    pub(super) slots: Vec<i64>,
    pub(super) pos: Vec<i64>,
}

impl<M: Members> Run<M> {
    #[inline]
    pub(super) fn tick(&mut self) -> Result<(), NumError> {
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(super::super::steps_exceeded(self.max_steps));
        }
        Ok(())
    }

    /// The position of `ixs` in `self.pos`; `false` when a shifted position falls
    /// outside and the boundary rule reads 0 or drops the write.
    #[inline]
    pub(super) fn position(&mut self, ixs: &[Ix]) -> bool {
        self.pos.clear();
        for ix in ixs {
            let v = ix.value(&self.slots);
            match ix.extent {
                Some(n) if v < 0 || v >= n => {
                    if self.circular && n > 0 {
                        self.pos.push(v.rem_euclid(n));
                    } else {
                        return false;
                    }
                }
                _ => self.pos.push(v),
            }
        }
        true
    }

    pub(super) fn sum(
        &mut self,
        depth: usize,
        ranges: &[(i64, i64)],
        leaf: &Node,
    ) -> Result<f64, NumError> {
        let Some((&(lo, hi), rest)) = ranges.split_first() else {
            return self.eval(leaf);
        };
        let mut acc = 0.0;
        for v in lo..=hi {
            self.slots[depth] = v;
            acc += self.sum(depth + 1, rest, leaf)?;
        }
        Ok(acc)
    }

    pub(super) fn eval(&mut self, n: &Node) -> Result<f64, NumError> {
        Ok(match n {
            Node::Add(l, r) => self.eval(l)? + self.eval(r)?,
            Node::Sub(l, r) => self.eval(l)? - self.eval(r)?,
            Node::Loops {
                tick,
                depth,
                ranges,
                leaf,
            } => {
                if *tick {
                    self.tick()?;
                }
                self.sum(*depth, ranges, leaf)?
            }
            Node::Product(op, l, r) => {
                self.tick()?;
                let x = self.eval(l)?;
                let y = self.eval(r)?;
                match op {
                    BinOp::Div => x / y,
                    BinOp::Pow => x.powf(y),
                    _ => x * y,
                }
            }
            Node::Value(v) => {
                self.tick()?;
                *v
            }
            Node::Bound(d) => {
                self.tick()?;
                self.slots[*d] as f64
            }
            Node::Read { member, pos } => {
                self.tick()?;
                if self.position(pos) {
                    self.maps.get(*member, &self.pos).unwrap_or(0.0)
                } else {
                    0.0
                }
            }
            Node::Neg(x) => {
                self.tick()?;
                -self.eval(x)?
            }
            Node::Binary(op, l, r) => {
                self.tick()?;
                let x = self.eval(l)?;
                let y = self.eval(r)?;
                match op {
                    BinOp::Add => x + y,
                    BinOp::Sub => x - y,
                    BinOp::Mul | BinOp::Jux => x * y,
                    BinOp::Div => x / y,
                    BinOp::Pow => x.powf(y),
                }
            }
            Node::Truth(t) => {
                self.tick()?;
                if self.truth(t)? {
                    1.0
                } else {
                    0.0
                }
            }
            Node::Func {
                f,
                func,
                kinks,
                arg,
            } => {
                self.tick()?;
                let x = self.eval(arg)?;
                for &k in *kinks {
                    self.kink_sides = super::super::kink_side(self.kink_sides, x, k);
                }
                let y = f(x);
                if super::super::run::saturates(*func, x, y) {
                    self.saturated += 1;
                }
                y
            }
            Node::MinMax { max, args } => {
                self.tick()?;
                let mut acc = if *max {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                };
                for a in args {
                    let x = self.eval(a)?;
                    acc = if *max { acc.max(x) } else { acc.min(x) };
                }
                acc
            }
        })
    }

    pub(super) fn truth(&mut self, t: &Truth) -> Result<bool, NumError> {
        Ok(match t {
            Truth::Rel(op, l, r) => {
                let x = self.eval(l)?;
                let y = self.eval(r)?;
                holds(*op, x, y)
            }
            Truth::Nonzero(x) => self.eval(x)? != 0.0,
        })
    }

    /// The block's elements: its loops from `k` on, then each statement.
    pub(super) fn block(&mut self, c: &Compiled, k: usize) -> Result<(), NumError> {
        if let Some(&(lo, hi)) = c.loops.get(k) {
            for v in lo..=hi {
                self.slots[c.outer + k] = v;
                self.block(c, k + 1)?;
            }
            return Ok(());
        }
        for st in &c.stmts {
            self.statement(st, 0)?;
        }
        Ok(())
    }

    /// A statement's elements: its free indices from `k` on, then the value and its write.
    pub(super) fn statement(&mut self, st: &Stmt, k: usize) -> Result<(), NumError> {
        if let Some(&(lo, hi)) = st.free.get(k) {
            for v in lo..=hi {
                self.slots[st.first + k] = v;
                self.statement(st, k + 1)?;
            }
            return Ok(());
        }
        let v = self.eval(&st.rhs)?;
        if !self.position(&st.lhs_pos) {
            return Ok(());
        }
        let map = self.maps.elements(st.lhs_member);
        if let Some(slot) = map.get_mut(self.pos.as_slice()) {
            let old = *slot;
            *slot = match st.op {
                AssignOp::Set => v,
                AssignOp::AddAssign => old + v,
                AssignOp::SubAssign => old - v,
            };
            return Ok(());
        }
        // `Machine::store` of an element not yet stored: the old value is 0.
        let old = 0.0;
        let new = match st.op {
            AssignOp::Set => v,
            AssignOp::AddAssign => old + v,
            AssignOp::SubAssign => old - v,
        };
        map.insert(self.pos.clone(), new);
        self.elements += 1;
        if self.elements > self.max_elements {
            return Err(super::super::too_many_elements(self.max_elements));
        }
        Ok(())
    }
}
