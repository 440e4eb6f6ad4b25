//! `when` conditions: `name`, `not name`, `name == 'text'`, `name != 3`, joined by `and`/`or`
//! (`and` binds tighter). Names are variables or facts (`os_family`, `distribution`, `arch`, …).

use super::vars::{Value, Values};

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    /// Disjunction of conjunctions.
    any: Vec<Vec<Term>>,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    name: String,
    compare: Option<(bool, String)>, // (equal?, literal)
}

/// Why a condition cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConditionError {
    #[error("expected a variable name")]
    MissingName,
    #[error("expected a variable name, found '{0}'")]
    NotAName(String),
    #[error("expected a value after the comparison")]
    MissingValue,
    #[error("unexpected '{0}'")]
    Unexpected(String),
    #[error("unterminated quote")]
    UnterminatedQuote,
    #[error("use == or !=")]
    BadOperator,
}

impl Condition {
    /// Parses a condition.
    pub(crate) fn parse(text: &str) -> Result<Condition, ConditionError> {
        let tokens = tokenize(text)?;
        let mut any = Vec::new();
        let mut all = Vec::new();
        let mut i = 0;
        loop {
            let mut negated = false;
            if tokens.get(i).map(String::as_str) == Some("not") {
                negated = true;
                i += 1;
            }
            let name = tokens.get(i).ok_or(ConditionError::MissingName)?.clone();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
                return Err(ConditionError::NotAName(name));
            }
            i += 1;
            let compare = match tokens.get(i).map(String::as_str) {
                Some(op @ ("==" | "!=")) => {
                    let literal = tokens.get(i + 1).ok_or(ConditionError::MissingValue)?;
                    i += 2;
                    Some((op == "==", unquote(literal)))
                }
                _ => None,
            };
            all.push(Term {
                negated,
                name,
                compare,
            });
            match tokens.get(i).map(String::as_str) {
                None => break,
                Some("and") => i += 1,
                Some("or") => {
                    any.push(std::mem::take(&mut all));
                    i += 1;
                }
                Some(other) => return Err(ConditionError::Unexpected(other.to_owned())),
            }
        }
        any.push(all);
        Ok(Condition { any })
    }

    /// The names the condition reads.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.any.iter().flatten().map(|t| t.name.as_str()).collect()
    }

    /// Evaluates against `values` (a missing name is false / empty).
    pub(crate) fn eval(&self, values: &Values) -> bool {
        self.any.iter().any(|all| {
            all.iter().all(|term| {
                let value = values.get(&term.name);
                let result = match &term.compare {
                    None => value.is_some_and(Value::truthy),
                    Some((equal, literal)) => {
                        let same = value.is_some_and(|v| v.to_string() == *literal);
                        same == *equal
                    }
                };
                result != term.negated
            })
        })
    }
}

fn unquote(token: &str) -> String {
    token
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| token.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
        .unwrap_or(token)
        .to_owned()
}

fn tokenize(text: &str) -> Result<Vec<String>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut literal = String::from(c);
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(other) => literal.push(other),
                    None => return Err(ConditionError::UnterminatedQuote),
                }
            }
            literal.push(c);
            tokens.push(literal);
        } else if c == '=' || c == '!' {
            chars.next();
            if chars.next() != Some('=') {
                return Err(ConditionError::BadOperator);
            }
            tokens.push(format!("{c}="));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '=' || c == '!' || c == '\'' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(word);
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        let mut v = Values::new();
        v.insert("mode".into(), Value::Str("container".into()));
        v.insert("persist".into(), Value::Bool(false));
        v.insert("users".into(), Value::List(vec![]));
        v.insert("port".into(), Value::Int(8080));
        v
    }

    #[test]
    fn comparisons_truthiness_and_logic() {
        let v = values();
        let t = |s: &str| Condition::parse(s).unwrap().eval(&v);
        assert!(t("mode == 'container'"));
        assert!(t("mode != \"package\""));
        assert!(!t("persist"));
        assert!(t("not persist"));
        assert!(!t("users"));
        assert!(t("port == 8080"));
        assert!(t("persist or mode == 'container'"));
        assert!(!t("persist and mode == 'container'"));
        assert!(t("persist and users or port == 8080"));
    }

    #[test]
    fn malformed_conditions_are_refused() {
        let cases = [
            ("", ConditionError::MissingName),
            ("mode =", ConditionError::BadOperator),
            ("mode = 'x'", ConditionError::BadOperator),
            ("mode == 'x", ConditionError::UnterminatedQuote),
            ("mode ==", ConditionError::MissingValue),
            ("a b", ConditionError::Unexpected("b".into())),
            ("$(reboot)", ConditionError::NotAName("$(reboot)".into())),
        ];
        for (bad, error) in cases {
            assert_eq!(Condition::parse(bad), Err(error), "{bad}");
        }
    }
}
