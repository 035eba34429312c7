//! One GraphQL request from document to response body: parsing and validation against the
//! schema, variable checks, cost and throttling, then execution against the store.

use std::cell::RefCell;

use apollo_compiler::ast;
use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::Execution;
use apollo_compiler::response::{ExecutionResponse, JsonValue};
use apollo_compiler::validation::{DiagnosticList, Valid};
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Map, Value};

use crate::cost::{requested_cost, Bucket, MAX_SINGLE_QUERY_COST};
use crate::faults::Fault;
use crate::inputs::{check_literals, check_variables};
use crate::roots::{MutationContext, MutationRoot, QueryRoot};
use crate::store::Store;
use crate::views::ShopInfo;

/// A GraphQL request body.
#[derive(Debug, Clone)]
pub struct GraphqlRequest {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
}

impl GraphqlRequest {
    /// Reads a JSON body (`{"query", "variables", "operationName"}`), or a bare document
    /// when `content_type` is `application/graphql`.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, String> {
        let media_type = content_type
            .and_then(|value| value.split(';').next())
            .map(|value| value.trim().to_ascii_lowercase());
        if media_type.as_deref() == Some("application/graphql") {
            let query = std::str::from_utf8(body)
                .map_err(|_| "The request body is not UTF-8 text".to_owned())?;
            return Ok(Self {
                query: query.to_owned(),
                operation_name: None,
                variables: Map::new(),
            });
        }

        let body: Value = serde_json::from_slice(body)
            .map_err(|err| format!("The request body is not valid JSON: {err}"))?;
        let query = match body.get("query") {
            Some(Value::String(query)) if !query.trim().is_empty() => query.clone(),
            _ => return Err("Parameter query is missing or empty".to_owned()),
        };
        let operation_name = match body.get("operationName") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(other) => {
                return Err(format!(
                    "Parameter operationName must be a string, got {other}"
                ))
            }
        };
        let variables = match body.get("variables") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(variables)) => variables.clone(),
            Some(other) => {
                return Err(format!(
                    "Parameter variables must be an object, got {other}"
                ))
            }
        };
        Ok(Self {
            query,
            operation_name,
            variables,
        })
    }

    /// Returns the operation name, or the first root field for an anonymous operation,
    /// without validating the document. Used to count and log calls, including those that
    /// a fault stops before validation.
    pub fn label(&self) -> String {
        if let Some(name) = &self.operation_name {
            return name.clone();
        }
        let Ok(document) = ast::Document::parse(self.query.as_str(), "request.graphql") else {
            return "(unparsable)".to_owned();
        };
        let operation = document
            .definitions
            .iter()
            .find_map(|definition| match definition {
                ast::Definition::OperationDefinition(operation) => Some(operation),
                _ => None,
            });
        let Some(operation) = operation else {
            return "(no operation)".to_owned();
        };
        if let Some(name) = &operation.name {
            return name.to_string();
        }
        operation
            .selection_set
            .iter()
            .find_map(|selection| selection.as_field())
            .map_or_else(
                || "(anonymous)".to_owned(),
                |field| format!("(anonymous {})", field.name),
            )
    }
}

/// Settings that execution reads.
pub struct ExecutionSettings<'a> {
    pub schema: &'a Valid<Schema>,
    pub shop: &'a ShopInfo,
    pub require_transactions_match_total: bool,
}

/// The mutable state one request works on.
pub struct ExecutionState<'a> {
    pub store: &'a mut Store,
    pub bucket: &'a mut Bucket,
}

/// Result of one request.
pub struct Outcome {
    /// The JSON response body, sent with HTTP 200.
    pub body: Value,
    /// Orders that `orderCreate` stored during this request.
    pub created_orders: Vec<u64>,
}

impl Outcome {
    fn errors(errors: Vec<Value>, cost: Value) -> Self {
        Self {
            body: json!({"errors": errors, "extensions": {"cost": cost}}),
            created_orders: Vec::new(),
        }
    }
}

/// Validates and executes a request. `fault` is the fault this call met, if it is one that
/// acts after validation (`throttled`, `access_denied`, `internal_error`, `phone_user_error`).
pub fn run(
    settings: &ExecutionSettings<'_>,
    state: ExecutionState<'_>,
    request: &GraphqlRequest,
    fault: Option<&Fault>,
) -> Outcome {
    let schema = settings.schema;
    let zero_cost = |bucket: &mut Bucket| bucket.cost_extension(0, Some(0), None);

    let document = match ExecutableDocument::parse_and_validate(
        schema,
        request.query.as_str(),
        "request.graphql",
    ) {
        Ok(document) => document,
        Err(invalid) => {
            return Outcome::errors(diagnostics_json(&invalid.errors), zero_cost(state.bucket))
        }
    };
    let operation = match document.operations.get(request.operation_name.as_deref()) {
        Ok(operation) => operation,
        Err(err) => {
            let error = json!({
                "message": err.message().to_string(),
                "extensions": {"code": "OPERATION_NOT_FOUND"},
            });
            return Outcome::errors(vec![error], zero_cost(state.bucket));
        }
    };

    let mut input_errors = check_variables(schema, &document, operation, &request.variables);
    input_errors.extend(check_literals(schema, &document, operation));
    if !input_errors.is_empty() {
        return Outcome::errors(input_errors, zero_cost(state.bucket));
    }
    let raw_variables = JsonValue::from(Value::Object(request.variables.clone()));
    let raw_variables = raw_variables.as_object().expect("built from an object");
    let variables =
        match apollo_compiler::request::coerce_variable_values(schema, operation, raw_variables) {
            Ok(variables) => variables,
            Err(err) => {
                let mut error = serde_json::to_value(err.to_graphql_error(&document.sources))
                    .expect("a GraphQL error serializes");
                error["extensions"]["code"] = "INVALID_VARIABLE".into();
                return Outcome::errors(vec![error], zero_cost(state.bucket));
            }
        };

    let requested = requested_cost(schema, &document, operation, &variables);
    if matches!(fault, Some(Fault::Throttled)) {
        let cost = state.bucket.cost_extension(requested, None, Some(0.0));
        return Outcome::errors(vec![throttled_error()], cost);
    }
    if requested > MAX_SINGLE_QUERY_COST {
        let error = json!({
            "message": format!(
                "The query cost {requested} exceeds the maximum cost of a single query, \
                 {MAX_SINGLE_QUERY_COST}; request smaller pages"
            ),
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_SINGLE_QUERY_COST},
        });
        let cost = state.bucket.cost_extension(requested, None, None);
        return Outcome::errors(vec![error], cost);
    }
    if !state.bucket.try_take(requested) {
        let cost = state.bucket.cost_extension(requested, None, None);
        return Outcome::errors(vec![throttled_error()], cost);
    }
    let cost = |bucket: &mut Bucket| bucket.cost_extension(requested, Some(requested), None);

    match fault {
        Some(Fault::AccessDenied) => {
            let field = first_root_field(operation);
            let error = json!({
                "message": format!(
                    "Access denied for {field} field. The app lacks the access scope it needs \
                     (simulated by the Shopify sandbox)"
                ),
                "path": [field],
                "extensions": {"code": "ACCESS_DENIED"},
            });
            return Outcome {
                body: json!({"errors": [error], "data": null, "extensions": {"cost": cost(state.bucket)}}),
                created_orders: Vec::new(),
            };
        }
        Some(Fault::InternalError) => {
            let request_id = uuid::Uuid::new_v4().to_string();
            let error = json!({
                "message": format!(
                    "Internal error (simulated by the Shopify sandbox). Request ID: {request_id}"
                ),
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            });
            return Outcome::errors(vec![error], cost(state.bucket));
        }
        _ => {}
    }

    let execution = Execution::new(schema, &document)
        .operation(operation)
        .coerced_variable_values(&variables)
        .enable_schema_introspection(true);
    let root_type = schema
        .root_operation(operation.operation_type)
        .map_or("", |name| name.as_str());

    let (response, created_orders, search_warnings) = match operation.operation_type {
        OperationType::Query => {
            let root = QueryRoot {
                type_name: root_type,
                store: state.store,
                shop: settings.shop,
                search_warnings: RefCell::new(Vec::new()),
            };
            let response = execution.execute_sync(&root);
            (response, Vec::new(), root.search_warnings.into_inner())
        }
        OperationType::Mutation => {
            let root = MutationRoot {
                type_name: root_type,
                store: RefCell::new(state.store),
                context: MutationContext {
                    shop: settings.shop,
                    require_transactions_match_total: settings.require_transactions_match_total,
                    raw_variables: &request.variables,
                    force_phone_error: matches!(fault, Some(Fault::PhoneUserError)),
                },
                created_orders: RefCell::new(Vec::new()),
            };
            let response = execution.execute_sync(&root);
            (response, root.created_orders.into_inner(), Vec::new())
        }
        OperationType::Subscription => {
            let error = json!({
                "message": "The Admin API has no subscriptions",
                "extensions": {"code": "SUBSCRIPTION_NOT_SUPPORTED"},
            });
            return Outcome::errors(vec![error], cost(state.bucket));
        }
    };

    let mut extensions = json!({"cost": cost(state.bucket)});
    if !search_warnings.is_empty() {
        extensions["search"] = Value::Array(search_warnings);
    }
    let body = match response {
        Ok(response) => response_json(response, extensions),
        Err(err) => {
            let error = serde_json::to_value(err.to_graphql_error(&document.sources))
                .expect("a GraphQL error serializes");
            json!({"errors": [error], "extensions": extensions})
        }
    };
    Outcome {
        body,
        created_orders,
    }
}

fn response_json(response: ExecutionResponse, extensions: Value) -> Value {
    let mut body = Map::new();
    if !response.errors.is_empty() {
        body.insert(
            "errors".into(),
            serde_json::to_value(&response.errors).expect("GraphQL errors serialize"),
        );
    }
    body.insert(
        "data".into(),
        serde_json::to_value(&response.data).expect("response data serializes"),
    );
    body.insert("extensions".into(), extensions);
    Value::Object(body)
}

fn throttled_error() -> Value {
    json!({
        "message": "Throttled",
        "extensions": {
            "code": "THROTTLED",
            "documentation": "https://shopify.dev/api/usage/rate-limits",
        },
    })
}

fn first_root_field(operation: &apollo_compiler::executable::Operation) -> String {
    operation
        .selection_set
        .selections
        .iter()
        .find_map(|selection| selection.as_field())
        .map_or_else(String::new, |field| field.name.to_string())
}

/// Converts apollo-compiler diagnostics to GraphQL errors with an `extensions.code`.
fn diagnostics_json(diagnostics: &DiagnosticList) -> Vec<Value> {
    diagnostics
        .iter()
        .map(|diagnostic| {
            let mut error =
                serde_json::to_value(diagnostic.to_json()).expect("a GraphQL error serializes");
            let code = diagnostic
                .error
                .unstable_error_name()
                .map(validation_code)
                .unwrap_or_else(|| {
                    if diagnostic.error.to_string().starts_with("syntax error") {
                        "parseError"
                    } else {
                        "GRAPHQL_VALIDATION_FAILED"
                    }
                });
            error["extensions"] = json!({"code": code});
            error
        })
        .collect()
}

/// Maps an apollo-compiler rule name to an error code.
///
/// NOTE: Shopify's Admin API runs graphql-ruby, whose static validation errors carry codes
/// such as `undefinedField`. The codes below follow those names as remembered, and were not
/// checked against recorded Shopify responses. Rules without a known counterpart get
/// `GRAPHQL_VALIDATION_FAILED`.
fn validation_code(rule: &str) -> &'static str {
    match rule {
        "UndefinedField" => "undefinedField",
        "UndefinedArgument" => "argumentNotAccepted",
        "RequiredArgument" => "missingRequiredArguments",
        "MissingSubselection" | "SubselectionOnScalarType" | "SubselectionOnEnumType" => {
            "selectionMismatch"
        }
        "UndefinedVariable" => "variableNotDefined",
        "UnusedVariable" => "variableNotUsed",
        "DisallowedVariableUsage" => "variableMismatch",
        "VariableInputType" => "variableRequiresValidType",
        "UndefinedDefinition"
        | "UndefinedTypeInNamedFragmentTypeCondition"
        | "UndefinedTypeInInlineFragmentTypeCondition" => "undefinedType",
        "UnsupportedValueType"
        | "IntCoercionError"
        | "FloatCoercionError"
        | "UndefinedEnumValue"
        | "UndefinedInputValue"
        | "OneOfInputObjectFieldCount"
        | "OneOfInputObjectFieldNonNull" => "argumentLiteralsIncompatible",
        "RequiredField" => "missingRequiredInputObjectAttribute",
        "UndefinedFragment" => "undefinedFragment",
        "UnusedFragment" => "useAndDefineFragment",
        "UndefinedDirective" => "undefinedDirective",
        "UniqueArgument" => "argumentNotUnique",
        "UniqueVariable" => "variableNotUnique",
        "OperationNameCollision" | "AmbiguousAnonymousOperation" => "operationNotUnique",
        "FragmentNameCollision" => "fragmentNotUnique",
        "ConflictingFieldType" | "ConflictingFieldName" | "ConflictingFieldArgument" => {
            "fieldConflict"
        }
        _ => "GRAPHQL_VALIDATION_FAILED",
    }
}
