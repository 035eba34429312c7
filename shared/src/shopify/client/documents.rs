//! The GraphQL documents the client sends, written against the Admin API schema 2026-10.
//!
//! Every field and argument used here exists in that version: `orderCreate(order:
//! OrderCreateOrderInput!, options: OrderCreateOptionsInput)` returns `OrderCreatePayload`
//! with `order` and `userErrors: [OrderCreateUserError!]!`, and `orders(first: Int, query:
//! String)` returns an `OrderConnection` whose `nodes` have `sourceIdentifier: String`.

/// Creates one order. Variables: `order` (required) and `options` (optional).
pub const ORDER_CREATE_MUTATION: &str = "\
mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order {
      id
      name
    }
    userErrors {
      field
      message
      code
    }
  }
}
";

/// Finds orders by search query. Variable: `query`, such as `source_identifier:"pi_123"`.
///
/// Shopify's search syntax does not promise an exact, case-sensitive match, so the caller
/// compares `sourceIdentifier` itself.
pub const ORDERS_BY_SOURCE_QUERY: &str = "\
query OrdersBySourceIdentifier($query: String!) {
  orders(first: 5, query: $query) {
    nodes {
      id
      name
      sourceIdentifier
    }
  }
}
";

/// Reads the shop's name: the cheapest call that proves the token works and shows which API
/// version Shopify serves.
pub const SHOP_NAME_QUERY: &str = "\
query ShopName {
  shop {
    name
  }
}
";

/// A GraphQL operation the client runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    CreateOrder,
    FindOrdersBySource,
    ShopName,
}

impl Operation {
    /// Returns the root field, which logs use as the operation name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Operation::CreateOrder => "orderCreate",
            Operation::FindOrdersBySource => "orders",
            Operation::ShopName => "shop",
        }
    }

    pub(super) fn document(self) -> &'static str {
        match self {
            Operation::CreateOrder => ORDER_CREATE_MUTATION,
            Operation::FindOrdersBySource => ORDERS_BY_SOURCE_QUERY,
            Operation::ShopName => SHOP_NAME_QUERY,
        }
    }
}
