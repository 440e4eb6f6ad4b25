//! `json`: keys merged into a JSON object file, every other key kept. A string value that is
//! only `"{{ var }}"` becomes the variable's typed value (a list stays a list).

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::{FieldError, Fields, State, StepKind};
use crate::recipe::error::StepError;
use crate::recipe::files::{self, Desired};
use crate::recipe::host::StepCtx;
use crate::recipe::vars::whole_placeholder;

#[derive(Debug)]
struct JsonMerge {
    path: String,
    merge: Map<String, Json>,
}

pub(super) fn parse(fields: &mut Fields) -> Result<Box<dyn StepKind>, FieldError> {
    Ok(Box::new(JsonMerge {
        path: fields.need("path")?,
        merge: fields.need("merge")?,
    }))
}

impl JsonMerge {
    /// The current JSON file (or `{}`) and what it should become.
    fn states(&self, path: &Path, ctx: &StepCtx<'_>) -> Result<(Json, Json), StepError> {
        let current = match files::read_if_exists(path)? {
            Some(text) if !text.trim().is_empty() => {
                serde_json::from_str(&text).map_err(|source| StepError::NotJson {
                    path: path.to_owned(),
                    source,
                })?
            }
            _ => Json::Object(Map::new()),
        };
        let mut desired = current.clone();
        let object = desired
            .as_object_mut()
            .ok_or_else(|| StepError::NotJsonObject {
                path: path.to_owned(),
            })?;
        for (key, value) in &self.merge {
            object.insert(key.clone(), fill(value, ctx));
        }
        Ok((current, desired))
    }
}

fn fill(value: &Json, ctx: &StepCtx<'_>) -> Json {
    match value {
        Json::String(s) => match whole_placeholder(s).and_then(|name| ctx.var(name)) {
            Some(var) => var.to_json(),
            None => ctx.raw(s).into(),
        },
        Json::Array(items) => items.iter().map(|i| fill(i, ctx)).collect(),
        Json::Object(map) => map.iter().map(|(k, v)| (k.clone(), fill(v, ctx))).collect(),
        other => other.clone(),
    }
}

/// The strings in a JSON value (where placeholders may be).
fn strings<'a>(value: &'a Json, out: &mut Vec<&'a str>) {
    match value {
        Json::String(s) => out.push(s),
        Json::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Json::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn pretty(value: &Json) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value serializes") + "\n"
}

impl StepKind for JsonMerge {
    fn templates(&self) -> Vec<&str> {
        let mut texts = vec![self.path.as_str()];
        self.merge.values().for_each(|v| strings(v, &mut texts));
        texts
    }

    fn check(&self, ctx: &StepCtx<'_>) -> Result<State, StepError> {
        let path = ctx.path(&self.path);
        let (current, desired) = self.states(&path, ctx)?;
        Ok(if current == desired {
            State::Ok
        } else {
            let diff = files::unified_diff(&path, &pretty(&current), &pretty(&desired));
            State::Differs(Some(diff))
        })
    }

    fn apply(&self, ctx: &StepCtx<'_>) -> Result<String, StepError> {
        let path = ctx.path(&self.path);
        let (_, desired) = self.states(&path, ctx)?;
        let want = Desired {
            content: pretty(&desired),
            mode: None,
            owner: None,
        };
        files::write(&path, &want, ctx)?;
        Ok(String::new())
    }
}
