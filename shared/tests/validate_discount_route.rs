//! `POST /api/validate-discount` driven by the events in `events/`.

mod common;

use common::{event_with_body, header, json_of, load_event};
use serde_json::json;
use shared::api::{serve, Cors, Route};
use shared::catalog::Catalog;
use shared::clock::FixedClock;
use shared::handlers::validate_discount::{handle, ValidateDiscountDeps};
use shared::metrics::{Counter, MemoryMetrics};
use std::sync::Arc;
use time::macros::datetime;

const ORIGIN: &str = "https://events.example.org";

fn deps() -> ValidateDiscountDeps {
    ValidateDiscountDeps {
        catalog: Arc::new(Catalog::bundled().unwrap()),
        clock: Arc::new(FixedClock(datetime!(2026-12-04 12:00 UTC))),
        metrics: Arc::new(MemoryMetrics::default()),
    }
}

async fn call(request: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    let deps = deps();
    let cors = Cors::from_list(ORIGIN);
    serve(request, Route::ValidateDiscount, &cors, |request| {
        handle(&deps, request)
    })
    .await
}

#[tokio::test]
async fn valid_code_returns_discounted_quote() {
    let response = call(load_event("validate-discount.json")).await;
    assert_eq!(response.status(), 200);
    let body = json_of(&response);
    assert_eq!(body["valid"], true);
    assert_eq!(body["code"], "EARLY10");
    assert_eq!(body["quote"]["subtotal"], 24900);
    assert_eq!(body["quote"]["discount"], 2490);
    assert_eq!(body["quote"]["tax"], 2241);
    assert_eq!(body["quote"]["total"], 24651);
    assert_eq!(body["quote"]["display"]["total"], "246.51");
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
}

#[tokio::test]
async fn unknown_code_returns_undiscounted_quote() {
    let response = call(load_event("validate-discount-unknown-code.json")).await;
    assert_eq!(response.status(), 200);
    let body = json_of(&response);
    assert_eq!(body["valid"], false);
    assert_eq!(body["reason"], "unknown");
    assert_eq!(body["quote"]["total"], 27390);
    assert_eq!(body["quote"]["tax"], 2490);
}

#[tokio::test]
async fn every_rejection_reason_is_a_200() {
    let cases = [
        ("SPRING2026", "expired"),
        ("STAFF50", "inactive"),
        ("nosuch", "unknown"),
    ];
    for (code, reason) in cases {
        let body = json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12"], "quantity": 1, "code": code});
        let response = call(event_with_body("validate-discount.json", &body)).await;
        assert_eq!(response.status(), 200, "code {code}");
        assert_eq!(json_of(&response)["reason"], reason, "code {code}");
    }

    let body = json!({"event_id": "youth-clinic-2027", "days": ["2027-05-08"], "quantity": 1, "code": "EARLY10"});
    let response = call(event_with_body("validate-discount.json", &body)).await;
    assert_eq!(json_of(&response)["reason"], "not_applicable");
}

#[tokio::test]
async fn code_not_yet_valid() {
    let deps = ValidateDiscountDeps {
        catalog: Arc::new(
            Catalog::from_toml(&shared::catalog::BUNDLED_CATALOG.replace(
                "ends_at = \"2027-05-01T00:00:00Z\"",
                "starts_at = \"2027-01-01T00:00:00Z\"",
            ))
            .unwrap(),
        ),
        clock: Arc::new(FixedClock(datetime!(2026-12-04 12:00 UTC))),
        metrics: Arc::new(MemoryMetrics::default()),
    };
    let response = serve(
        load_event("validate-discount.json"),
        Route::ValidateDiscount,
        &Cors::default(),
        |request| handle(&deps, request),
    )
    .await;
    assert_eq!(json_of(&response)["reason"], "not_yet_valid");
}

#[tokio::test]
async fn body_decodes_whatever_the_content_type() {
    for name in [
        "validate-discount-text-plain.json",
        "validate-discount-no-content-type.json",
        "validate-discount-base64.json",
    ] {
        let response = call(load_event(name)).await;
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(json_of(&response)["valid"], true, "{name}");
    }
}

#[tokio::test]
async fn empty_body_names_the_missing_body() {
    let response = call(load_event("validate-discount-empty-body.json")).await;
    assert_eq!(response.status(), 400);
    let body = json_of(&response);
    assert_eq!(body["error"]["code"], "missing_body");
    assert_eq!(body["request_id"], "fixture-validate-discount-empty-body");
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ORIGIN)
    );
}

#[tokio::test]
async fn bad_basket_names_the_field() {
    let cases = [
        (json!({"days": ["2027-06-12"], "code": "X"}), "event_id"),
        (
            json!({"event_id": "nope", "days": ["2027-06-12"], "code": "X"}),
            "event_id",
        ),
        (
            json!({"event_id": "harbor-classic-2027", "days": ["2027-06-14"], "code": "X"}),
            "days[0]",
        ),
        (
            json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12"], "quantity": 0, "code": "X"}),
            "quantity",
        ),
        (
            json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12"], "code": "  "}),
            "code",
        ),
        (
            json!({"event_id": "harbor-classic-2027", "days": ["2027-06-12"], "quantity": "two", "code": "X"}),
            "quantity",
        ),
    ];
    for (body, field) in cases {
        let response = call(event_with_body("validate-discount.json", &body)).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(json_of(&response)["error"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn wrong_method_is_405() {
    let mut request = load_event("validate-discount.json");
    *request.method_mut() = http::Method::GET;
    let response = call(request).await;
    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), Some("POST"));
}

#[tokio::test]
async fn validations_are_counted() {
    let metrics = Arc::new(MemoryMetrics::default());
    let deps = ValidateDiscountDeps {
        metrics: metrics.clone(),
        ..deps()
    };
    for name in [
        "validate-discount.json",
        "validate-discount-unknown-code.json",
        "validate-discount.json",
    ] {
        serve(
            load_event(name),
            Route::ValidateDiscount,
            &Cors::default(),
            |request| handle(&deps, request),
        )
        .await;
    }
    assert_eq!(metrics.total(Counter::DiscountValid), 2);
    assert_eq!(metrics.total(Counter::DiscountInvalid), 1);
}
