//! Loading Shopify's published Admin schema.
//!
//! The schema arrives as a GraphQL introspection result (`{"data":{"__schema":{...}}}`),
//! usually gzip-compressed. apollo-compiler builds schemas from SDL, so the introspection
//! types are first printed as SDL and then parsed and validated like any other schema.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{anyhow, bail, Context as _};
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use serde_json::Value;

/// Types and directives that every GraphQL schema has built in, so the SDL must not
/// define them again.
const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: [&str; 5] = ["skip", "include", "deprecated", "specifiedBy", "oneOf"];

/// Loads the schema at `path`, or returns the copy that this process already loaded from
/// the same path. The Admin schema is large, and tests start many sandboxes.
pub fn load_cached(path: &Path) -> anyhow::Result<Arc<Valid<Schema>>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Valid<Schema>>>>> = OnceLock::new();
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let loaded = LOADED.get_or_init(Default::default);

    if let Some(schema) = loaded.lock().expect("schema cache lock").get(&key) {
        return Ok(schema.clone());
    }
    // Two callers may load the same file at once. Both results are equal, and the second
    // insert wins.
    let schema = Arc::new(load(path)?);
    loaded
        .lock()
        .expect("schema cache lock")
        .insert(key, schema.clone());
    Ok(schema)
}

/// Reads an introspection result (gzip or plain JSON) and builds a validated schema.
pub fn load(path: &Path) -> anyhow::Result<Valid<Schema>> {
    let raw = std::fs::read(path)
        .with_context(|| format!("failed to read the Shopify schema at {}", path.display()))?;
    let json = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut text)
            .with_context(|| format!("failed to gunzip {}", path.display()))?;
        text
    } else {
        raw
    };
    let introspection: Value = serde_json::from_slice(&json)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let sdl = introspection_to_sdl(&introspection)
        .with_context(|| format!("{} is not a GraphQL introspection result", path.display()))?;
    Schema::parse_and_validate(sdl, path).map_err(|invalid| {
        anyhow!(
            "the schema in {} is not valid GraphQL:\n{}",
            path.display(),
            invalid.errors
        )
    })
}

/// Prints the types, directives and root operation types of an introspection result as SDL.
/// Descriptions are left out because validation and execution do not need them.
pub fn introspection_to_sdl(introspection: &Value) -> anyhow::Result<String> {
    let schema = introspection
        .pointer("/data/__schema")
        .or_else(|| introspection.get("__schema"))
        .ok_or_else(|| anyhow!("missing `data.__schema`"))?;
    let types = schema
        .get("types")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("missing `__schema.types`"))?;

    let mut sdl = String::new();
    write_schema_definition(&mut sdl, schema)?;
    for directive in schema
        .get("directives")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        write_directive(&mut sdl, directive)?;
    }
    let interface_fields = interface_field_deprecations(types);
    for ty in types {
        write_type(&mut sdl, ty, &interface_fields)?;
    }
    Ok(sdl)
}

/// Maps each interface field, as `(interface, field)`, to whether it is deprecated.
type InterfaceFields<'v> = HashMap<(&'v str, &'v str), bool>;

fn interface_field_deprecations(types: &[Value]) -> InterfaceFields<'_> {
    let mut fields = HashMap::new();
    for ty in types {
        if ty.get("kind").and_then(Value::as_str) != Some("INTERFACE") {
            continue;
        }
        let Some(interface) = ty.get("name").and_then(Value::as_str) else {
            continue;
        };
        for field in array_field(ty, "fields") {
            if let Some(name) = field.get("name").and_then(Value::as_str) {
                let deprecated = field.get("isDeprecated").and_then(Value::as_bool) == Some(true);
                fields.insert((interface, name), deprecated);
            }
        }
    }
    fields
}

fn write_schema_definition(sdl: &mut String, schema: &Value) -> anyhow::Result<()> {
    sdl.push_str("schema {\n");
    for (operation, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = schema
            .pointer(&format!("/{key}/name"))
            .and_then(Value::as_str)
        {
            writeln!(sdl, "  {operation}: {name}")?;
        }
    }
    sdl.push_str("}\n\n");
    Ok(())
}

fn write_directive(sdl: &mut String, directive: &Value) -> anyhow::Result<()> {
    let name = str_field(directive, "name")?;
    if BUILT_IN_DIRECTIVES.contains(&name) {
        return Ok(());
    }
    write!(sdl, "directive @{name}")?;
    write_arguments(sdl, directive.get("args"))?;
    if directive.get("isRepeatable").and_then(Value::as_bool) == Some(true) {
        sdl.push_str(" repeatable");
    }
    let locations: Vec<&str> = directive
        .get("locations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if locations.is_empty() {
        bail!("directive @{name} has no locations");
    }
    writeln!(sdl, " on {}\n", locations.join(" | "))?;
    Ok(())
}

fn write_type(
    sdl: &mut String,
    ty: &Value,
    interface_fields: &InterfaceFields<'_>,
) -> anyhow::Result<()> {
    let name = str_field(ty, "name")?;
    if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
        return Ok(());
    }
    match str_field(ty, "kind")? {
        "SCALAR" => {
            write!(sdl, "scalar {name}")?;
            if let Some(url) = ty.get("specifiedByURL").and_then(Value::as_str) {
                write!(sdl, " @specifiedBy(url: {})", quote(url))?;
            }
            sdl.push('\n');
        }
        "OBJECT" | "INTERFACE" => {
            let keyword = if str_field(ty, "kind")? == "OBJECT" {
                "type"
            } else {
                "interface"
            };
            write!(sdl, "{keyword} {name}")?;
            let interfaces = named_list(ty.get("interfaces"));
            if !interfaces.is_empty() {
                write!(sdl, " implements {}", interfaces.join(" & "))?;
            }
            sdl.push_str(" {\n");
            for field in array_field(ty, "fields") {
                let field_name = str_field(field, "name")?;
                write!(sdl, "  {field_name}")?;
                write_arguments(sdl, field.get("args"))?;
                write!(sdl, ": {}", type_ref(field_type(field)?)?)?;
                // apollo-compiler 2.0 (after the September 2025 GraphQL spec) rejects a
                // deprecated field that implements a non-deprecated interface field, and the
                // 2026-10 Admin schema has six (such as `ChannelDefinition.id`). Deprecation
                // changes no validation or execution rule, so the mark is dropped there.
                let implements_live_field = interfaces.iter().any(|interface| {
                    interface_fields.get(&(*interface, field_name)) == Some(&false)
                });
                if !implements_live_field {
                    write_deprecation(sdl, field)?;
                }
                sdl.push('\n');
            }
            sdl.push_str("}\n");
        }
        "UNION" => {
            let members = named_list(ty.get("possibleTypes"));
            writeln!(sdl, "union {name} = {}", members.join(" | "))?;
        }
        "ENUM" => {
            writeln!(sdl, "enum {name} {{")?;
            for value in array_field(ty, "enumValues") {
                write!(sdl, "  {}", str_field(value, "name")?)?;
                write_deprecation(sdl, value)?;
                sdl.push('\n');
            }
            sdl.push_str("}\n");
        }
        "INPUT_OBJECT" => {
            write!(sdl, "input {name}")?;
            if ty.get("isOneOf").and_then(Value::as_bool) == Some(true) {
                sdl.push_str(" @oneOf");
            }
            sdl.push_str(" {\n");
            for field in array_field(ty, "inputFields") {
                sdl.push_str("  ");
                write_input_value(sdl, field)?;
                sdl.push('\n');
            }
            sdl.push_str("}\n");
        }
        other => bail!("type {name} has the unknown kind {other}"),
    }
    sdl.push('\n');
    Ok(())
}

fn write_arguments(sdl: &mut String, args: Option<&Value>) -> anyhow::Result<()> {
    let args: Vec<&Value> = args
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    if args.is_empty() {
        return Ok(());
    }
    sdl.push('(');
    for (index, arg) in args.into_iter().enumerate() {
        if index > 0 {
            sdl.push_str(", ");
        }
        write_input_value(sdl, arg)?;
    }
    sdl.push(')');
    Ok(())
}

/// Writes an argument or input field: `name: Type = default @deprecated(...)`.
fn write_input_value(sdl: &mut String, value: &Value) -> anyhow::Result<()> {
    let ty = field_type(value)?;
    write!(sdl, "{}: {}", str_field(value, "name")?, type_ref(ty)?)?;
    // Introspection prints default values as GraphQL literals, so they are copied as is.
    if let Some(default) = value.get("defaultValue").and_then(Value::as_str) {
        write!(sdl, " = {default}")?;
    }
    // apollo-compiler 2.0 rejects @deprecated on a required input (non-null without a
    // default), so such a mark, which changes no validation rule, is left out.
    let required = ty.get("kind").and_then(Value::as_str) == Some("NON_NULL")
        && value.get("defaultValue").is_none_or(Value::is_null);
    if !required {
        write_deprecation(sdl, value)?;
    }
    Ok(())
}

fn write_deprecation(sdl: &mut String, element: &Value) -> anyhow::Result<()> {
    if element.get("isDeprecated").and_then(Value::as_bool) != Some(true) {
        return Ok(());
    }
    match element.get("deprecationReason").and_then(Value::as_str) {
        Some(reason) => write!(sdl, " @deprecated(reason: {})", quote(reason))?,
        None => sdl.push_str(" @deprecated"),
    }
    Ok(())
}

/// Prints an introspection type reference (`{"kind":"NON_NULL","ofType":{...}}`) as `Type!`.
fn type_ref(ty: &Value) -> anyhow::Result<String> {
    match str_field(ty, "kind")? {
        "NON_NULL" => Ok(format!("{}!", type_ref(of_type(ty)?)?)),
        "LIST" => Ok(format!("[{}]", type_ref(of_type(ty)?)?)),
        _ => Ok(str_field(ty, "name")?.to_owned()),
    }
}

fn of_type(ty: &Value) -> anyhow::Result<&Value> {
    ty.get("ofType")
        .filter(|inner| !inner.is_null())
        .ok_or_else(|| anyhow!("wrapping type without `ofType`: {ty}"))
}

fn field_type(field: &Value) -> anyhow::Result<&Value> {
    field.get("type").ok_or_else(|| {
        anyhow!(
            "field without `type`: {}",
            field.get("name").unwrap_or(&Value::Null)
        )
    })
}

fn str_field<'v>(value: &'v Value, key: &str) -> anyhow::Result<&'v str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("missing string `{key}` in {}", abbreviate(value)))
}

fn array_field<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn named_list(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("name").and_then(Value::as_str))
        .collect()
}

/// Quotes text as a GraphQL string. JSON string escapes are a subset of GraphQL's.
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

fn abbreviate(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdl_covers_every_type_kind() {
        let introspection = serde_json::json!({"data": {"__schema": {
            "queryType": {"name": "QueryRoot"},
            "mutationType": null,
            "subscriptionType": null,
            "directives": [
                {"name": "skip", "locations": ["FIELD"], "args": []},
                {"name": "idempotent", "locations": ["FIELD"], "isRepeatable": false, "args": [
                    {"name": "key", "type": {"kind": "NON_NULL", "name": null,
                        "ofType": {"kind": "SCALAR", "name": "String", "ofType": null}},
                     "defaultValue": null}
                ]}
            ],
            "types": [
                {"kind": "SCALAR", "name": "String"},
                {"kind": "SCALAR", "name": "Decimal", "specifiedByURL": null},
                {"kind": "OBJECT", "name": "QueryRoot", "interfaces": [], "fields": [
                    {"name": "thing", "isDeprecated": true, "deprecationReason": "Use \"other\".",
                     "args": [{"name": "first", "type": {"kind": "SCALAR", "name": "Int"},
                               "defaultValue": "10"}],
                     "type": {"kind": "LIST", "ofType": {"kind": "NON_NULL",
                        "ofType": {"kind": "UNION", "name": "Thing"}}}}
                ]},
                {"kind": "UNION", "name": "Thing", "possibleTypes": [{"name": "QueryRoot"}]},
                {"kind": "ENUM", "name": "Color", "enumValues": [
                    {"name": "RED", "isDeprecated": false}]},
                {"kind": "INPUT_OBJECT", "name": "Pick", "isOneOf": true, "inputFields": [
                    {"name": "a", "type": {"kind": "SCALAR", "name": "String"}, "defaultValue": null}]}
            ]
        }}});

        let sdl = introspection_to_sdl(&introspection).unwrap();

        assert!(sdl.contains("schema {\n  query: QueryRoot\n}"), "{sdl}");
        assert!(
            sdl.contains("directive @idempotent(key: String!) on FIELD"),
            "{sdl}"
        );
        assert!(!sdl.contains("directive @skip"), "{sdl}");
        assert!(!sdl.contains("scalar String"), "{sdl}");
        assert!(sdl.contains("scalar Decimal\n"), "{sdl}");
        assert!(
            sdl.contains(
                r#"thing(first: Int = 10): [Thing!] @deprecated(reason: "Use \"other\".")"#
            ),
            "{sdl}"
        );
        assert!(sdl.contains("union Thing = QueryRoot"), "{sdl}");
        assert!(sdl.contains("input Pick @oneOf {\n  a: String\n}"), "{sdl}");
        assert!(Schema::parse_and_validate(sdl, "test.graphql").is_ok());
    }
}
