//! Output objects for apollo-compiler's executor.
//!
//! Each sandbox record is turned into an [`Object`]: a type name and a fixed map of field
//! values. The executor then shapes the response by the query's selection (aliases,
//! fragments and `__typename` included). A field missing from the map is one the sandbox
//! does not implement, and selecting it returns a field error that names it.

use std::collections::HashMap;

use apollo_compiler::resolvers::{ExecutionError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use base64::Engine as _;

/// Connections return at most this many nodes per page, as in the Admin API.
pub const MAX_PAGE_SIZE: i64 = 250;

/// A field value of an [`Object`].
#[derive(Debug, Clone)]
pub enum Field {
    /// A scalar, an enum value (as a string) or null.
    Leaf(JsonValue),
    Object(Object),
    List(Vec<Field>),
    /// A Relay connection (`edges`, `nodes`, `pageInfo`) over `(cursor, node)` pairs,
    /// paginated by the field's `first`, `last`, `after`, `before` and `reverse` arguments.
    Connection(Vec<(String, Object)>),
}

impl Field {
    /// Wraps a scalar value. A JSON array becomes a list, because the executor needs list
    /// fields (such as `tags: [String!]!`) resolved item by item.
    pub fn leaf(value: impl Into<serde_json::Value>) -> Field {
        match value.into() {
            serde_json::Value::Array(items) => {
                Field::List(items.into_iter().map(Field::leaf).collect())
            }
            value => Field::Leaf(JsonValue::from(value)),
        }
    }

    pub fn null() -> Field {
        Field::Leaf(JsonValue::Null)
    }

    pub fn optional(value: Option<Object>) -> Field {
        value.map_or_else(Field::null, Field::Object)
    }
}

/// An output object with a fixed set of resolved fields.
#[derive(Debug, Clone)]
pub struct Object {
    type_name: &'static str,
    fields: HashMap<&'static str, Field>,
}

impl Object {
    pub fn new(type_name: &'static str) -> Self {
        Self {
            type_name,
            fields: HashMap::new(),
        }
    }

    pub fn with(mut self, name: &'static str, value: Field) -> Self {
        self.fields.insert(name, value);
        self
    }

    pub fn with_leaf(self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.with(name, Field::leaf(value))
    }
}

impl ObjectValue for Object {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        match self.fields.get(info.field_name()) {
            Some(value) => resolve(value, info.arguments(), info),
            None => Err(not_implemented(self.type_name, info.field_name())),
        }
    }
}

/// Returns the error for a field that exists in Shopify's schema but not in the sandbox.
pub fn not_implemented(type_name: &str, field_name: &str) -> ExecutionError {
    ExecutionError {
        message: format!(
            "The Shopify sandbox does not implement {type_name}.{field_name}; add it to \
             tools/shopify-sandbox if the product needs it"
        ),
    }
}

/// Converts a field value for the executor, applying `first` to plain lists and the
/// pagination arguments to connections.
pub fn resolve<'a>(
    value: &'a Field,
    arguments: &JsonMap,
    info: &ResolveInfo<'a>,
) -> Result<ResolvedValue<'a>, ExecutionError> {
    Ok(match value {
        Field::Leaf(json) => ResolvedValue::Leaf(json.clone()),
        Field::Object(object) => ResolvedValue::Object(Box::new(object)),
        Field::List(items) => {
            let limit = match int_argument(arguments, "first")? {
                Some(first) => usize::try_from(first).unwrap_or(0),
                None => usize::MAX,
            };
            let empty = JsonMap::new();
            let items: Vec<ResolvedValue<'a>> = items
                .iter()
                .take(limit)
                .map(|item| resolve(item, &empty, info))
                .collect::<Result<_, _>>()?;
            ResolvedValue::list(items)
        }
        Field::Connection(items) => connection(info, items)?,
    })
}

/// Resolves a connection field over `(cursor, node)` pairs, paginated by the field's
/// arguments.
pub fn connection<'a>(
    info: &ResolveInfo<'a>,
    items: &[(String, Object)],
) -> Result<ResolvedValue<'a>, ExecutionError> {
    let type_name = info.field_definition().ty.inner_named_type().to_string();
    Ok(ResolvedValue::object(Connection::paginate(
        type_name,
        items,
        info.arguments(),
    )?))
}

impl ObjectValue for &Object {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        (**self).resolve_field(info)
    }
}

/// One page of a connection.
struct Connection {
    type_name: String,
    edge_type_name: String,
    page: Vec<(String, Object)>,
    has_next_page: bool,
    has_previous_page: bool,
}

impl Connection {
    /// Applies `reverse`, then `after`/`before`, then `first` or `last`, as the Admin API
    /// does. One of `first` and `last` is required.
    fn paginate(
        type_name: String,
        items: &[(String, Object)],
        arguments: &JsonMap,
    ) -> Result<Connection, ExecutionError> {
        let first = int_argument(arguments, "first")?;
        let last = int_argument(arguments, "last")?;
        let page_size = match (first, last) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(error("Give exactly one of the arguments first and last"));
            }
            (Some(size), None) | (None, Some(size)) => size,
        };
        if !(0..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(error(format!(
                "The page size {page_size} must be between 0 and {MAX_PAGE_SIZE}"
            )));
        }

        let mut ordered: Vec<&(String, Object)> = items.iter().collect();
        if arguments.get("reverse").and_then(JsonValue::as_bool) == Some(true) {
            ordered.reverse();
        }
        let mut start = 0;
        let mut end = ordered.len();
        if let Some(after) = string_argument(arguments, "after") {
            start = cursor_position(&ordered, after)? + 1;
        }
        if let Some(before) = string_argument(arguments, "before") {
            end = cursor_position(&ordered, before)?;
        }
        let window = &ordered[start.min(end)..end];
        let size = usize::try_from(page_size).expect("page size checked above");
        let (page, has_next_page, has_previous_page) = if first.is_some() {
            let page = &window[..size.min(window.len())];
            (page, window.len() > page.len(), start > 0)
        } else {
            let page = &window[window.len().saturating_sub(size)..];
            (page, end < ordered.len(), window.len() > page.len())
        };

        let edge_type_name = type_name
            .strip_suffix("Connection")
            .map(|prefix| format!("{prefix}Edge"))
            .unwrap_or_else(|| format!("{type_name}Edge"));
        Ok(Connection {
            type_name,
            edge_type_name,
            page: page.iter().map(|item| (*item).clone()).collect(),
            has_next_page,
            has_previous_page,
        })
    }
}

impl ObjectValue for Connection {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        match info.field_name() {
            "nodes" => Ok(ResolvedValue::list(
                self.page
                    .iter()
                    .map(|(_, node)| ResolvedValue::Object(Box::new(node))),
            )),
            "edges" => Ok(ResolvedValue::list(self.page.iter().map(
                |(cursor, node)| {
                    ResolvedValue::object(Edge {
                        type_name: &self.edge_type_name,
                        cursor,
                        node,
                    })
                },
            ))),
            "pageInfo" => {
                let cursor = |item: Option<&(String, Object)>| {
                    item.map_or(serde_json::Value::Null, |(cursor, _)| cursor.clone().into())
                };
                Ok(ResolvedValue::object(
                    Object::new("PageInfo")
                        .with_leaf("hasNextPage", self.has_next_page)
                        .with_leaf("hasPreviousPage", self.has_previous_page)
                        .with_leaf("startCursor", cursor(self.page.first()))
                        .with_leaf("endCursor", cursor(self.page.last())),
                ))
            }
            other => Err(not_implemented(&self.type_name, other)),
        }
    }
}

struct Edge<'a> {
    type_name: &'a str,
    cursor: &'a str,
    node: &'a Object,
}

impl ObjectValue for Edge<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        match info.field_name() {
            "cursor" => Ok(ResolvedValue::leaf(self.cursor)),
            "node" => Ok(ResolvedValue::Object(Box::new(self.node))),
            other => Err(not_implemented(self.type_name, other)),
        }
    }
}

/// Makes an opaque cursor for the record with the given numeric id.
pub fn cursor(kind: &str, id: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("sandbox:{kind}:{id}"))
}

fn cursor_position(items: &[&(String, Object)], cursor: &str) -> Result<usize, ExecutionError> {
    items
        .iter()
        .position(|(item_cursor, _)| item_cursor == cursor)
        .ok_or_else(|| error(format!("Invalid cursor {cursor}")))
}

pub fn int_argument(arguments: &JsonMap, name: &str) -> Result<Option<i64>, ExecutionError> {
    match arguments.get(name) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| error(format!("Argument {name} must be an Int, got {value}"))),
    }
}

pub fn string_argument<'a>(arguments: &'a JsonMap, name: &str) -> Option<&'a str> {
    arguments.get(name).and_then(JsonValue::as_str)
}

pub fn error(message: impl Into<String>) -> ExecutionError {
    ExecutionError {
        message: message.into(),
    }
}
