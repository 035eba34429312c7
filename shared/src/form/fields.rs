//! The free-form extra fields of a registration, converted to text.

use super::{ExtraField, FormLimits};
use crate::validation::FieldError;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Converts the extra fields to text, keeping the order the website sent them in.
///
/// Names are trimmed and must be non-empty, free of control characters and unique after
/// trimming. A name may equal a typed field's name, such as `email`. Values become text by
/// the rules of [`value_text`]. Lengths are counted in Unicode scalar values (Rust `char`s),
/// not bytes, so a value in any script may use the whole of `limits.max_value_chars`.
pub(super) fn extra_fields(
    fields: Map<String, Value>,
    limits: &FormLimits,
) -> Result<Vec<ExtraField>, FieldError> {
    if fields.len() > limits.max_fields {
        return Err(FieldError::new(
            "fields",
            format!(
                "contains {} extra fields, but the maximum is {}; remove {}",
                fields.len(),
                limits.max_fields,
                fields.len() - limits.max_fields
            ),
        ));
    }

    let mut seen: HashSet<String> = HashSet::with_capacity(fields.len());
    let mut converted = Vec::with_capacity(fields.len());
    for (index, (typed_name, value)) in fields.into_iter().enumerate() {
        let name = field_name(&typed_name, index, limits)?;
        let path = format!("fields.{name}");
        if !seen.insert(name.clone()) {
            return Err(FieldError::new(
                path,
                "is used by more than one extra field once surrounding spaces are removed; \
                 give each extra field a different name",
            ));
        }

        let value = value_text(value).map_err(|message| FieldError::new(&path, message))?;
        let value_chars = value.chars().count();
        if value_chars > limits.max_value_chars {
            return Err(FieldError::new(
                path,
                format!(
                    "is {value_chars} characters long, but the maximum is {}; shorten the value",
                    limits.max_value_chars
                ),
            ));
        }
        converted.push(ExtraField { name, value });
    }
    Ok(converted)
}

/// Trims and checks one field name. `index` counts from 0 in the order the website sent.
fn field_name(typed: &str, index: usize, limits: &FormLimits) -> Result<String, FieldError> {
    let name = typed.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            "fields",
            format!(
                "extra field number {} has a blank name; give every extra field a name",
                index + 1
            ),
        ));
    }

    let path = format!("fields.{name}");
    let name_chars = name.chars().count();
    if name_chars > limits.max_name_chars {
        return Err(FieldError::new(
            path,
            format!(
                "the field name is {name_chars} characters long, but the maximum is {}; \
                 shorten the name",
                limits.max_name_chars
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            path,
            "the field name contains a control character such as a line break; remove it",
        ));
    }
    Ok(name.to_owned())
}

/// Converts one field value to text.
///
/// Strings are kept whole, spaces included. Numbers and booleans become their JSON text
/// (`12`, `1.5`, `true`), and `null` becomes the empty string. A list becomes its items'
/// text joined with `, `, so `["A","B"]` becomes `A, B`, and `null` items are left out.
/// The join cannot be undone when an item itself contains `, `. An object, or a list that
/// contains a list or an object, is rejected instead of being stored as JSON, because
/// staff read these values as plain text on the Shopify order.
fn value_text(value: Value) -> Result<String, String> {
    match value {
        Value::Array(items) => {
            let mut texts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Null => {}
                    Value::Array(_) | Value::Object(_) => {
                        return Err("is a list that contains a list or an object; send a list \
                                    of texts, numbers or true/false values"
                            .to_owned());
                    }
                    scalar => texts.push(scalar_text(scalar)),
                }
            }
            Ok(texts.join(", "))
        }
        Value::Object(_) => Err(
            "is an object; send text, a number, true/false or a list of \
                                 those"
                .to_owned(),
        ),
        scalar => Ok(scalar_text(scalar)),
    }
}

/// Converts a value that is not a list or an object to text.
fn scalar_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
