//! Documents and variables that Shopify's schema rejects.

use serde_json::{json, Value};

use crate::common::{order_input, start, Reply, ORDER_CREATE};

/// Sends `orderCreate` with `order` and returns the reply, which should be a request error.
async fn create_with(order: Value) -> Reply {
    let sandbox = start().await;
    let reply = sandbox.graphql(ORDER_CREATE, json!({"order": order})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body.get("data").is_none(), "{}", reply.body);
    assert!(sandbox
        .get("/_sandbox/orders")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    reply
}

fn problem_paths(reply: &Reply) -> Vec<Value> {
    reply.body["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems in {}", reply.body))
        .iter()
        .map(|problem| problem["path"].clone())
        .collect()
}

#[tokio::test]
async fn unknown_field_is_rejected() {
    let sandbox = start().await;

    let reply = sandbox
        .graphql("query Health {\n  shop { name colour }\n}", json!({}))
        .await;

    assert_eq!(reply.status, 200);
    assert!(reply.body.get("data").is_none(), "{}", reply.body);
    assert_eq!(reply.error_code(), "undefinedField");
    let error = &reply.body["errors"][0];
    assert!(
        error["message"].as_str().unwrap().contains("colour"),
        "{error}"
    );
    assert_eq!(error["locations"], json!([{"line": 2, "column": 15}]));
    assert!(reply.body["extensions"]["cost"].is_object());
}

#[tokio::test]
async fn unknown_field_in_order_selection_is_rejected() {
    let sandbox = start().await;
    let document = ORDER_CREATE.replace("sourceIdentifier", "sourceId");

    let reply = sandbox
        .graphql(
            &document,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;

    assert_eq!(reply.error_code(), "undefinedField");
    assert!(sandbox
        .get("/_sandbox/orders")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn syntax_error_is_rejected() {
    let sandbox = start().await;

    let reply = sandbox.graphql("query { shop { name }", json!({})).await;

    assert_eq!(reply.error_code(), "parseError");
}

#[tokio::test]
async fn wrong_variable_type_is_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["lineItems"][0]["quantity"] = "one".into();

    let reply = create_with(order).await;

    assert_eq!(reply.error_code(), "INVALID_VARIABLE");
    assert_eq!(
        problem_paths(&reply),
        vec![json!(["lineItems", 0, "quantity"])]
    );
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Variable $order of type OrderCreateOrderInput!"),
        "{message}"
    );
}

#[tokio::test]
async fn unknown_input_field_is_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["lineItems"][0]["colour"] = "red".into();
    order["registrationId"] = "reg-1".into();

    let reply = create_with(order).await;

    assert_eq!(reply.error_code(), "INVALID_VARIABLE");
    assert_eq!(
        problem_paths(&reply),
        vec![json!(["registrationId"]), json!(["lineItems", 0, "colour"])]
    );
}

#[tokio::test]
async fn bad_enum_value_is_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["transactions"][0]["kind"] = "PAYMENT".into();
    order["currency"] = "usd".into();

    let reply = create_with(order).await;

    assert_eq!(
        problem_paths(&reply),
        vec![json!(["currency"]), json!(["transactions", 0, "kind"])]
    );
    let explanation = reply.body["errors"][0]["extensions"]["problems"][1]["explanation"]
        .as_str()
        .unwrap();
    assert!(explanation.contains("SALE"), "{explanation}");
}

#[tokio::test]
async fn missing_required_input_field_is_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["lineItems"][0]
        .as_object_mut()
        .unwrap()
        .remove("quantity");
    order["taxLines"] = json!([{"rate": "0.1"}]);

    let reply = create_with(order).await;

    assert_eq!(
        problem_paths(&reply),
        vec![
            json!(["lineItems", 0, "quantity"]),
            json!(["taxLines", 0, "title"])
        ]
    );
}

#[tokio::test]
async fn null_for_non_null_is_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["transactions"][0]["amountSet"]["shopMoney"]["amount"] = Value::Null;

    let reply = create_with(order).await;

    assert_eq!(
        problem_paths(&reply),
        vec![json!([
            "transactions",
            0,
            "amountSet",
            "shopMoney",
            "amount"
        ])]
    );
}

#[tokio::test]
async fn invalid_custom_scalars_are_rejected() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["lineItems"][0]["priceSet"]["shopMoney"]["amount"] = "50,00".into();
    order["processedAt"] = "yesterday".into();

    let reply = create_with(order).await;

    assert_eq!(
        problem_paths(&reply),
        vec![
            json!(["lineItems", 0, "priceSet", "shopMoney", "amount"]),
            json!(["processedAt"])
        ]
    );
}

#[tokio::test]
async fn one_of_customer_input_needs_exactly_one_field() {
    let mut order = order_input("reg-1", "ann@example.com");
    order["customer"]["toAssociate"] = json!({"email": "ann@example.com"});

    let reply = create_with(order).await;

    assert_eq!(problem_paths(&reply), vec![json!(["customer"])]);
}

#[tokio::test]
async fn missing_variable_is_rejected() {
    let sandbox = start().await;

    let reply = sandbox.graphql(ORDER_CREATE, json!({})).await;

    assert_eq!(reply.error_code(), "INVALID_VARIABLE");
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("$order"), "{message}");
}

#[tokio::test]
async fn variable_of_wrong_declared_type_is_rejected() {
    let sandbox = start().await;
    let document = ORDER_CREATE.replace("$order: OrderCreateOrderInput!", "$order: OrderInput!");

    let reply = sandbox
        .graphql(
            &document,
            json!({"order": order_input("reg-1", "ann@example.com")}),
        )
        .await;

    assert_eq!(reply.error_code(), "variableMismatch");
}

#[tokio::test]
async fn invalid_literal_scalar_is_rejected() {
    let sandbox = start().await;
    let document = r#"mutation {
      orderCreate(order: {
        lineItems: [{title: "Entry", quantity: 1,
          priceSet: {shopMoney: {amount: "ten", currencyCode: USD}}}]
      }) { order { id } userErrors { message } }
    }"#;

    let reply = sandbox.graphql(document, json!({})).await;

    assert_eq!(reply.error_code(), "argumentLiteralsIncompatible");
    assert_eq!(
        reply.body["errors"][0]["extensions"]["problems"][0]["path"],
        json!(["lineItems", 0, "priceSet", "shopMoney", "amount"])
    );
}

#[tokio::test]
async fn literal_order_input_is_recorded_as_received() {
    let sandbox = start().await;
    let document = r#"mutation ($qty: Int!) {
      orderCreate(order: {
        sourceIdentifier: "reg-lit",
        lineItems: [{title: "Entry", quantity: $qty,
          priceSet: {shopMoney: {amount: "10.00", currencyCode: USD}}}]
      }, options: {sendReceipt: false}) { order { name } userErrors { message } }
    }"#;

    let reply = sandbox.graphql(document, json!({"qty": 2})).await;

    assert_eq!(
        reply.body["data"]["orderCreate"]["order"]["name"], "#1001",
        "{}",
        reply.body
    );
    let listed = sandbox.get("/_sandbox/orders").await.body;
    assert_eq!(listed[0]["input"]["lineItems"][0]["quantity"], 2);
    assert_eq!(
        listed[0]["input"]["lineItems"][0]["priceSet"]["shopMoney"]["currencyCode"],
        "USD"
    );
    assert_eq!(listed[0]["options"], json!({"sendReceipt": false}));
    assert_eq!(listed[0]["totals"]["total"]["shopMoney"]["amount"], "20.0");
}

#[tokio::test]
async fn request_without_query_is_bad_request() {
    let sandbox = start().await;

    let response = sandbox
        .http
        .post(sandbox.sandbox.graphql_url())
        .header(
            "X-Shopify-Access-Token",
            shopify_sandbox::DEFAULT_ACCESS_TOKEN,
        )
        .json(&json!({"variables": {}}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
}
