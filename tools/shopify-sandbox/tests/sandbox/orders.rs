//! `orderCreate`, customers and the queries over orders.

use serde_json::json;

use crate::common::{order_input, start, user_errors};

#[tokio::test]
async fn order_create_is_accepted_and_listed() {
    let sandbox = start().await;

    let payload = sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;

    assert_eq!(user_errors(&payload), vec![]);
    let order = &payload["order"];
    assert_eq!(order["id"], "gid://shopify/Order/1");
    assert_eq!(order["name"], "#1001");
    assert_eq!(order["sourceIdentifier"], "reg-1");
    assert_eq!(order["email"], "ann@example.com");
    assert_eq!(order["test"], true);
    assert_eq!(order["tags"], json!(["registration", "10k"]));
    assert_eq!(order["displayFinancialStatus"], "PAID");
    assert_eq!(
        order["totalPriceSet"]["shopMoney"],
        json!({"amount": "55.0", "currencyCode": "USD"})
    );
    assert_eq!(order["totalPriceSet"]["presentmentMoney"]["amount"], "55.0");
    assert_eq!(order["currentTotalTaxSet"]["shopMoney"]["amount"], "5.0");
    assert_eq!(order["customer"]["email"], "ann@example.com");
    assert_eq!(
        order["customAttributes"][0],
        json!({"key": "registration_id", "value": "reg-1"})
    );
    assert_eq!(order["lineItems"]["nodes"][0]["title"], "10K race entry");
    assert_eq!(order["lineItems"]["nodes"][0]["taxLines"][0]["rate"], 0.1);
    assert_eq!(order["taxLines"], json!([]));
    assert!(order["createdAt"].as_str().unwrap().ends_with('Z'));

    let listed = sandbox.get("/_sandbox/orders").await.body;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let input = &listed[0]["input"];
    assert_eq!(
        input["customAttributes"][1],
        json!({"key": "bib_name", "value": "ANN"})
    );
    assert_eq!(input["lineItems"][0]["taxLines"][0]["title"], "Sales tax");
    assert_eq!(input["transactions"][0]["gateway"], "stripe");
    assert_eq!(listed[0]["options"], json!({"sendReceipt": true}));
    // The listed input is what the client sent: schema defaults are not filled in.
    assert!(input.get("taxesIncluded").is_none(), "{input}");
    assert_eq!(listed[0]["totals"]["total"]["shopMoney"]["amount"], "55.0");
}

#[tokio::test]
async fn order_names_increment() {
    let sandbox = start().await;

    for (index, expected) in ["#1001", "#1002", "#1003"].into_iter().enumerate() {
        let payload = sandbox
            .create_order(order_input(&format!("reg-{index}"), "ann@example.com"))
            .await;
        assert_eq!(payload["order"]["name"], expected);
        assert_eq!(
            payload["order"]["id"],
            format!("gid://shopify/Order/{}", index + 1)
        );
    }
}

#[tokio::test]
async fn upsert_links_email_ignoring_case() {
    let sandbox = start().await;

    let first = sandbox
        .create_order(order_input("reg-1", "Ann.Lee@Example.com"))
        .await;
    let mut second_input = order_input("reg-2", "ann.lee@example.com");
    second_input["customer"]["toUpsert"]["firstName"] = "Annie".into();
    let second = sandbox.create_order(second_input).await;

    assert_eq!(user_errors(&second), vec![]);
    assert_eq!(
        first["order"]["customer"]["id"],
        second["order"]["customer"]["id"]
    );
    let customers = sandbox.get("/_sandbox/customers").await.body;
    assert_eq!(customers.as_array().unwrap().len(), 1, "{customers}");
    assert_eq!(customers[0]["email"], "Ann.Lee@Example.com");
    assert_eq!(customers[0]["firstName"], "Annie");
    assert_eq!(customers[0]["orderIds"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn different_emails_make_different_customers() {
    let sandbox = start().await;

    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let mut other = order_input("reg-2", "bob@example.com");
    other["customer"]["toUpsert"]["phone"] = "+14155552672".into();
    let payload = sandbox.create_order(other).await;

    assert_eq!(user_errors(&payload), vec![]);
    let customers = sandbox.get("/_sandbox/customers").await.body;
    assert_eq!(customers.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn phone_of_another_customer_is_rejected() {
    let sandbox = start().await;

    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let payload = sandbox
        .create_order(order_input("reg-2", "bob@example.com"))
        .await;

    assert_eq!(
        user_errors(&payload),
        vec![(
            "order.customer.toUpsert.phone".to_owned(),
            "Phone has already been taken".to_owned()
        )]
    );
    assert!(payload["order"].is_null());
}

#[tokio::test]
async fn source_identifier_query_finds_order() {
    let sandbox = start().await;
    for source_identifier in ["reg-1", "reg-2", "reg-3"] {
        sandbox
            .create_order(order_input(source_identifier, "ann@example.com"))
            .await;
    }
    let query = r#"
        query FindOrder($query: String!) {
          orders(first: 5, query: $query) {
            nodes { id name sourceIdentifier }
            edges { cursor node { name } }
            pageInfo { hasNextPage }
          }
        }"#;

    let reply = sandbox
        .graphql(query, json!({"query": "source_identifier:reg-2"}))
        .await;

    let orders = &reply.body["data"]["orders"];
    assert_eq!(
        orders["nodes"],
        json!([{"id": "gid://shopify/Order/2", "name": "#1002", "sourceIdentifier": "reg-2"}])
    );
    assert_eq!(orders["edges"][0]["node"]["name"], "#1002");
    assert!(orders["edges"][0]["cursor"].is_string());
    assert_eq!(orders["pageInfo"]["hasNextPage"], false);
    assert!(reply.body["extensions"].get("search").is_none());
}

#[tokio::test]
async fn duplicate_source_identifiers_are_allowed() {
    let sandbox = start().await;

    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let again = sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let reply = sandbox
        .graphql(
            r#"{ orders(first: 10, query: "source_identifier:reg-1") { nodes { name } } }"#,
            json!({}),
        )
        .await;

    assert_eq!(user_errors(&again), vec![]);
    assert_eq!(
        reply.body["data"]["orders"]["nodes"],
        json!([{"name": "#1001"}, {"name": "#1002"}])
    );
}

#[tokio::test]
async fn unknown_search_field_warns() {
    let sandbox = start().await;
    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;

    let reply = sandbox
        .graphql(
            r#"{ orders(first: 10, query: "sourceIdentifier:nothing") { nodes { name } } }"#,
            json!({}),
        )
        .await;

    assert_eq!(
        reply.body["data"]["orders"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let warning = &reply.body["extensions"]["search"][0];
    assert_eq!(warning["path"], json!(["orders"]));
    assert_eq!(warning["warnings"][0]["field"], "sourceIdentifier");
}

#[tokio::test]
async fn orders_pagination_needs_first_or_last() {
    let sandbox = start().await;
    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;

    let reply = sandbox
        .graphql("{ orders { nodes { name } } }", json!({}))
        .await;

    assert!(reply.body["data"].is_null(), "{}", reply.body);
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("first and last"), "{message}");
}

#[tokio::test]
async fn order_and_node_queries_resolve() {
    let sandbox = start().await;
    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;
    let query = r#"{
      order(id: "gid://shopify/Order/1") { name customer { displayName defaultEmailAddress { emailAddress } } }
      node(id: "gid://shopify/Customer/1") { __typename ... on Customer { numberOfOrders } }
      missing: order(id: "gid://shopify/Order/99") { name }
    }"#;

    let reply = sandbox.graphql(query, json!({})).await;

    let data = &reply.body["data"];
    assert_eq!(data["order"]["name"], "#1001");
    assert_eq!(data["order"]["customer"]["displayName"], "Ann Lee");
    assert_eq!(
        data["order"]["customer"]["defaultEmailAddress"]["emailAddress"],
        "ann@example.com"
    );
    assert_eq!(
        data["node"],
        json!({"__typename": "Customer", "numberOfOrders": "1"})
    );
    assert!(data["missing"].is_null());
}

#[tokio::test]
async fn shop_query_answers_health_check() {
    let sandbox = start().await;

    let reply = sandbox
        .graphql("query Health { shop { name currencyCode } }", json!({}))
        .await;

    assert_eq!(
        reply.body["data"]["shop"],
        json!({"name": "Sandbox Shop", "currencyCode": "USD"})
    );
}

#[tokio::test]
async fn unimplemented_field_names_itself() {
    let sandbox = start().await;

    let reply = sandbox
        .graphql("{ shop { plan { partnerDevelopment } } }", json!({}))
        .await;

    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Shop.plan"), "{message}");
}

#[tokio::test]
async fn tax_lines_on_both_levels_rejected() {
    let sandbox = start().await;
    let mut input = order_input("reg-1", "ann@example.com");
    input["taxLines"] = json!([{"title": "Sales tax", "rate": "0.1"}]);

    let payload = sandbox.create_order(input).await;

    assert!(payload["order"].is_null());
    let errors = user_errors(&payload);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "order.lineItems.0.taxLines");
    assert!(sandbox
        .get("/_sandbox/orders")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn order_level_tax_lines_are_computed_from_rate() {
    let sandbox = start().await;
    let mut input = order_input("reg-1", "ann@example.com");
    input["lineItems"][0]["taxLines"] = json!([]);
    input["taxLines"] = json!([{"title": "Sales tax", "rate": "0.1"}]);

    let payload = sandbox.create_order(input).await;

    assert_eq!(user_errors(&payload), vec![]);
    assert_eq!(
        payload["order"]["taxLines"][0]["priceSet"]["shopMoney"]["amount"],
        "5.0"
    );
    assert_eq!(
        payload["order"]["totalPriceSet"]["shopMoney"]["amount"],
        "55.0"
    );
}

#[tokio::test]
async fn transaction_not_matching_total_is_rejected() {
    let sandbox = start().await;
    let mut input = order_input("reg-1", "ann@example.com");
    input["transactions"][0]["amountSet"]["shopMoney"]["amount"] = "50.00".into();

    let payload = sandbox.create_order(input).await;

    let errors = user_errors(&payload);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "order.transactions");
    assert!(errors[0].1.contains("55.0"), "{}", errors[0].1);
}

#[tokio::test]
async fn partial_payment_is_accepted_when_configured() {
    let sandbox = crate::common::start_with(|config| {
        config.require_transactions_match_total = false;
    })
    .await;
    let mut input = order_input("reg-1", "ann@example.com");
    input["transactions"][0]["amountSet"]["shopMoney"]["amount"] = "50.00".into();
    input.as_object_mut().unwrap().remove("financialStatus");

    let payload = sandbox.create_order(input).await;

    assert_eq!(user_errors(&payload), vec![]);
    assert_eq!(payload["order"]["displayFinancialStatus"], "PARTIALLY_PAID");
}

#[tokio::test]
async fn non_e164_phone_is_rejected() {
    let sandbox = start().await;
    for phone in ["415-555-2671", "+1 415 555 2671", "+1415555"] {
        let mut input = order_input("reg-1", "ann@example.com");
        input["customer"]["toUpsert"]["phone"] = phone.into();

        let payload = sandbox.create_order(input).await;

        assert_eq!(
            payload["userErrors"],
            json!([{
                "field": ["order", "customer", "toUpsert", "phone"],
                "message": "Phone is invalid",
                "code": "INVALID"
            }]),
            "phone {phone}"
        );
        assert!(payload["order"].is_null());
    }
    assert!(sandbox
        .get("/_sandbox/customers")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn currency_mismatch_is_rejected() {
    let sandbox = start().await;
    let mut input = order_input("reg-1", "ann@example.com");
    input["lineItems"][0]["priceSet"]["shopMoney"]["currencyCode"] = "EUR".into();

    let payload = sandbox.create_order(input).await;

    let errors = user_errors(&payload);
    assert_eq!(errors[0].0, "order.lineItems.0.priceSet");
}

#[tokio::test]
async fn yen_amounts_round_to_whole_units() {
    let sandbox = start().await;
    let input = json!({
        "currency": "JPY",
        "sourceIdentifier": "reg-jp",
        "lineItems": [{
            "title": "Entry",
            "quantity": 3,
            "priceSet": {"shopMoney": {"amount": "3333", "currencyCode": "JPY"}}
        }],
        "taxLines": [{"title": "Consumption tax", "rate": "0.1"}]
    });

    let payload = sandbox.create_order(input).await;

    assert_eq!(user_errors(&payload), vec![]);
    assert_eq!(
        payload["order"]["totalPriceSet"]["shopMoney"],
        json!({"amount": "10999.0", "currencyCode": "JPY"})
    );
    assert_eq!(payload["order"]["displayFinancialStatus"], "PENDING");
    assert!(payload["order"]["customer"].is_null());
}

#[tokio::test]
async fn two_mutations_in_one_request_run_in_order() {
    let sandbox = start().await;
    let query = r#"
        mutation Two($a: OrderCreateOrderInput!, $b: OrderCreateOrderInput!) {
          first: orderCreate(order: $a) { order { name } userErrors { message } }
          second: orderCreate(order: $b) { order { name } userErrors { message } }
        }"#;
    let mut b = order_input("reg-2", "ann@example.com");
    b["customer"]["toUpsert"]["firstName"] = "Annie".into();

    let reply = sandbox
        .graphql(
            query,
            json!({"a": order_input("reg-1", "ann@example.com"), "b": b}),
        )
        .await;

    assert_eq!(reply.body["data"]["first"]["order"]["name"], "#1001");
    assert_eq!(reply.body["data"]["second"]["order"]["name"], "#1002");
    assert_eq!(reply.body["extensions"]["cost"]["requestedQueryCost"], 20);
}

#[tokio::test]
async fn reset_forgets_everything() {
    let sandbox = start().await;
    sandbox
        .create_order(order_input("reg-1", "ann@example.com"))
        .await;

    let reply = sandbox.post_json("/_sandbox/reset", json!({})).await;

    assert_eq!(reply.status, 204);
    assert!(sandbox
        .get("/_sandbox/orders")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert!(sandbox
        .get("/_sandbox/customers")
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(sandbox.get("/_sandbox/calls").await.body["total"], 0);
    let payload = sandbox
        .create_order(order_input("reg-2", "ann@example.com"))
        .await;
    assert_eq!(payload["order"]["name"], "#1001");
}
