//! Checks of input values beyond what apollo-compiler enforces, with the path of each
//! problem: variable values against their declared types, and the formats of Shopify's
//! custom scalars (`Decimal`, `DateTime`, `UnsignedInt64`…) in variables and literals.
//!
//! apollo-compiler's own variable coercion still runs afterwards and fills in defaults.
//! This pass comes first because it reports every problem at once, each with its path.

use std::collections::HashSet;

use apollo_compiler::ast::Value as AstValue;
use apollo_compiler::executable::{Operation, Selection, SelectionSet};
use apollo_compiler::parser::SourceSpan;
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;

/// One invalid part of an input value.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Input field names and list indexes from the variable or argument to the value.
    pub path: Vec<Value>,
    pub explanation: String,
}

/// Checks each variable value against the operation's variable definitions. Returns one
/// GraphQL error per invalid variable, with code `INVALID_VARIABLE` and every problem in
/// `extensions.problems`.
pub fn check_variables(
    schema: &Valid<Schema>,
    document: &ExecutableDocument,
    operation: &Operation,
    variables: &Map<String, Value>,
) -> Vec<Value> {
    let mut errors = Vec::new();
    for definition in &operation.variables {
        let name = definition.name.as_str();
        let locations = locations(document, definition.location());
        let Some(value) = variables.get(name) else {
            if definition.default_value.is_none() && definition.ty.is_non_null() {
                errors.push(json!({
                    "message": format!(
                        "Variable ${name} of type {} is required but was not provided",
                        definition.ty
                    ),
                    "locations": locations,
                    "extensions": {"code": "INVALID_VARIABLE", "value": null, "problems": [
                        {"path": [], "explanation": "Expected a value, got none"}
                    ]},
                }));
            }
            continue;
        };

        let mut problems = Vec::new();
        check_value(
            schema,
            &definition.ty,
            value,
            &mut Vec::new(),
            &mut problems,
        );
        if problems.is_empty() {
            continue;
        }
        errors.push(json!({
            "message": format!(
                "Variable ${name} of type {} has an invalid value: {}",
                definition.ty,
                describe(&problems)
            ),
            "locations": locations,
            "extensions": {
                "code": "INVALID_VARIABLE",
                "value": value,
                "problems": problems_json(&problems),
            },
        }));
    }
    errors
}

/// Checks custom scalar literals in the arguments of every field that the operation
/// selects, fragments included. Other literals were already validated by apollo-compiler.
pub fn check_literals(
    schema: &Valid<Schema>,
    document: &ExecutableDocument,
    operation: &Operation,
) -> Vec<Value> {
    let mut walker = LiteralWalker {
        schema,
        document,
        visited_fragments: HashSet::new(),
        errors: Vec::new(),
    };
    walker.walk(&operation.selection_set);
    walker.errors
}

struct LiteralWalker<'a> {
    schema: &'a Valid<Schema>,
    document: &'a ExecutableDocument,
    visited_fragments: HashSet<&'a str>,
    errors: Vec<Value>,
}

impl<'a> LiteralWalker<'a> {
    fn walk(&mut self, selection_set: &'a SelectionSet) {
        for selection in &selection_set.selections {
            match selection {
                Selection::Field(field) => {
                    for argument in &field.arguments {
                        let Some(definition) = field.definition.argument_by_name(&argument.name)
                        else {
                            continue;
                        };
                        let mut problems = Vec::new();
                        check_literal(
                            self.schema,
                            &definition.ty,
                            &argument.value,
                            &mut Vec::new(),
                            &mut problems,
                        );
                        if !problems.is_empty() {
                            self.errors.push(json!({
                                "message": format!(
                                    "Argument {} on field {}.{} has an invalid value: {}",
                                    argument.name,
                                    selection_set.ty,
                                    field.name,
                                    describe(&problems)
                                ),
                                "locations": locations(self.document, argument.value.location()),
                                "extensions": {
                                    "code": "argumentLiteralsIncompatible",
                                    "problems": problems_json(&problems),
                                },
                            }));
                        }
                    }
                    if let Some(nested) = &field.selection_set {
                        self.walk(nested);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if self.visited_fragments.insert(spread.fragment_name.as_str()) {
                        if let Some(fragment) = spread.fragment_def(self.document) {
                            self.walk(&fragment.selection_set);
                        }
                    }
                }
                Selection::InlineFragment(inline) => self.walk(&inline.selection_set),
            }
        }
    }
}

fn check_value(
    schema: &Schema,
    ty: &Type,
    value: &Value,
    path: &mut Vec<Value>,
    problems: &mut Vec<Problem>,
) {
    if value.is_null() {
        if ty.is_non_null() {
            push_problem(
                problems,
                path,
                format!("Expected a non-null {ty}, got null"),
            );
        }
        return;
    }
    match ty {
        Type::List(item_type) | Type::NonNullList(item_type) => match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(index.into());
                    check_value(schema, item_type, item, path, problems);
                    path.pop();
                }
            }
            // GraphQL input coercion reads a single value as a list of one.
            _ => check_value(schema, item_type, value, path, problems),
        },
        Type::Named(name) | Type::NonNullNamed(name) => match schema.types.get(name) {
            Some(ExtendedType::Scalar(_)) => {
                if let Some(explanation) = scalar_problem(name, value) {
                    push_problem(problems, path, explanation);
                }
            }
            Some(ExtendedType::Enum(enum_type)) => {
                let known = value
                    .as_str()
                    .is_some_and(|text| enum_type.values.contains_key(text));
                if !known {
                    push_problem(problems, path, enum_problem(name, &enum_type.values, value));
                }
            }
            Some(ExtendedType::InputObject(input_type)) => {
                let Value::Object(fields) = value else {
                    push_problem(
                        problems,
                        path,
                        format!("Expected an input object of type {name}, got {value}"),
                    );
                    return;
                };
                for key in fields.keys() {
                    if !input_type.fields.contains_key(key.as_str()) {
                        path.push(key.as_str().into());
                        push_problem(
                            problems,
                            path,
                            format!("Field {key} is not defined on input type {name}"),
                        );
                        path.pop();
                    }
                }
                for (field_name, definition) in &input_type.fields {
                    path.push(field_name.as_str().into());
                    match fields.get(field_name.as_str()) {
                        Some(field_value) => {
                            check_value(schema, &definition.ty, field_value, path, problems)
                        }
                        None if definition.is_required() => push_problem(
                            problems,
                            path,
                            format!("Required field of type {} is missing", definition.ty),
                        ),
                        None => {}
                    }
                    path.pop();
                }
                if input_type.is_one_of() {
                    let non_null_fields = fields.values().filter(|v| !v.is_null()).count();
                    if non_null_fields != 1 {
                        push_problem(
                            problems,
                            path,
                            format!(
                                "Input type {name} is @oneOf and needs exactly one non-null \
                                 field, got {non_null_fields}"
                            ),
                        );
                    }
                }
            }
            // Output types cannot be variable types; apollo-compiler rejects them earlier.
            Some(_) | None => {}
        },
    }
}

fn check_literal(
    schema: &Schema,
    ty: &Type,
    value: &Node<AstValue>,
    path: &mut Vec<Value>,
    problems: &mut Vec<Problem>,
) {
    match (value.as_ref(), ty) {
        // Variables are checked with their values; null was checked by apollo-compiler.
        (AstValue::Variable(_) | AstValue::Null, _) => {}
        (AstValue::List(items), Type::List(item_type) | Type::NonNullList(item_type)) => {
            for (index, item) in items.iter().enumerate() {
                path.push(index.into());
                check_literal(schema, item_type, item, path, problems);
                path.pop();
            }
        }
        (_, Type::List(item_type) | Type::NonNullList(item_type)) => {
            check_literal(schema, item_type, value, path, problems)
        }
        (_, Type::Named(name) | Type::NonNullNamed(name)) => match schema.types.get(name) {
            Some(ExtendedType::Scalar(scalar)) if !scalar.is_built_in() => {
                if let Some(explanation) = scalar_problem(name, &literal_to_json(value, None)) {
                    push_problem(problems, path, explanation);
                }
            }
            Some(ExtendedType::InputObject(input_type)) => {
                let AstValue::Object(fields) = value.as_ref() else {
                    return;
                };
                for (field_name, field_value) in fields {
                    if let Some(definition) = input_type.fields.get(field_name) {
                        path.push(field_name.as_str().into());
                        check_literal(schema, &definition.ty, field_value, path, problems);
                        path.pop();
                    }
                }
            }
            _ => {}
        },
    }
}

/// Returns why `value` is not a valid input for the scalar `name`, or `None` if it is.
///
/// The rules for Shopify's custom scalars follow the scalar descriptions in the Admin
/// schema, read strictly: `Decimal`, `Money`, `UnsignedInt64` and `BigInt` must be strings,
/// `DateTime` must be RFC 3339 (ISO 8601 with an offset) and `URL` needs a scheme and a
/// host. Whether Shopify also accepts JSON numbers or local times was not checked.
fn scalar_problem(name: &str, value: &Value) -> Option<String> {
    let valid = match name {
        "Int" => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        "Float" => value.is_number(),
        "String" => value.is_string(),
        "Boolean" => value.is_boolean(),
        "ID" => value.is_string() || value.is_i64() || value.is_u64(),
        "Decimal" | "Money" => value.as_str().is_some_and(is_decimal),
        "DateTime" => value
            .as_str()
            .is_some_and(|text| time::OffsetDateTime::parse(text, &Rfc3339).is_ok()),
        "Date" => value.as_str().is_some_and(|text| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(text, &format).is_ok()
        }),
        "UnsignedInt64" => value
            .as_str()
            .is_some_and(|text| text.parse::<u64>().is_ok() && !text.starts_with('+')),
        "BigInt" => value
            .as_str()
            .is_some_and(|text| text.parse::<i128>().is_ok() && !text.starts_with('+')),
        "URL" => value.as_str().is_some_and(has_scheme_and_host),
        "ARN" | "Color" | "FormattedString" | "HTML" | "StorefrontID" | "UtcOffset" => {
            value.is_string()
        }
        // `JSON` and any scalar this list does not know accept every value.
        _ => true,
    };
    if valid {
        return None;
    }
    let expected = match name {
        "Int" => "an Int (32-bit integer)",
        "Float" => "a Float",
        "String" | "ARN" | "Color" | "FormattedString" | "HTML" | "StorefrontID" | "UtcOffset" => {
            "a string"
        }
        "Boolean" => "a Boolean",
        "ID" => "an ID (string or integer)",
        "Decimal" | "Money" => "a decimal string such as \"12.50\"",
        "DateTime" => "an ISO 8601 date-time with offset such as \"2026-10-01T12:00:00Z\"",
        "Date" => "a date such as \"2026-10-01\"",
        "UnsignedInt64" => "an unsigned 64-bit integer written as a string of digits",
        "BigInt" => "an integer written as a string of digits",
        "URL" => "a URL with a scheme and a host, such as \"https://example.com\"",
        _ => "a valid value",
    };
    Some(format!(
        "Expected {expected} for scalar {name}, got {value}"
    ))
}

/// Checks the form `scheme://host...`.
fn has_scheme_and_host(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let scheme_valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    scheme_valid && !host.is_empty() && !text.chars().any(char::is_whitespace)
}

/// Checks the form `[+-]digits[.digits]`.
fn is_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

fn enum_problem<V>(
    name: &str,
    values: &apollo_compiler::collections::IndexMap<apollo_compiler::Name, V>,
    value: &Value,
) -> String {
    // Long enums such as CurrencyCode are not listed in full.
    const MAX_LISTED: usize = 20;
    if values.len() <= MAX_LISTED {
        let names: Vec<&str> = values.keys().map(|key| key.as_str()).collect();
        format!("Expected one of {name} ({}), got {value}", names.join(", "))
    } else {
        format!("Expected a value of enum {name}, got {value}")
    }
}

fn push_problem(problems: &mut Vec<Problem>, path: &[Value], explanation: String) {
    problems.push(Problem {
        path: path.to_vec(),
        explanation,
    });
}

fn problems_json(problems: &[Problem]) -> Value {
    problems
        .iter()
        .map(|problem| json!({"path": problem.path, "explanation": problem.explanation}))
        .collect()
}

/// Joins problems as `lineItems.0.quantity: explanation; …`.
fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| {
            let path: Vec<String> = problem
                .path
                .iter()
                .map(|segment| match segment {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            if path.is_empty() {
                problem.explanation.clone()
            } else {
                format!("{}: {}", path.join("."), problem.explanation)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn locations(document: &ExecutableDocument, span: Option<SourceSpan>) -> Value {
    span.and_then(|span| span.line_column(&document.sources))
        .map(|position| json!([{"line": position.line, "column": position.column}]))
        .unwrap_or_else(|| json!([]))
}

/// Converts an argument literal to JSON, replacing each variable by its value as the
/// client sent it (`None`: variables become `null`). Input object fields that the client
/// left out stay out, so the result is the argument as received, without defaults.
pub fn literal_to_json(value: &AstValue, variables: Option<&Map<String, Value>>) -> Value {
    match value {
        AstValue::Null => Value::Null,
        AstValue::Enum(name) => Value::String(name.to_string()),
        AstValue::Variable(name) => variables
            .and_then(|values| values.get(name.as_str()))
            .cloned()
            .unwrap_or(Value::Null),
        AstValue::String(text) => Value::String(text.clone()),
        AstValue::Float(number) => serde_json::from_str(number.as_str())
            .unwrap_or_else(|_| Value::String(number.as_str().to_owned())),
        AstValue::Int(number) => serde_json::from_str(number.as_str())
            .unwrap_or_else(|_| Value::String(number.as_str().to_owned())),
        AstValue::Boolean(flag) => Value::Bool(*flag),
        AstValue::List(items) => items
            .iter()
            .map(|item| literal_to_json(item, variables))
            .collect(),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, field)| (name.to_string(), literal_to_json(field, variables)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_form() {
        for valid in ["0", "12.50", "-3.1", "+7"] {
            assert!(is_decimal(valid), "{valid}");
        }
        for invalid in ["", "1.", ".5", "1e3", "12,50", "abc", "1.2.3"] {
            assert!(!is_decimal(invalid), "{invalid}");
        }
    }

    #[test]
    fn custom_scalar_rules() {
        assert!(scalar_problem("Decimal", &json!("12.5")).is_none());
        assert!(scalar_problem("Decimal", &json!(12.5)).is_some());
        assert!(scalar_problem("Decimal", &json!("twelve")).is_some());
        assert!(scalar_problem("DateTime", &json!("2026-10-01T12:00:00Z")).is_none());
        assert!(scalar_problem("DateTime", &json!("2026-10-01")).is_some());
        assert!(scalar_problem("UnsignedInt64", &json!("42")).is_none());
        assert!(scalar_problem("UnsignedInt64", &json!("-1")).is_some());
        assert!(scalar_problem("UnsignedInt64", &json!(42)).is_some());
        assert!(scalar_problem("URL", &json!("https://example.com/a")).is_none());
        assert!(scalar_problem("URL", &json!("example.com")).is_some());
        assert!(scalar_problem("Int", &json!(3_000_000_000_i64)).is_some());
        assert!(scalar_problem("JSON", &json!({"any": [1]})).is_none());
    }
}
