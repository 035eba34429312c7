//! Tests of `StripeClient` against localstripe with the project's shim.

use integration_tests::{
    confirm_with_test_card, localstripe_url, stripe_get, FAKE_STRIPE_SECRET_KEY,
};
use shared::form::ExtraField;
use shared::stripe::{
    build_metadata, idempotency_key, CreatePaymentIntent, PaymentGateway, RequiredMetadata,
    StripeClient, StripeConfig, StripeError, StripeSecretKey,
};
use uuid::Uuid;

fn client() -> StripeClient {
    let config = StripeConfig {
        base_url: localstripe_url(),
        ..StripeConfig::default()
    };
    StripeClient::new(StripeSecretKey::new(FAKE_STRIPE_SECRET_KEY), config)
        .expect("the localstripe URL is a loopback http URL")
}

fn create_request(registration_id: Uuid) -> CreatePaymentIntent {
    let days = vec!["2027-06-12".to_owned(), "2027-06-13".to_owned()];
    let required = RequiredMetadata {
        registration_id,
        event_id: "harbor-classic-2027",
        days: &days,
        participants: 2,
        currency: "eur",
        subtotal: 12_000,
        discount_code: Some("EARLY10"),
        discount_amount: 1_200,
        tax: 891,
        tax_rate: "0.0825",
        total: 11_691,
        first_name: "Ada",
        last_name: "Lovelace",
        email: "ada@example.com",
        phone: "+12025550143",
    };
    let fields = [ExtraField {
        name: "shirt[size]".to_owned(),
        value: "M".to_owned(),
    }];
    CreatePaymentIntent {
        amount: 11_691,
        currency: "eur".to_owned(),
        description: "Harbor Classic 2027: 2027-06-12, 2027-06-13".to_owned(),
        metadata: build_metadata(&required, &fields),
        idempotency_key: idempotency_key(registration_id, "0123456789abcdef"),
        receipt_email: Some("ada@example.com".to_owned()),
        statement_descriptor_suffix: Some("HARBOR 27".to_owned()),
    }
}

#[tokio::test]
async fn create_retrieve_and_cancel() {
    let client = client();
    let registration_id = Uuid::new_v4();

    let created = client
        .create_payment_intent(&create_request(registration_id))
        .await
        .unwrap();

    assert!(created.id.starts_with("pi_"), "{created:?}");
    assert!(!created.client_secret.is_empty(), "{created:?}");
    assert_eq!(created.amount, 11_691);
    assert_eq!(created.currency, "eur");
    assert_eq!(created.status, "requires_payment_method");

    let retrieved = client.retrieve_payment_intent(&created.id).await.unwrap();
    assert_eq!(retrieved, created);

    // `PaymentIntent` keeps only the fields the pipeline uses, so the stored metadata and
    // description are read through the raw API.
    let raw = stripe_get(&format!("/v1/payment_intents/{}", created.id)).await;
    assert_eq!(
        raw["metadata"]["registration_id"],
        registration_id.to_string()
    );
    assert_eq!(raw["metadata"]["total"], "11691");
    assert_eq!(raw["metadata"]["f_shirt_size_"], "M");
    assert_eq!(
        raw["description"],
        "Harbor Classic 2027: 2027-06-12, 2027-06-13"
    );
    assert_eq!(raw["receipt_email"], "ada@example.com");
    assert_eq!(raw["statement_descriptor_suffix"], "HARBOR 27");
    assert_eq!(raw["automatic_payment_methods"]["enabled"], true);

    client.cancel_payment_intent(&created.id).await.unwrap();

    let cancelled = client.retrieve_payment_intent(&created.id).await.unwrap();
    assert_eq!(cancelled.status, "canceled");
}

#[tokio::test]
async fn second_cancel_succeeds() {
    let client = client();
    let created = client
        .create_payment_intent(&create_request(Uuid::new_v4()))
        .await
        .unwrap();

    client.cancel_payment_intent(&created.id).await.unwrap();
    client.cancel_payment_intent(&created.id).await.unwrap();

    let cancelled = client.retrieve_payment_intent(&created.id).await.unwrap();
    assert_eq!(cancelled.status, "canceled");
}

#[tokio::test]
async fn cancel_of_succeeded_intent_is_rejected() {
    let client = client();
    let created = client
        .create_payment_intent(&create_request(Uuid::new_v4()))
        .await
        .unwrap();
    let confirmed = confirm_with_test_card(&created.id).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");

    let error = client.cancel_payment_intent(&created.id).await.unwrap_err();

    assert!(
        matches!(error, StripeError::Rejected { status: 400, .. }),
        "{error:?}"
    );
    let intent = client.retrieve_payment_intent(&created.id).await.unwrap();
    assert_eq!(intent.status, "succeeded");
}

#[tokio::test]
async fn missing_intent_is_rejected() {
    let error = client()
        .retrieve_payment_intent("pi_doesnotexist")
        .await
        .unwrap_err();

    assert!(
        matches!(error, StripeError::Rejected { status: 404, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_key_is_rejected() {
    let config = StripeConfig {
        base_url: localstripe_url(),
        ..StripeConfig::default()
    };
    // localstripe accepts any key that starts with `sk_`.
    let client =
        StripeClient::new(StripeSecretKey::new("pk_test_not_a_secret_key"), config).unwrap();

    let error = client
        .retrieve_payment_intent("pi_doesnotexist")
        .await
        .unwrap_err();

    assert!(
        matches!(error, StripeError::Rejected { status: 401, .. }),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("pk_test_not_a_secret_key"));
}
