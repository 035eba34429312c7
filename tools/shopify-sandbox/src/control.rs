//! Control endpoints under `/_sandbox/`, for tests: faults, created records, call counts
//! and reset. They need no access token.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use crate::faults::FaultSpec;
use crate::server::{json_response, AppState};
use crate::store::{money_bag_json, Store};
use crate::views::timestamp;

/// `POST /_sandbox/faults` with a JSON list of faults (or a single fault).
pub(crate) async fn push_faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let parsed: Result<Vec<FaultSpec>, _> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(_)) => serde_json::from_slice(&body),
        Ok(_) => serde_json::from_slice::<FaultSpec>(&body).map(|spec| vec![spec]),
        Err(err) => Err(err),
    };
    let specs = match parsed {
        Ok(specs) => specs,
        Err(err) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("Invalid fault list: {err}")}),
            )
        }
    };
    if let Some(problem) = specs.iter().find_map(|spec| spec.validate().err()) {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": format!("Invalid fault: {problem}")}),
        );
    }
    let mut inner = state.lock();
    inner.faults.extend(specs);
    json_response(
        StatusCode::OK,
        json!({"pendingCalls": inner.faults.pending_calls()}),
    )
}

pub(crate) async fn list_faults(State(state): State<Arc<AppState>>) -> Response {
    let inner = state.lock();
    json_response(
        StatusCode::OK,
        json!({"pendingCalls": inner.faults.pending_calls(), "faults": inner.faults.pending()}),
    )
}

pub(crate) async fn clear_faults(State(state): State<Arc<AppState>>) -> StatusCode {
    state.lock().faults.clear();
    StatusCode::NO_CONTENT
}

pub(crate) async fn list_orders(State(state): State<Arc<AppState>>) -> Json<Value> {
    let inner = state.lock();
    let orders: Vec<Value> = inner
        .store
        .orders
        .iter()
        .map(|order| {
            let money =
                |amount| money_bag_json(amount, &order.currency, &order.presentment_currency);
            json!({
                "id": order.gid(),
                "name": order.name,
                "createdAt": timestamp(order.created_at),
                "customerId": order.customer_id.map(|id| format!("gid://shopify/Customer/{id}")),
                "sourceIdentifier": order.input.get("sourceIdentifier"),
                "displayFinancialStatus": order.financial_status,
                "input": order.received_input,
                "options": order.received_options,
                "totals": {
                    "subtotal": money(order.totals.subtotal),
                    "discounts": money(order.totals.discounts),
                    "shipping": money(order.totals.shipping),
                    "tax": money(order.totals.tax),
                    "total": money(order.totals.total),
                    "received": money(order.totals.received),
                },
            })
        })
        .collect();
    Json(Value::Array(orders))
}

pub(crate) async fn list_customers(State(state): State<Arc<AppState>>) -> Json<Value> {
    let inner = state.lock();
    let customers: Vec<Value> = inner
        .store
        .customers
        .iter()
        .map(|customer| {
            let order_ids: Vec<String> = inner
                .store
                .orders
                .iter()
                .filter(|order| order.customer_id == Some(customer.id))
                .map(|order| order.gid())
                .collect();
            json!({
                "id": customer.gid(),
                "email": customer.email,
                "firstName": customer.first_name,
                "lastName": customer.last_name,
                "phone": customer.phone,
                "note": customer.note,
                "tags": customer.tags,
                "orderIds": order_ids,
            })
        })
        .collect();
    Json(Value::Array(customers))
}

pub(crate) async fn list_calls(State(state): State<Arc<AppState>>) -> Json<Value> {
    let inner = state.lock();
    Json(json!({"total": inner.total_calls, "byOperation": inner.calls}))
}

/// Forgets orders, customers, faults, call counts and issued tokens, and refills the
/// cost bucket.
pub(crate) async fn reset(State(state): State<Arc<AppState>>) -> StatusCode {
    let mut inner = state.lock();
    inner.store = Store::new();
    inner.faults.clear();
    inner.calls.clear();
    inner.total_calls = 0;
    inner.issued_tokens.clear();
    inner.bucket.refill_to_maximum();
    StatusCode::NO_CONTENT
}
