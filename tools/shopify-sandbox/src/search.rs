//! A subset of Shopify's search syntax for the `query` argument of `orders` and
//! `customers`: space-separated terms `field:value`, `field:"quoted value"`, `-field:value`
//! (negation), `value*` (prefix) and bare words, all joined by AND.
//!
//! A term on an unknown field is ignored and reported in `extensions.search`, so a
//! misspelt filter matches every record instead of none.
//! This copies the Admin API's handling of unknown search fields as remembered, not from
//! a recorded response.

use serde_json::{json, Value};

use crate::store::{Customer, Order};

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    field: Option<String>,
    value: String,
}

/// A parsed search query.
#[derive(Debug, Default)]
pub struct Search {
    terms: Vec<Term>,
    /// Terms that the sandbox cannot apply, as `{"field", "message"}` objects.
    pub warnings: Vec<Value>,
}

/// Fields that `orders(query:)` can filter on.
const ORDER_FIELDS: [&str; 7] = [
    "source_identifier",
    "name",
    "email",
    "tag",
    "id",
    "financial_status",
    "customer_id",
];

/// Fields that `customers(query:)` can filter on.
const CUSTOMER_FIELDS: [&str; 5] = ["email", "phone", "id", "tag", "first_name"];

impl Search {
    pub fn orders(query: &str) -> Search {
        Search::parse(query, &ORDER_FIELDS)
    }

    pub fn customers(query: &str) -> Search {
        Search::parse(query, &CUSTOMER_FIELDS)
    }

    fn parse(query: &str, known_fields: &[&str]) -> Search {
        let mut search = Search::default();
        for token in tokenize(query) {
            if token == "AND" {
                continue;
            }
            if token == "OR" {
                search.warnings.push(json!({
                    "field": null,
                    "message": "The Shopify sandbox does not support OR and joins all terms with AND",
                }));
                continue;
            }
            let (negated, token) = match token.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest.to_owned()),
                _ => (false, token),
            };
            let term = match token.split_once(':') {
                Some((field, value)) => Term {
                    negated,
                    field: Some(field.to_owned()),
                    value: unquote(value),
                },
                None => Term {
                    negated,
                    field: None,
                    value: unquote(&token),
                },
            };
            if let Some(field) = &term.field {
                if !known_fields.contains(&field.as_str()) {
                    search.warnings.push(json!({
                        "field": field,
                        "message": format!(
                            "Invalid search field {field}; the term is ignored. The sandbox \
                             supports: {}",
                            known_fields.join(", ")
                        ),
                    }));
                    continue;
                }
            }
            search.terms.push(term);
        }
        search
    }

    pub fn matches_order(&self, order: &Order, customer: Option<&Customer>) -> bool {
        self.terms.iter().all(|term| {
            let source_identifier = order.input.get("sourceIdentifier").and_then(Value::as_str);
            let hit = match term.field.as_deref() {
                Some("source_identifier") => text_matches(source_identifier, &term.value),
                Some("name") => {
                    let expected = term.value.trim_start_matches('#');
                    text_matches(Some(order.name.trim_start_matches('#')), expected)
                }
                Some("email") => text_matches(order.email.as_deref(), &term.value),
                Some("tag") => list_contains(order.input.get("tags"), &term.value),
                Some("id") => id_matches(order.id, "Order", &term.value),
                Some("financial_status") => {
                    text_matches(Some(&order.financial_status), &term.value)
                }
                Some("customer_id") => customer
                    .is_some_and(|customer| id_matches(customer.id, "Customer", &term.value)),
                _ => [
                    Some(order.name.as_str()),
                    order.email.as_deref(),
                    source_identifier,
                ]
                .into_iter()
                .flatten()
                .any(|text| contains(text, &term.value)),
            };
            hit != term.negated
        })
    }

    pub fn matches_customer(&self, customer: &Customer) -> bool {
        self.terms.iter().all(|term| {
            let hit = match term.field.as_deref() {
                Some("email") => text_matches(customer.email.as_deref(), &term.value),
                Some("phone") => text_matches(customer.phone.as_deref(), &term.value),
                Some("id") => id_matches(customer.id, "Customer", &term.value),
                Some("tag") => customer
                    .tags
                    .iter()
                    .any(|tag| tag.eq_ignore_ascii_case(&term.value)),
                Some("first_name") => text_matches(customer.first_name.as_deref(), &term.value),
                _ => [
                    customer.email.as_deref(),
                    customer.first_name.as_deref(),
                    customer.last_name.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|text| contains(text, &term.value)),
            };
            hit != term.negated
        })
    }
}

/// Splits on spaces outside double or single quotes.
fn tokenize(query: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for character in query.chars() {
        match (quote, character) {
            (None, '"' | '\'') => {
                quote = Some(character);
                current.push(character);
            }
            (Some(open), _) if character == open => {
                quote = None;
                current.push(character);
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(character),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner.replace("\\\"", "\"");
        }
    }
    value.to_owned()
}

/// Compares case-insensitively; a trailing `*` in `expected` matches any suffix.
fn text_matches(text: Option<&str>, expected: &str) -> bool {
    let Some(text) = text else {
        return false;
    };
    match expected.strip_suffix('*') {
        Some(prefix) => text.to_lowercase().starts_with(&prefix.to_lowercase()),
        None => text.eq_ignore_ascii_case(expected),
    }
}

fn contains(text: &str, expected: &str) -> bool {
    text.to_lowercase()
        .contains(&expected.trim_end_matches('*').to_lowercase())
}

fn list_contains(list: Option<&Value>, expected: &str) -> bool {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|item| item.eq_ignore_ascii_case(expected))
}

/// Accepts the numeric id or the full GID.
fn id_matches(id: u64, type_name: &str, expected: &str) -> bool {
    expected == id.to_string() || expected == format!("gid://shopify/{type_name}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_quoted_spaces() {
        assert_eq!(
            tokenize(r#"source_identifier:"reg 1" -tag:x  name:#1001"#),
            vec![r#"source_identifier:"reg 1""#, "-tag:x", "name:#1001"]
        );
    }

    #[test]
    fn unknown_field_becomes_warning() {
        let search = Search::orders("sourceIdentifier:abc source_identifier:def");
        assert_eq!(search.terms.len(), 1);
        assert_eq!(search.warnings.len(), 1);
        assert_eq!(search.warnings[0]["field"], "sourceIdentifier");
    }

    #[test]
    fn negation_and_quotes() {
        let search = Search::orders(r#"-source_identifier:'a b'"#);
        assert_eq!(
            search.terms,
            vec![Term {
                negated: true,
                field: Some("source_identifier".into()),
                value: "a b".into()
            }]
        );
    }
}
