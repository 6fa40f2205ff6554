//! Symbolic differentiation and substitution.

use super::{Expr, Func};
use std::collections::BTreeMap;

impl Expr {
    /// The derivative d(self)/d(var), simplified.
    pub fn diff(&self, var: &str) -> Expr {
        self.diff_raw(var).simplify()
    }

    /// Number of nodes of the tree.
    pub fn size(&self) -> usize {
        1 + match self {
            Expr::Num(_) | Expr::Pi | Expr::Sym(_) => 0,
            Expr::Add(xs) | Expr::Mul(xs) => xs.iter().map(Expr::size).sum(),
            Expr::Pow(b, e) => b.size() + e.size(),
            Expr::Func(_, a) => a.size(),
        }
    }

    /// Size of the unsimplified derivative (cheap; guards the cost of [`Expr::diff`]).
    pub fn derivative_size(&self, var: &str) -> usize {
        self.diff_raw(var).size()
    }

    /// The derivative as the chain, product and power rules give it, not simplified (for
    /// interval enclosures, which the expanded normal form can widen).
    pub fn diff_unsimplified(&self, var: &str) -> Expr {
        self.diff_raw(var)
    }

    /// Unsimplified derivative (chain, product and power rules).
    fn diff_raw(&self, var: &str) -> Expr {
        if !self.depends_on(var) {
            return Expr::int(0);
        }
        match self {
            Expr::Num(_) | Expr::Pi => Expr::int(0),
            Expr::Sym(_) => Expr::int(1),
            Expr::Add(xs) => Expr::Add(xs.iter().map(|x| x.diff_raw(var)).collect()),
            Expr::Mul(xs) => {
                let mut terms = Vec::with_capacity(xs.len());
                for (i, x) in xs.iter().enumerate() {
                    if !x.depends_on(var) {
                        continue;
                    }
                    let mut factors = xs.clone();
                    factors[i] = x.diff_raw(var);
                    terms.push(Expr::Mul(factors));
                }
                Expr::Add(terms)
            }
            Expr::Pow(b, e) => {
                let (b, e) = (b.as_ref(), e.as_ref());
                if !e.depends_on(var) {
                    // d(b^e) = e · b^(e-1) · b'
                    Expr::Mul(vec![
                        e.clone(),
                        b.clone().pow(e.clone() + Expr::int(-1)),
                        b.diff_raw(var),
                    ])
                } else {
                    // d(b^e) = b^e · (e' log b + e b'/b)
                    let log_part = Expr::Mul(vec![e.diff_raw(var), b.clone().log()]);
                    let mut sum = vec![log_part];
                    if b.depends_on(var) {
                        sum.push(Expr::Mul(vec![
                            e.clone(),
                            b.diff_raw(var),
                            b.clone().pow(Expr::int(-1)),
                        ]));
                    }
                    Expr::Mul(vec![self.clone(), Expr::Add(sum)])
                }
            }
            Expr::Func(f, a) => {
                let inner = a.diff_raw(var);
                let a = a.as_ref().clone();
                let sq = |e: Expr| e.pow(Expr::int(2));
                let outer = match f {
                    Func::Exp => a.exp(),
                    Func::Log => a.pow(Expr::int(-1)),
                    Func::Sqrt => Expr::Mul(vec![Expr::ratio(1, 2), a.pow(Expr::ratio(-1, 2))]),
                    Func::Sinh => a.apply(Func::Cosh),
                    Func::Cosh => a.apply(Func::Sinh),
                    Func::Tanh => sq(a.apply(Func::Sech)),
                    Func::Coth => -sq(a.apply(Func::Csch)),
                    Func::Sech => -(a.clone().apply(Func::Sech) * a.apply(Func::Tanh)),
                    Func::Csch => -(a.clone().apply(Func::Csch) * a.apply(Func::Coth)),
                };
                Expr::Mul(vec![outer, inner])
            }
        }
    }

    /// Replaces every occurrence of the symbol `var` by `value`, then simplifies.
    pub fn subst(&self, var: &str, value: &Expr) -> Expr {
        self.replace(&|s| (s == var).then(|| value.clone()))
            .simplify()
    }

    /// Replaces every symbol named in `values` by its number, then simplifies.
    pub fn subst_all(&self, values: &BTreeMap<String, f64>) -> Expr {
        self.replace(&|s| values.get(s).map(|v| Expr::num(*v)))
            .simplify()
    }

    /// Structural replacement of symbols (no simplification).
    pub(crate) fn replace(&self, f: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        match self {
            Expr::Num(_) | Expr::Pi => self.clone(),
            Expr::Sym(s) => f(s).unwrap_or_else(|| self.clone()),
            Expr::Add(xs) => Expr::Add(xs.iter().map(|x| x.replace(f)).collect()),
            Expr::Mul(xs) => Expr::Mul(xs.iter().map(|x| x.replace(f)).collect()),
            Expr::Pow(b, e) => b.replace(f).pow(e.replace(f)),
            Expr::Func(g, a) => Expr::Func(*g, Box::new(a.replace(f))),
        }
    }
}
