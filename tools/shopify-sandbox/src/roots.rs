//! Root operation objects: the queries and mutations the sandbox implements.

use std::cell::RefCell;

use apollo_compiler::resolvers::{ExecutionError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::inputs::literal_to_json;
use crate::objects::{connection, cursor, error, not_implemented, string_argument, Field, Object};
use crate::search::Search;
use crate::store::{parse_gid, CreateOrder, Store, UserError};
use crate::views::{customer_object_with_orders, order_object, shop_object, ShopInfo};

/// `QueryRoot`: `shop`, `orders`, `order`, `customers`, `customer`, `node` and `nodes`.
pub struct QueryRoot<'a> {
    pub type_name: &'a str,
    pub store: &'a Store,
    pub shop: &'a ShopInfo,
    /// Search warnings for `extensions.search`, one entry per `query` argument.
    pub search_warnings: RefCell<Vec<Value>>,
}

impl ObjectValue for QueryRoot<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        let arguments = info.arguments();
        match info.field_name() {
            "shop" => Ok(ResolvedValue::object(shop_object(self.shop))),
            "orders" => {
                let items = self.orders(arguments)?;
                connection(info, &items)
            }
            "customers" => {
                let items = self.customers(arguments);
                connection(info, &items)
            }
            "order" => Ok(ResolvedValue::nullable_object(
                self.node(required_id(arguments)?)
                    .filter(|object| object.type_name() == "Order"),
            )),
            "customer" => Ok(ResolvedValue::nullable_object(
                self.node(required_id(arguments)?)
                    .filter(|object| object.type_name() == "Customer"),
            )),
            "node" => Ok(ResolvedValue::nullable_object(
                self.node(required_id(arguments)?),
            )),
            "nodes" => {
                let ids = arguments
                    .get("ids")
                    .and_then(JsonValue::as_array)
                    .cloned()
                    .unwrap_or_default();
                let nodes: Vec<ResolvedValue<'a>> = ids
                    .iter()
                    .map(|id| {
                        ResolvedValue::nullable_object(id.as_str().and_then(|id| self.node(id)))
                    })
                    .collect();
                Ok(ResolvedValue::list(nodes))
            }
            other => Err(not_implemented(self.type_name, other)),
        }
    }
}

impl QueryRoot<'_> {
    fn orders(&self, arguments: &JsonMap) -> Result<Vec<(String, Object)>, ExecutionError> {
        let search = string_argument(arguments, "query").map(Search::orders);
        if let (Some(search), Some(query)) = (&search, string_argument(arguments, "query")) {
            self.record_warnings("orders", query, search);
        }
        let mut orders: Vec<_> = self
            .store
            .orders
            .iter()
            .filter(|order| {
                let customer = order.customer_id.and_then(|id| self.store.customer(id));
                search
                    .as_ref()
                    .is_none_or(|search| search.matches_order(order, customer))
            })
            .collect();

        // Ids grow with creation time, so most sort keys reduce to the id.
        match string_argument(arguments, "sortKey").unwrap_or("PROCESSED_AT") {
            "PROCESSED_AT" => orders.sort_by_key(|order| (order.processed_at, order.id)),
            "TOTAL_PRICE" | "CURRENT_TOTAL_PRICE" => {
                orders.sort_by_key(|order| (order.totals.total.shop, order.id))
            }
            "ID" | "CREATED_AT" | "UPDATED_AT" | "ORDER_NUMBER" | "RELEVANCE" => {
                orders.sort_by_key(|order| order.id)
            }
            other => {
                return Err(error(format!(
                    "The Shopify sandbox does not implement sortKey {other} for orders"
                )))
            }
        }
        Ok(orders
            .into_iter()
            .map(|order| (cursor("Order", order.id), order_object(order, self.store)))
            .collect())
    }

    fn customers(&self, arguments: &JsonMap) -> Vec<(String, Object)> {
        let search = string_argument(arguments, "query").map(Search::customers);
        if let (Some(search), Some(query)) = (&search, string_argument(arguments, "query")) {
            self.record_warnings("customers", query, search);
        }
        self.store
            .customers
            .iter()
            .filter(|customer| {
                search
                    .as_ref()
                    .is_none_or(|search| search.matches_customer(customer))
            })
            .map(|customer| {
                (
                    cursor("Customer", customer.id),
                    customer_object_with_orders(customer, self.store),
                )
            })
            .collect()
    }

    fn record_warnings(&self, field: &str, query: &str, search: &Search) {
        if !search.warnings.is_empty() {
            self.search_warnings.borrow_mut().push(serde_json::json!({
                "path": [field],
                "query": query,
                "warnings": search.warnings,
            }));
        }
    }

    fn node(&self, id: &str) -> Option<Object> {
        if let Some(order) = parse_gid(id, "Order").and_then(|id| self.store.order(id)) {
            return Some(order_object(order, self.store));
        }
        let customer = parse_gid(id, "Customer").and_then(|id| self.store.customer(id))?;
        Some(customer_object_with_orders(customer, self.store))
    }
}

fn required_id(arguments: &JsonMap) -> Result<&str, ExecutionError> {
    string_argument(arguments, "id").ok_or_else(|| error("Argument id is missing"))
}

/// Settings and request data for a mutation, besides the store.
pub struct MutationContext<'a> {
    pub shop: &'a ShopInfo,
    pub require_transactions_match_total: bool,
    /// Variables as the client sent them, to record the input as received.
    pub raw_variables: &'a Map<String, Value>,
    /// Set by the `phone_user_error` fault.
    pub force_phone_error: bool,
}

/// `Mutation`: only `orderCreate`.
pub struct MutationRoot<'a> {
    pub type_name: &'a str,
    pub store: RefCell<&'a mut Store>,
    pub context: MutationContext<'a>,
    /// Ids of the orders this request created, in order.
    pub created_orders: RefCell<Vec<u64>>,
}

impl ObjectValue for MutationRoot<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, ExecutionError> {
        match info.field_name() {
            "orderCreate" => Ok(ResolvedValue::object(self.order_create(info)?)),
            other => Err(not_implemented(self.type_name, other)),
        }
    }
}

impl MutationRoot<'_> {
    fn order_create(&self, info: &ResolveInfo<'_>) -> Result<Object, ExecutionError> {
        let arguments = info.arguments();
        let input = to_serde(arguments.get("order"))?;
        let received = |name: &str| {
            info.field_selections()[0]
                .arguments
                .iter()
                .find(|argument| argument.name == name)
                .map_or(Value::Null, |argument| {
                    literal_to_json(&argument.value, Some(self.context.raw_variables))
                })
        };

        if self.context.force_phone_error {
            let error = UserError::invalid_phone(&["order", "customer", "toUpsert", "phone"]);
            return Ok(payload(None, &[error]));
        }

        let mut store = self.store.borrow_mut();
        let result = store.create_order(CreateOrder {
            input: &input,
            received_input: received("order"),
            received_options: received("options"),
            shop_currency: &self.context.shop.currency,
            require_transactions_match_total: self.context.require_transactions_match_total,
            now: OffsetDateTime::now_utc(),
        });
        Ok(match result {
            Ok(id) => {
                self.created_orders.borrow_mut().push(id);
                let order = store.order(id).expect("order just created");
                payload(Some(order_object(order, &store)), &[])
            }
            Err(errors) => payload(None, &errors),
        })
    }
}

fn payload(order: Option<Object>, errors: &[UserError]) -> Object {
    let user_errors = errors
        .iter()
        .map(|error| {
            Field::Object(
                Object::new("OrderCreateUserError")
                    .with_leaf("field", error.field.clone())
                    .with_leaf("message", error.message.as_str())
                    .with_leaf("code", error.code),
            )
        })
        .collect();
    Object::new("OrderCreatePayload")
        .with("order", Field::optional(order))
        .with("userErrors", Field::List(user_errors))
}

fn to_serde(value: Option<&JsonValue>) -> Result<Value, ExecutionError> {
    match value {
        Some(value) => serde_json::to_value(value)
            .map_err(|err| error(format!("Argument order could not be read: {err}"))),
        None => Err(error("Argument order is missing")),
    }
}
