//! The pest parser: source text to [`FileAst`], and pest errors to human diagnostics.

use crate::ast::*;
use crate::diagnostics::{Diagnostic, Diagnostics};
use pest::iterators::Pair;
use pest::Parser as _;
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization as _;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct GenadsParser;

type P<'a> = Pair<'a, Rule>;

pub use crate::lexical::{MAX_NESTING, MAX_OPERATORS};

/// Parse a `.genads` source into its syntax tree. A byte-order mark at the start is skipped
/// (spans stay byte offsets into `source`); identifiers are Unicode-normalised to NFC.
pub fn parse(source: &str, origin: &str) -> Result<FileAst, Diagnostics> {
    if let Some(r) = crate::lexical::prescan(source) {
        return Err(
            Diagnostic::new(source, origin, r.span, r.message, Some(r.rule.to_string())).into(),
        );
    }
    // The grammar sees the byte-order mark as three spaces: offsets do not move.
    let text: Cow<str> = match source.strip_prefix('\u{FEFF}') {
        Some(rest) => Cow::Owned(format!("   {rest}")),
        None => Cow::Borrowed(source),
    };
    let mut pairs = GenadsParser::parse(Rule::file, &text)
        .map_err(|e| Diagnostics::from(syntax_error(source, origin, &e)))?;
    let mut file = FileAst::default();
    let Some(top) = pairs.next() else {
        return Ok(file);
    };
    for pair in top.into_inner() {
        if pair.as_rule() == Rule::model {
            file.models.push(model(pair));
        }
    }
    Ok(file)
}

fn span(p: &P) -> Span {
    p.as_span().start()..p.as_span().end()
}

/// A name as written, in Unicode normal form C (composed): `e` + U+0301 and `é` are one name.
fn name(p: &P) -> String {
    let s = p.as_str();
    if s.is_ascii() {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

fn spanned_name(p: &P) -> Spanned<String> {
    Spanned {
        value: name(p),
        span: span(p),
    }
}

/// The inner pairs without punctuation tokens.
fn inner<'a>(p: P<'a>) -> impl Iterator<Item = P<'a>> {
    p.into_inner().filter(|q| {
        !matches!(
            q.as_rule(),
            Rule::lbrace
                | Rule::rbrace
                | Rule::lbracket
                | Rule::rbracket
                | Rule::lparen
                | Rule::rparen
                | Rule::comma
                | Rule::semicolon
                | Rule::equals
                | Rule::arrow
                | Rule::pow_op
        )
    })
}

fn model(p: P) -> ModelAst {
    let whole = span(&p);
    let mut it = inner(p);
    let _kw = it.next();
    let name = it.next().map(|q| spanned_name(&q)).unwrap_or(Spanned {
        value: String::new(),
        span: whole.clone(),
    });
    let statements = it.filter_map(statement).collect();
    ModelAst {
        name,
        statements,
        span: whole,
    }
}

fn statement(p: P) -> Option<Spanned<Statement>> {
    let sp = span(&p);
    let rule = p.as_rule();
    let mut it = inner(p);
    let _kw = it.next();
    let value = match rule {
        Rule::param_stmt => {
            let name = spanned_name(&it.next()?);
            let v = it.next()?;
            let value = match v.as_rule() {
                Rule::param_fixed => ParamValue::Fixed(expr(inner(v).next()?)),
                _ => ParamValue::Sweep(inner(v).skip(1).map(expr).collect()),
            };
            Statement::Param(Param { name, value })
        }
        Rule::boundary_stmt => Statement::Boundary(expr(it.next()?)),
        Rule::warp_stmt => Statement::Warp(expr(it.next()?)),
        Rule::radial_stmt => {
            let a = expr(it.next()?);
            let b = expr(it.next()?);
            Statement::Radial(a, b)
        }
        Rule::field_stmt => {
            let f = it.next()?;
            let decl = match f.as_rule() {
                Rule::field_delta => FieldDecl::Delta(expr(inner(f).nth(1)?)),
                Rule::field_mass2 => FieldDecl::Mass2(expr(inner(f).nth(1)?)),
                _ => FieldDecl::Massless,
            };
            Statement::Field(decl)
        }
        Rule::backbone_stmt => {
            let on = it.next()?.as_rule() == Rule::kw_klein_gordon;
            let stabilised = it.next().is_none_or(|q| q.as_rule() == Rule::kw_stabilised);
            Statement::Backbone(BackboneDecl { on, stabilised })
        }
        Rule::path_stmt => {
            let kind = it.next()?;
            let decl = match kind.as_rule() {
                Rule::kw_linear => PathDecl::Linear,
                _ => match it.next().map(|q| q.as_rule()) {
                    Some(Rule::kw_radial) => PathDecl::HermiteRadial,
                    _ => PathDecl::HermiteAffine,
                },
            };
            Statement::Path(decl)
        }
        Rule::prior_stmt => {
            let mut decl = PriorDecl {
                phi: None,
                pi: None,
                duplicate: None,
            };
            for c in it {
                let mut ci = inner(c);
                let which = ci.next()?;
                let law = ci.next()?;
                let law_value = match law.as_rule() {
                    Rule::prior_uniform => PriorLaw::Uniform(expr(inner(law).nth(1)?)),
                    _ => {
                        let mut li = inner(law);
                        // sobolev c <expr> s <expr>
                        let _ = li.next();
                        let _ = li.next();
                        let c = expr(li.next()?);
                        let _ = li.next();
                        let s = expr(li.next()?);
                        PriorLaw::Sobolev(c, s)
                    }
                };
                let spanned = Spanned {
                    value: law_value,
                    span: span(&which),
                };
                let slot = if which.as_rule() == Rule::kw_phi {
                    &mut decl.phi
                } else {
                    &mut decl.pi
                };
                if slot.is_some() {
                    decl.duplicate.get_or_insert(span(&which));
                } else {
                    *slot = Some(spanned);
                }
            }
            Statement::Prior(decl)
        }
        Rule::encoding_stmt => {
            let propagator = it.next()?.as_rule() == Rule::kw_propagator;
            let mut decl = EncodingDecl {
                propagator,
                lift: None,
                reference: None,
            };
            for q in it {
                match q.as_rule() {
                    Rule::lift => decl.lift = inner(q).nth(1).map(expr),
                    _ => {
                        let sp = span(&q);
                        let reference = inner(q).nth(1)?.as_rule() == Rule::kw_reference;
                        decl.reference = Some(Spanned {
                            value: reference,
                            span: sp,
                        });
                    }
                }
            }
            Statement::Encoding(decl)
        }
        Rule::loss_stmt => Statement::Loss(it.next()?.as_rule() == Rule::kw_weighted),
        _ => return None,
    };
    Some(Spanned { value, span: sp })
}

fn expr(p: P) -> AstExpr {
    let sp = span(&p);
    match p.as_rule() {
        Rule::expr => match inner(p).next() {
            Some(q) => expr(q),
            None => num(0.0, sp),
        },
        Rule::sum | Rule::product => {
            let mut it = inner(p);
            let mut acc = match it.next() {
                Some(q) => expr(q),
                None => return num(0.0, sp),
            };
            while let (Some(op), Some(rhs)) = (it.next(), it.next()) {
                let op = match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let rhs = expr(rhs);
                let s = acc.span.start..rhs.span.end;
                acc = Spanned {
                    value: AstExprKind::Bin(op, Box::new(acc), Box::new(rhs)),
                    span: s,
                };
            }
            acc
        }
        Rule::unary => {
            let parts: Vec<P> = inner(p).collect();
            let Some((last, negs)) = parts.split_last() else {
                return num(0.0, sp);
            };
            let mut acc = expr(last.clone());
            for n in negs.iter().rev() {
                let s = n.as_span().start()..acc.span.end;
                acc = Spanned {
                    value: AstExprKind::Neg(Box::new(acc)),
                    span: s,
                };
            }
            acc
        }
        Rule::power => {
            let mut it = inner(p);
            let base = match it.next() {
                Some(q) => expr(q),
                None => return num(0.0, sp),
            };
            match it.next() {
                Some(e) => {
                    let e = expr(e);
                    Spanned {
                        value: AstExprKind::Bin(BinOp::Pow, Box::new(base), Box::new(e)),
                        span: sp,
                    }
                }
                None => base,
            }
        }
        Rule::call => {
            let mut it = inner(p);
            let name = it.next().map(|q| spanned_name(&q)).unwrap_or(Spanned {
                value: String::new(),
                span: sp.clone(),
            });
            let arg = it.next().map(expr).unwrap_or_else(|| num(0.0, sp.clone()));
            Spanned {
                value: AstExprKind::Call(name, Box::new(arg)),
                span: sp,
            }
        }
        Rule::ident => Spanned {
            value: AstExprKind::Ident(name(&p)),
            span: sp,
        },
        Rule::number => Spanned {
            value: AstExprKind::Num(
                crate::expr::Number::parse_decimal(p.as_str())
                    .unwrap_or(crate::expr::Number::F(f64::NAN)),
            ),
            span: sp,
        },
        _ => num(0.0, sp),
    }
}

fn num(v: f64, span: Span) -> AstExpr {
    Spanned {
        value: AstExprKind::Num(crate::expr::Number::from_f64(v)),
        span,
    }
}

const STATEMENTS: &str =
    "a statement (param, boundary, warp, radial, field, backbone, path, prior, encoding, loss)";

fn label(rule: Rule) -> &'static str {
    match rule {
        Rule::param_stmt
        | Rule::boundary_stmt
        | Rule::warp_stmt
        | Rule::radial_stmt
        | Rule::field_stmt
        | Rule::backbone_stmt
        | Rule::path_stmt
        | Rule::prior_stmt
        | Rule::encoding_stmt
        | Rule::loss_stmt
        | Rule::kw_param
        | Rule::kw_boundary
        | Rule::kw_warp
        | Rule::kw_radial
        | Rule::kw_field
        | Rule::kw_backbone
        | Rule::kw_path
        | Rule::kw_prior
        | Rule::kw_encoding
        | Rule::kw_loss => STATEMENTS,
        Rule::file | Rule::model | Rule::kw_model => "`model`",
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::expr
        | Rule::sum
        | Rule::product
        | Rule::unary
        | Rule::power
        | Rule::number
        | Rule::call
        | Rule::neg => "an expression",
        Rule::add_op | Rule::mul_op | Rule::pow_op => "an operator",
        Rule::param_fixed | Rule::equals => "`=`",
        Rule::param_sweep | Rule::kw_in => "`in`",
        Rule::arrow => "`->`",
        Rule::field_delta | Rule::kw_delta => "`delta`",
        Rule::field_mass2 | Rule::kw_mass2 => "`mass2`",
        Rule::field_massless | Rule::kw_massless => "`massless`",
        Rule::kw_klein_gordon => "`klein_gordon`",
        Rule::kw_off => "`off`",
        Rule::kw_stabilised => "`stabilised`",
        Rule::kw_raw => "`raw`",
        Rule::kw_linear => "`linear`",
        Rule::kw_hermite => "`hermite`",
        Rule::kw_affine => "`affine`",
        Rule::prior_component | Rule::kw_phi => "`phi`",
        Rule::kw_pi => "`pi`",
        Rule::prior_uniform | Rule::kw_uniform => "`uniform`",
        Rule::prior_sobolev | Rule::kw_sobolev => "`sobolev`",
        Rule::kw_c => "`c`",
        Rule::kw_s => "`s`",
        Rule::kw_propagator => "`propagator`",
        Rule::kw_none => "`none`",
        Rule::lift | Rule::kw_lift => "`lift`",
        Rule::normalisation | Rule::kw_normalisation => "`normalisation`",
        Rule::kw_clean => "`clean`",
        Rule::kw_reference => "`reference`",
        Rule::kw_weighted => "`weighted`",
        Rule::kw_unweighted => "`unweighted`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::semicolon => "`;`",
        _ => "a keyword",
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => "something else".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The token at byte `pos`, for "found ..." messages, and its byte length.
fn found_at(source: &str, pos: usize) -> (String, usize) {
    let rest = source.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    let len = if first.is_alphanumeric() || first == '_' || first == '.' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len())
    } else if rest.starts_with("->") {
        2
    } else {
        first.len_utf8()
    };
    let token = &rest[..len];
    let shown = if let Some(u) = crate::lexical::unusual(first) {
        u.name
    } else {
        format!("`{}`", crate::diagnostics::clip(token, 40))
    };
    (shown, len)
}

fn syntax_error(source: &str, origin: &str, e: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut labels: Vec<&str> = Vec::new();
            // Statements first, then the rest in the grammar's order.
            let mut sorted = positives.clone();
            sorted.sort_by_key(|r| match label(*r) {
                STATEMENTS => 0,
                "`}`" => 1,
                "an operator" => 3,
                "`;`" => 4,
                _ => 2,
            });
            for r in sorted {
                let l = label(r);
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
            join_or(&labels)
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let (found, len) = found_at(source, pos);
    Diagnostic::new(
        source,
        origin,
        pos..pos + len,
        format!("expected {expected}, found {found}"),
        Some("syntax: see docs/language.md for the grammar".to_string()),
    )
}
