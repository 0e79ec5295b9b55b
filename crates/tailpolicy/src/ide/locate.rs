//! What is at a byte offset: the path from the root to it, and the key, value or container
//! gap the offset falls in.

use crate::span::Span;
use crate::syntax::{Member, Value, ValueKind};

use super::fields::{self, Ty};

/// One step from a container to what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

/// What the offset is on.
#[derive(Debug, Clone, Copy)]
pub enum Hit<'t> {
    /// The key of this member (the offset is inside its quotes or right after).
    Key(&'t Member),
    /// A scalar value (or a container's bracket).
    Value(&'t Value),
    /// Between the entries of this container.
    Gap(&'t Value),
    /// Outside the root value.
    Outside,
}

#[derive(Debug, Clone)]
pub struct Located<'t> {
    /// Steps from the root to the hit (for a `Key` hit, up to the object holding it; for a
    /// `Value`, including its own step).
    pub steps: Vec<Step<'t>>,
    /// The containers entered, from the root.
    pub containers: Vec<&'t Value>,
    pub hit: Hit<'t>,
}

/// True when `offset` lies between a container's brackets (or after the opening bracket of
/// one that is never closed).
fn inside(text: &str, value: &Value, offset: u32) -> bool {
    let span = value.span;
    if offset <= span.start {
        return false;
    }
    if offset < span.end {
        return true;
    }
    let closed = span.end > span.start
        && matches!(
            text.as_bytes().get(span.end as usize - 1),
            Some(b'}' | b']')
        );
    offset == span.end && !closed
}

/// True when `offset` is on a string or scalar spanning `span`.
fn on(span: Span, offset: u32) -> bool {
    span.start <= offset && offset <= span.end && !(span.is_empty() && offset != span.start)
}

pub fn locate<'t>(text: &str, root: &'t Value, offset: u32) -> Located<'t> {
    let mut located = Located {
        steps: Vec::new(),
        containers: Vec::new(),
        hit: Hit::Outside,
    };
    let is_container = |v: &Value| matches!(v.kind, ValueKind::Object(_) | ValueKind::Array(_));
    if !inside(text, root, offset) {
        if on(root.span, offset) {
            located.hit = Hit::Value(root);
        }
        return located;
    }
    let mut current = root;
    loop {
        located.containers.push(current);
        let next = match &current.kind {
            ValueKind::Object(members) => {
                let mut next = None;
                for member in members {
                    if member.key_span.start < offset && offset <= member.key_span.end {
                        located.hit = Hit::Key(member);
                        return located;
                    }
                    let value = &member.value;
                    if is_container(value) && inside(text, value, offset) {
                        next = Some((Step::Key(&member.key), value));
                        break;
                    }
                    let scalar_hit = !is_container(value)
                        && ((on(value.span, offset) && value.span.start < offset)
                            || (value.span.is_empty() && offset == value.span.start));
                    if scalar_hit {
                        located.steps.push(Step::Key(&member.key));
                        located.hit = Hit::Value(value);
                        return located;
                    }
                }
                next
            }
            ValueKind::Array(items) => {
                let mut next = None;
                for (i, item) in items.iter().enumerate() {
                    if is_container(item) && inside(text, item, offset) {
                        next = Some((Step::Index(i), item));
                        break;
                    }
                    if !is_container(item) && item.span.start < offset && offset <= item.span.end {
                        located.steps.push(Step::Index(i));
                        located.hit = Hit::Value(item);
                        return located;
                    }
                }
                next
            }
            _ => None,
        };
        match next {
            Some((step, value)) => {
                located.steps.push(step);
                current = value;
            }
            None => {
                located.hit = Hit::Gap(current);
                return located;
            }
        }
    }
}

/// The type the schema gives the value at `steps` from the root.
pub fn type_at(steps: &[Step<'_>]) -> Option<Ty> {
    let mut ty = Ty::Object(fields::POLICY);
    for step in steps {
        ty = match (ty, step) {
            (Ty::Object(fields), Step::Key(key)) => fields::find(fields, key)?.ty,
            (Ty::Map { value, .. }, Step::Key(_)) => *value,
            (Ty::ObjectList(fields), Step::Index(_)) => Ty::Object(fields),
            (Ty::Strings(_), Step::Index(_)) => Ty::String,
            _ => return None,
        };
    }
    Some(ty)
}

/// The field description for the key at the end of `steps`.
pub fn field_at(steps: &[Step<'_>]) -> Option<&'static fields::Field> {
    let (last, parent) = steps.split_last()?;
    let Step::Key(key) = last else { return None };
    match type_at(parent)? {
        Ty::Object(fields) => fields::find(fields, key),
        _ => None,
    }
}

/// The section a path starts in, in canonical spelling, and the index of the entry in it.
pub fn rule_of(steps: &[Step<'_>]) -> Option<(&'static str, usize)> {
    let (Some(Step::Key(section)), Some(Step::Index(i))) = (steps.first(), steps.get(1)) else {
        return None;
    };
    let field = fields::find(fields::POLICY, section)?;
    matches!(field.ty, Ty::ObjectList(_)).then_some((field.name, *i))
}
