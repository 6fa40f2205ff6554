//! Presentation: the normal form rewritten for reading, with hyperbolic functions where they
//! shorten it.
//!
//! [`Expr::present`] brings an expression to its normal form, then
//!
//! 1. puts the terms over a common denominator (the sums under negative integer powers);
//! 2. writes numerator and each denominator sum, when they are a binomial power
//!    `c·e^b·(e^A ± e^(−A))^n` (n ≥ 1), as `c·2^n·e^b·cosh(A)^n` or `sinh(A)^n`;
//! 3. cancels the exponential factors and merges sinh/cosh powers of equal argument into
//!    tanh, coth, sech and csch;
//!
//! and keeps the result only if it prints shorter than the normal form. The result is a
//! deterministic function of the normal form, so equal normal forms present identically and
//! `simplify` of a presented expression gives the normal form back.

use super::simplify::{mk_add, mk_mul, terms_of, Term};
use super::{Expr, Func, Number};

/// Largest binomial power recognised.
const MAX_BINOMIAL: usize = 8;

impl Expr {
    /// The normal form, presented for reading (see the module doc). Same value as `self`.
    pub fn present(&self) -> Expr {
        let nf = self.simplify();
        let mut best = nf.clone();
        for c in [together(&nf), hyperbolic_linear(&nf)]
            .into_iter()
            .flatten()
        {
            if c.to_string().chars().count() < best.to_string().chars().count() {
                best = c;
            }
        }
        best
    }
}

/// `m·(p e^δ + q)/(e^δ + σ)` (σ = ±1) as `m·(a + b·coth(δ/2))` for σ = −1 or
/// `m·(a + b·tanh(δ/2))` for σ = +1, with a = (p + σq)/2, b = (p − σq)/2: the form
/// 1 − 2 coth r of the stabilised friction of f = sinh r.
fn hyperbolic_linear(nf: &Expr) -> Option<Expr> {
    let terms = terms_of(nf);
    // One sum kernel B^(−1), shared by every term that has one.
    let mut kernel: Option<Expr> = None;
    for t in &terms {
        let sums: Vec<(Expr, Expr)> = Term::of(t)
            .pows
            .into_iter()
            .filter(|(b, _)| matches!(b, Expr::Add(_)))
            .collect();
        match sums.as_slice() {
            [] => {}
            [(b, x)] if x.is_int(-1) && kernel.as_ref().is_none_or(|k| k == b) => {
                kernel = Some(b.clone())
            }
            _ => return None,
        }
    }
    let b = kernel?;
    let bt: Vec<Term> = terms_of(&b).iter().map(Term::of).collect();
    let [hi, lo] = bt.as_slice() else { return None };
    let sigma = lo
        .coef
        .as_i64()
        .filter(|s| s.abs() == 1 && lo.exp.is_int(0) && lo.pows.is_empty())?;
    if !hi.coef.is_one() || hi.exp.is_int(0) || !hi.pows.is_empty() {
        return None;
    }
    let delta = hi.exp.clone();
    let numerator = mk_mul(vec![
        nf.clone(),
        Expr::Pow(Box::new(b.clone()), Box::new(Expr::int(1))),
    ]);
    let nt: Vec<Term> = terms_of(&numerator).iter().map(Term::of).collect();
    if nt.is_empty() || nt.len() > 2 || nt.iter().any(|t| t.pows != nt[0].pows) {
        return None;
    }
    let (p, q, m_exp) = match nt.as_slice() {
        [one] => (Number::int(0), one.coef.clone(), one.exp.clone()),
        [t0, t1] => {
            let d = mk_add(vec![
                t0.exp.clone(),
                mk_mul(vec![Expr::int(-1), t1.exp.clone()]),
            ]);
            if d != delta {
                return None;
            }
            (t0.coef.clone(), t1.coef.clone(), t1.exp.clone())
        }
        _ => return None,
    };
    let s = Number::int(sigma);
    let half = Number::ratio(1, 2);
    let a = p.add(&s.mul(&q)).mul(&half);
    let bb = p.add(&s.mul(&q).neg()).mul(&half);
    let h = Expr::Func(
        if sigma < 0 { Func::Coth } else { Func::Tanh },
        Box::new(mk_mul(vec![Expr::ratio(1, 2), delta])),
    );
    let mut sum = Vec::new();
    if !a.is_zero() {
        sum.push(Expr::Num(a));
    }
    if !bb.is_zero() {
        sum.push(if bb.is_one() {
            h
        } else {
            Expr::Mul(vec![Expr::Num(bb), h])
        });
    }
    let inner = match sum.len() {
        0 => return None,
        1 => sum.pop()?,
        _ => Expr::Add(sum),
    };
    let mut fs: Vec<Expr> = Vec::new();
    if !m_exp.is_int(0) {
        fs.push(Expr::Func(Func::Exp, Box::new(m_exp)));
    }
    let mu = Term {
        coef: Number::int(1),
        exp: Expr::int(0),
        pows: nt[0].pows.clone(),
    };
    if !mu.pows.is_empty() {
        fs.push(mu.to_expr());
    }
    if fs.is_empty() {
        return Some(inner);
    }
    fs.push(inner);
    Some(Expr::Mul(fs))
}

/// A product being assembled: coefficient, exponential argument, other factors with integer
/// exponents keyed by base (hyperbolic functions among them).
struct Product {
    coef: Number,
    exp: Expr,
    factors: Vec<(Expr, i64)>,
    /// Factors kept as they are (powers with non-integer exponents, unfolded sums).
    other: Vec<Expr>,
}

impl Product {
    fn new() -> Self {
        Product {
            coef: Number::int(1),
            exp: Expr::int(0),
            factors: Vec::new(),
            other: Vec::new(),
        }
    }

    fn put(&mut self, base: Expr, k: i64) {
        if k == 0 {
            return;
        }
        match self.factors.iter_mut().find(|(b, _)| *b == base) {
            Some(f) => f.1 += k,
            None => self.factors.push((base, k)),
        }
    }

    /// Multiplies by a normal-form term raised to `k` (±1).
    fn put_term(&mut self, t: &Term, k: i64) {
        let c = if k > 0 {
            Some(t.coef.clone())
        } else {
            t.coef.recip()
        };
        if let Some(c) = c {
            self.coef = self.coef.mul(&c);
        }
        self.exp = mk_add(vec![
            self.exp.clone(),
            mk_mul(vec![Expr::int(k), t.exp.clone()]),
        ]);
        for (b, x) in &t.pows {
            match x
                .as_number()
                .and_then(Number::as_i64)
                .filter(|_| x.as_number().is_some_and(Number::is_exact))
            {
                Some(n) => self.put(b.clone(), n * k),
                None => self.other.push(Expr::Pow(
                    Box::new(b.clone()),
                    Box::new(mk_mul(vec![Expr::int(k), x.clone()])),
                )),
            }
        }
    }

    /// Merges sinh^a cosh^b of one argument into tanh/coth and the rest into sech/csch.
    fn merge_hyperbolic(&mut self) {
        let args: Vec<Expr> = self
            .factors
            .iter()
            .filter_map(|(b, _)| match b {
                Expr::Func(Func::Sinh | Func::Cosh, a) => Some(a.as_ref().clone()),
                _ => None,
            })
            .collect();
        let mut done: Vec<Expr> = Vec::new();
        for a in args {
            if done.contains(&a) {
                continue;
            }
            done.push(a.clone());
            let sinh = Expr::Func(Func::Sinh, Box::new(a.clone()));
            let cosh = Expr::Func(Func::Cosh, Box::new(a.clone()));
            let take = |fs: &mut Vec<(Expr, i64)>, b: &Expr| -> i64 {
                match fs.iter().position(|(x, _)| x == b) {
                    Some(i) => fs.remove(i).1,
                    None => 0,
                }
            };
            let mut s = take(&mut self.factors, &sinh);
            let mut c = take(&mut self.factors, &cosh);
            let f = |g: Func| Expr::Func(g, Box::new(a.clone()));
            // A constant argument keeps its reciprocals (`/sinh(1)` reads better than `csch(1)`).
            let constant = a.free_symbols().is_empty();
            if s > 0 && c < 0 {
                let t = s.min(-c);
                self.put(f(Func::Tanh), t);
                s -= t;
                c += t;
            } else if s < 0 && c > 0 {
                let t = (-s).min(c);
                self.put(f(Func::Coth), t);
                s += t;
                c -= t;
            }
            if s > 0 || (s < 0 && constant) {
                self.put(sinh, s);
            } else if s < 0 {
                self.put(f(Func::Csch), -s);
            }
            if c > 0 || (c < 0 && constant) {
                self.put(cosh, c);
            } else if c < 0 {
                self.put(f(Func::Sech), -c);
            }
        }
    }

    fn into_expr(self) -> Expr {
        let mut num: Vec<Expr> = Vec::new();
        if !self.exp.is_int(0) {
            num.push(Expr::Func(Func::Exp, Box::new(self.exp.clone())));
        }
        let mut den: Vec<Expr> = Vec::new();
        for (b, k) in self.factors {
            let f = if k.abs() == 1 {
                b
            } else {
                Expr::Pow(Box::new(b), Box::new(Expr::int(k.abs())))
            };
            if k > 0 {
                num.push(f);
            } else if k < 0 {
                den.push(f);
            }
        }
        num.extend(self.other);
        let mut fs: Vec<Expr> = Vec::new();
        if !self.coef.is_one() || num.is_empty() {
            fs.push(Expr::Num(self.coef));
        }
        fs.extend(num);
        for d in den {
            fs.push(Expr::Pow(Box::new(d), Box::new(Expr::int(-1))));
        }
        match fs.len() {
            1 => fs.pop().unwrap_or(Expr::int(1)),
            _ => Expr::Mul(fs),
        }
    }
}

/// The normal form over a common denominator with hyperbolic folding; `None` when there is
/// nothing to fold.
fn together(nf: &Expr) -> Option<Expr> {
    let terms = terms_of(nf);
    if terms.is_empty() {
        return None;
    }
    // Denominator: each sum kernel with its largest negative integer power.
    let mut den: Vec<(Expr, i64)> = Vec::new();
    for t in &terms {
        for (b, x) in Term::of(t).pows {
            let Some(k) = x
                .as_number()
                .filter(|n| n.is_exact())
                .and_then(Number::as_i64)
            else {
                continue;
            };
            if k < 0 && matches!(b, Expr::Add(_)) {
                match den.iter_mut().find(|(d, _)| *d == b) {
                    Some(d) => d.1 = d.1.max(-k),
                    None => den.push((b, -k)),
                }
            }
        }
    }
    let numerator = if den.is_empty() {
        nf.clone()
    } else {
        let mut fs = vec![nf.clone()];
        for (b, k) in &den {
            // Unexpanded, so that it cancels against the kernel's negative power.
            fs.push(Expr::Pow(Box::new(b.clone()), Box::new(Expr::int(*k))));
        }
        mk_mul(fs)
    };
    // Each of the numerator and the denominator sums unfolded or in one of its folded forms:
    // the shortest print wins.
    let parts: Vec<(&Expr, i64)> = std::iter::once((&numerator, 1))
        .chain(den.iter().map(|(b, k)| (b, -*k)))
        .collect();
    let folds: Vec<Vec<Folded>> = parts.iter().map(|(e, _)| fold(e)).collect();
    let combos: usize = folds.iter().map(|f| f.len() + 1).product();
    if combos > 729 {
        return None;
    }
    let mut best: Option<(usize, Expr)> = None;
    for mut code in 0..combos {
        let mut p = Product::new();
        for (i, (e, k)) in parts.iter().enumerate() {
            let choice = code % (folds[i].len() + 1);
            code /= folds[i].len() + 1;
            match choice.checked_sub(1).map(|j| &folds[i][j]) {
                Some(f) => {
                    for _ in 0..k.unsigned_abs() {
                        apply(&mut p, f.clone(), k.signum());
                    }
                }
                None if *k > 0 => match terms_of(e).as_slice() {
                    [single] => p.put_term(&Term::of(single), 1),
                    _ => p.other.push((*e).clone()),
                },
                None => p.put((*e).clone(), *k),
            }
        }
        p.merge_hyperbolic();
        let c = p.into_expr();
        let len = c.to_string().chars().count();
        if best.as_ref().is_none_or(|(l, _)| len < *l) {
            best = Some((len, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A folded sum: coefficient · μ · e^b · H^n, with H = sinh(A) or cosh(A), or H = (e^δ ± 1).
#[derive(Clone)]
struct Folded {
    coef: Number,
    mu: Term,
    b: Expr,
    h: Expr,
    n: i64,
}

fn apply(p: &mut Product, f: Folded, k: i64) {
    let c = if k > 0 { Some(f.coef) } else { f.coef.recip() };
    if let Some(c) = c {
        p.coef = p.coef.mul(&c);
    }
    p.put_term(&f.mu, k);
    p.exp = mk_add(vec![p.exp.clone(), mk_mul(vec![Expr::int(k), f.b])]);
    p.put(f.h, k * f.n);
}

fn binomial(n: usize, k: usize) -> i64 {
    (0..k).fold(1i64, |acc, i| acc * (n - i) as i64 / (i + 1) as i64)
}

/// Recognises `c·μ·e^b·(e^A ± e^(−A))^n` in a normal-form sum: its hyperbolic and its binomial
/// forms (none if it is not one).
fn fold(sum: &Expr) -> Vec<Folded> {
    fold_inner(sum).unwrap_or_default()
}

fn fold_inner(sum: &Expr) -> Option<Vec<Folded>> {
    let ts: Vec<Term> = terms_of(sum).iter().map(Term::of).collect();
    let n = ts.len().checked_sub(1)?;
    if n == 0 || n > MAX_BINOMIAL {
        return None;
    }
    let mu = ts[0].pows.clone();
    if ts.iter().any(|t| t.pows != mu) {
        return None;
    }
    // Exponential arguments equally spaced by δ (terms are sorted by descending argument).
    let delta = mk_add(vec![
        ts[0].exp.clone(),
        mk_mul(vec![Expr::int(-1), ts[1].exp.clone()]),
    ]);
    if delta.is_int(0) {
        return None;
    }
    for w in ts.windows(2) {
        let d = mk_add(vec![
            w[0].exp.clone(),
            mk_mul(vec![Expr::int(-1), w[1].exp.clone()]),
        ]);
        if d != delta {
            return None;
        }
    }
    // Coefficients c0 · C(n, k) · σ^k.
    let c0 = ts[0].coef.clone();
    let sigma_neg = ts[1].coef.cmp_value(&Number::int(0)) != c0.cmp_value(&Number::int(0));
    for (k, t) in ts.iter().enumerate() {
        let sign = if sigma_neg && k % 2 == 1 { -1 } else { 1 };
        let want = c0.mul(&Number::int(sign * binomial(n, k)));
        if want != t.coef && want.cmp_value(&t.coef).is_ne() {
            return None;
        }
    }
    let half = Expr::ratio(1, 2);
    let a = mk_mul(vec![half.clone(), delta.clone()]);
    // e^(E0)·(1 + σ e^(−δ))^n = e^(E0 − nδ/2)·(e^(δ/2) + σ e^(−δ/2))^n = e^(E0 − nδ)·(e^δ + σ)^n
    let b = mk_add(vec![
        ts[0].exp.clone(),
        mk_mul(vec![Expr::int(-(n as i64)), a.clone()]),
    ]);
    let b_low = mk_add(vec![
        ts[0].exp.clone(),
        mk_mul(vec![Expr::int(-(n as i64)), delta.clone()]),
    ]);
    let mu = Term {
        coef: Number::int(1),
        exp: Expr::int(0),
        pows: mu,
    };
    let two_n = Number::int(1i64 << n);
    let h = if sigma_neg { Func::Sinh } else { Func::Cosh };
    let sigma = Expr::int(if sigma_neg { -1 } else { 1 });
    Some(vec![
        Folded {
            coef: c0.mul(&two_n),
            mu: mu.clone(),
            b,
            h: Expr::Func(h, Box::new(a)),
            n: n as i64,
        },
        Folded {
            coef: c0,
            mu,
            b: b_low,
            h: mk_add(vec![super::simplify::mk_exp(delta), sigma]),
            n: n as i64,
        },
    ])
}
