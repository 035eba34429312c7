//! Criterion benchmarks of the CPU work that the functions do for one request or one
//! webhook event, with every network and storage call left out.
//!
//! Run with `cargo bench -p shared --bench per_event`. Criterion writes each result to
//! `target/criterion/per_event/<id>/new/estimates.json`. Before timing, each benchmark
//! checks its result once and panics when the result is wrong, so a broken setup cannot
//! report a number.
//!
//! The inputs are the README's sample registration: both days of `harbor-classic-2027` for
//! one participant with the code `EARLY10`, priced from the bundled catalog. The webhook
//! body is a `payment_intent.succeeded` event of about 5 KB, with the metadata that
//! create-payment-intent writes. It is signed with a fake secret that no Stripe account has.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};
use shared::catalog::Catalog;
use shared::discount::find_applicable;
use shared::form::{validate, FormLimits, Registration, RegistrationRequest};
use shared::handlers::create_intent::payment_metadata;
use shared::handlers::webhook::paid_intent;
use shared::orders::{PaidIntent, PaymentFacts};
use shared::pricing::{quote, Basket, Quote};
use shared::shopify::order_input::{order_variables, MappingOptions};
use shared::store::{Payment, StoredRegistration};
use shared::stripe::event::{parse_event, EventKind, WebhookEvent};
use shared::stripe::signature::{
    sign, verify, SignatureError, WebhookSecret, DEFAULT_TOLERANCE_SECONDS,
};
use time::OffsetDateTime;

const EVENT_ID: &str = "harbor-classic-2027";
const DAYS: [&str; 2] = ["2027-06-12", "2027-06-13"];
const PARTICIPANTS: u32 = 1;
/// The code as the buyer typed it. The catalog matches codes case-insensitively.
const TYPED_CODE: &str = "early10";
/// Total in cents that the README's validate-discount example returns for this basket:
/// 249.00 full-event price, minus 24.90 discount, plus 22.41 tax.
const EXPECTED_TOTAL: i64 = 24_651;

const REGISTRATION_ID: &str = "7d2c8f4e-3b1a-4c5d-9e6f-0a1b2c3d4e5f";
const EMAIL: &str = "avery@example.org";
const PAYMENT_INTENT_ID: &str = "pi_3QbenchHarborClassic0001";
const CHARGE_ID: &str = "ch_3QbenchHarborClassic0001";

/// A fake signing secret in Stripe's `whsec_` format. No Stripe endpoint uses it.
const WEBHOOK_SECRET: &str = "whsec_bench_fake_only";
/// The signature's timestamp, 2026-12-04T15:00:00Z in Unix seconds. It is before `EARLY10`
/// ends on 2027-05-01, so the code still applies at this time.
const SIGNED_AT: i64 = 1_796_396_400;
/// The verifying function's clock, 30 s after signing and so within the 300 s tolerance.
const VERIFIED_AT: i64 = SIGNED_AT + 30;

/// Accepted size range of the webhook body in bytes, so that the benchmark stays a
/// benchmark of a 5 KB event when the fixture changes.
const BODY_BYTES: std::ops::RangeInclusive<usize> = 4_500..=5_500;

/// Everything the benchmarks read, built once before any timing.
struct Fixture {
    catalog: Catalog,
    days: Vec<String>,
    now: OffsetDateTime,
    record: StoredRegistration,
    event_name: String,
    body: Vec<u8>,
    header: String,
    secrets: Vec<WebhookSecret>,
}

impl Fixture {
    fn new() -> Self {
        let catalog = Catalog::bundled().expect("the bundled catalog must load");
        let days: Vec<String> = DAYS.iter().map(|day| (*day).to_owned()).collect();
        let now = OffsetDateTime::from_unix_timestamp(SIGNED_AT).expect("SIGNED_AT is valid");
        let event_name = catalog
            .event(EVENT_ID)
            .expect("the bundled catalog must contain the sample event")
            .name
            .clone();

        let registration = sample_registration(&catalog);
        let quote = price_basket(&catalog, &days, now);
        let body = payment_succeeded_body(&registration, &quote, &event_name);
        let secret = WebhookSecret::new(WEBHOOK_SECRET).expect("the secret is not empty");
        let header = sign(SIGNED_AT, &body, &secret);
        let record = StoredRegistration {
            registration,
            fingerprint: quote.fingerprint(),
            quote,
            payment: Payment::Stripe,
            payment_intent_id: Some(PAYMENT_INTENT_ID.to_owned()),
            created_at: SIGNED_AT - 95,
        };

        Self {
            catalog,
            days,
            now,
            record,
            event_name,
            body,
            header,
            secrets: vec![secret],
        }
    }
}

/// Validates the registration form with the same call as create-payment-intent, so the
/// e-mail, phone number and extra fields are normalised as in a stored registration.
fn sample_registration(catalog: &Catalog) -> Registration {
    let fields = json!({
        "club": "Harbor Rowing Club",
        "t_shirt_size": "M",
        "dietary_needs": ["vegetarian", "no nuts"],
        "boat_class": "Masters single scull (1x)",
        "age_group": "40-49",
        "date_of_birth": "1983-09-21",
        "emergency_contact_name": "Jordan Example",
        "emergency_contact_phone": "(202) 555-0178",
        "emergency_contact_relation": "Partner",
        "rowing_license_number": "USR-204881-M",
        "first_regatta": false,
        "previous_best_time": "7:58.4",
        "waiver_accepted": true,
        "photo_consent": true,
        "heard_about_us": "Club newsletter",
        "coach_name": "Morgan Example",
        "coach_email": "coach@harborrowing.example.org",
        "boat_name": "Second Wind",
        "boat_owner": "club",
        "oar_blade_colors": "navy with white tips",
        "accommodation": "Harborview Inn, 2 nights",
        "parking_permit": "trailer",
        "volunteer_shifts": ["Sunday launch duty", "Sunday awards setup"],
        "club_member_number": "HRC-0417",
        "emergency_contact_email": "jordan.example@example.net",
        "gender_category": "Open",
        "preferred_heat_time": "morning",
        "transport": "own car with trailer",
        "guests_at_dinner": 2,
        "special_requests": "Please seat our club together at the Saturday dinner if possible. \
                             One guest uses a wheelchair and needs step-free access to the \
                             dining hall and the viewing stand.",
        "medical_notes": "Mild asthma, carries an inhaler. No other conditions to report.",
        "arrival_notes": "Arriving Friday evening with the club trailer; will need a boat \
                          rack near the north dock for two nights. Happy to help with \
                          launch duty on Sunday morning if volunteers are short.",
    });
    let Value::Object(fields) = fields else {
        unreachable!("the json! literal above is an object");
    };
    let request = RegistrationRequest {
        registration_id: Some(REGISTRATION_ID.to_owned()),
        event_id: Some(EVENT_ID.to_owned()),
        days: Some(DAYS.iter().map(|day| (*day).to_owned()).collect()),
        quantity: Some(PARTICIPANTS),
        first_name: Some("Avery".to_owned()),
        last_name: Some("Example".to_owned()),
        email: Some(" Avery@Example.org ".to_owned()),
        phone: Some("(202) 555-0143".to_owned()),
        discount_code: Some(TYPED_CODE.to_owned()),
        fields,
    };
    validate(
        request,
        catalog,
        &FormLimits::default(),
        phonenumber::country::Id::US,
    )
    .unwrap_or_else(|error| panic!("the sample registration form is invalid: {error}"))
}

/// Prices the sample basket with the same calls as the validate-discount handler.
fn price_basket(catalog: &Catalog, days: &[String], now: OffsetDateTime) -> Quote {
    let basket = Basket::new(catalog, EVENT_ID, days, PARTICIPANTS)
        .unwrap_or_else(|error| panic!("the sample basket is invalid: {error}"));
    let code = find_applicable(catalog, TYPED_CODE, basket.event, now)
        .unwrap_or_else(|reason| panic!("{TYPED_CODE} does not apply to the sample: {reason}"));
    quote(&basket, Some(code)).expect("the sample basket's price fits in i64")
}

/// Builds the pretty-printed body of a test-mode `payment_intent.succeeded` event for the
/// sample, in the layout Stripe sends. The metadata is what create-payment-intent
/// attaches to the PaymentIntent.
fn payment_succeeded_body(registration: &Registration, quote: &Quote, event_name: &str) -> Vec<u8> {
    let metadata: Map<String, Value> = payment_metadata(registration, quote)
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();

    let payment_intent = json!({
        "id": PAYMENT_INTENT_ID,
        "object": "payment_intent",
        "amount": quote.total,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": quote.total,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": true},
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic_async",
        "client_secret": format!("{PAYMENT_INTENT_ID}_secret_benchFakeClientSecret0001"),
        "confirmation_method": "automatic",
        "created": SIGNED_AT - 95,
        "currency": quote.currency.code().to_ascii_lowercase(),
        "customer": null,
        "description": format!("{event_name}: {} (1 participant)", registration.days.join(", ")),
        "excluded_payment_method_types": null,
        "last_payment_error": null,
        "latest_charge": CHARGE_ID,
        "livemode": false,
        "metadata": metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": "pm_1QbenchHarborClassic0001",
        "payment_method_configuration_details": {
            "id": "pmc_1QbenchHarborClassic0001",
            "parent": null
        },
        "payment_method_options": {
            "card": {
                "installments": null,
                "mandate_options": null,
                "network": null,
                "request_three_d_secure": "automatic"
            },
            "link": {"persistent_token": null},
            "cashapp": {},
            "amazon_pay": {"express_checkout_element_session_id": null},
            "us_bank_account": {
                "financial_connections": {
                    "permissions": ["payment_method"],
                    "prefetch": []
                },
                "mandate_options": {},
                "verification_method": "automatic"
            }
        },
        "payment_method_types": ["card", "link", "cashapp", "amazon_pay", "us_bank_account"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": null,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "succeeded",
        "transfer_data": null,
        "transfer_group": null
    });
    let event = json!({
        "id": "evt_3QbenchHarborClassic0001",
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": SIGNED_AT - 1,
        "data": {"object": payment_intent},
        "livemode": false,
        "pending_webhooks": 1,
        "request": {
            "id": null,
            "idempotency_key": "0b4f7a52-6c1e-4d8a-9f3b-2e5d7c9a1b60"
        },
        "type": "payment_intent.succeeded"
    });
    serde_json::to_vec_pretty(&event).expect("a JSON value always serialises")
}

/// Returns the payment facts that the webhook builds from the sample event.
fn sample_payment() -> PaymentFacts {
    PaymentFacts {
        payment_intent_id: PAYMENT_INTENT_ID.to_owned(),
        amount_received: EXPECTED_TOTAL,
        currency: "usd".to_owned(),
        livemode: false,
        latest_charge: Some(CHARGE_ID.to_owned()),
        free: false,
        paid_at: SIGNED_AT - 1,
    }
}

/// Builds the paid PaymentIntent from a parsed event with the webhook handler's function.
fn paid_intent_of(event: WebhookEvent) -> PaidIntent {
    paid_intent(event).expect("a payment_intent.* event carries a PaymentIntent")
}

/// Parses the event and builds its orderCreate variables, with the same steps as the
/// webhook handler and the order path once the stored registration is loaded.
fn order_variables_for_event(fixture: &Fixture, body: &[u8]) -> Value {
    let event = parse_event(body).unwrap_or_else(|error| panic!("parse_event failed: {error}"));
    let paid = paid_intent_of(event);

    let record = &fixture.record;
    let facts = &paid.facts;
    assert!(
        facts.amount_received == record.quote.total
            && facts
                .currency
                .eq_ignore_ascii_case(record.quote.currency.code()),
        "the event's amount or currency does not match the stored quote"
    );
    let event_name = fixture
        .catalog
        .event(&record.registration.event_id)
        .map_or(record.registration.event_id.clone(), |event| {
            event.name.clone()
        });
    order_variables(record, facts, &event_name, &MappingOptions::default())
}

/// Runs the webhook's per-event CPU work: signature verification, event parsing and the
/// orderCreate mapping.
fn webhook_event_cpu(fixture: &Fixture, header: &str, body: &[u8], now: i64) -> Value {
    verify(
        Some(header),
        body,
        &fixture.secrets,
        now,
        DEFAULT_TOLERANCE_SECONDS,
    )
    .unwrap_or_else(|error| panic!("verify rejected the signed event: {error}"));
    order_variables_for_event(fixture, body)
}

/// Panics unless `variables` is the orderCreate input of the sample registration.
fn check_order_variables(variables: &Value, context: &str) {
    let order = &variables["order"];
    assert_eq!(
        order["email"], EMAIL,
        "{context}: order.email is not the registration's e-mail"
    );
    assert_eq!(
        order["customer"]["toUpsert"]["email"], EMAIL,
        "{context}: the customer is not upserted by the registration's e-mail"
    );
    assert_eq!(
        order["transactions"][0]["amountSet"]["shopMoney"]["amount"], "246.51",
        "{context}: the Stripe transaction amount is not the quote total"
    );
    assert_eq!(
        order["sourceIdentifier"], PAYMENT_INTENT_ID,
        "{context}: sourceIdentifier is not the PaymentIntent id"
    );
    let attributes = order["customAttributes"]
        .as_array()
        .unwrap_or_else(|| panic!("{context}: customAttributes is not an array"));
    let has_club = attributes
        .iter()
        .any(|attribute| attribute["key"] == "club" && attribute["value"] == "Harbor Rowing Club");
    assert!(
        has_club,
        "{context}: the club form field is not an attribute"
    );
}

/// Runs each benchmarked step once and panics when its input or result is not the sample's.
fn check_fixture(fixture: &Fixture) {
    assert!(
        BODY_BYTES.contains(&fixture.body.len()),
        "the webhook body has {} bytes, outside the intended {BODY_BYTES:?}",
        fixture.body.len()
    );

    let verified = verify(
        Some(&fixture.header),
        &fixture.body,
        &fixture.secrets,
        VERIFIED_AT,
        DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(verified, Ok(()), "verify rejected the signed event");
    let other_secret = WebhookSecret::new("whsec_bench_other_fake").expect("not empty");
    let with_other_secret = verify(
        Some(&fixture.header),
        &fixture.body,
        &[other_secret],
        VERIFIED_AT,
        DEFAULT_TOLERANCE_SECONDS,
    );
    assert_eq!(
        with_other_secret,
        Err(SignatureError::NoMatchingSignature),
        "verify accepted a signature made with another secret"
    );

    let quote = price_basket(&fixture.catalog, &fixture.days, fixture.now);
    assert_eq!(
        quote.total, EXPECTED_TOTAL,
        "the sample quote total differs from the README's"
    );
    assert_eq!(
        fixture.record.quote, quote,
        "the stored quote differs from a fresh one"
    );

    let event = parse_event(&fixture.body).expect("the sample event parses");
    assert_eq!(event.kind, EventKind::PaymentIntentSucceeded);
    let paid = paid_intent_of(event);
    assert_eq!(
        paid.facts,
        sample_payment(),
        "the payment facts of order_create_variables differ from the event's"
    );
    let metadata = &paid.metadata;
    assert_eq!(
        metadata.get("email").map(String::as_str),
        Some(EMAIL),
        "the event metadata has no normalised e-mail"
    );
    assert_eq!(
        metadata.get("fields_truncated"),
        None,
        "the metadata left out or cut a form field"
    );

    let variables = order_variables(
        &fixture.record,
        &sample_payment(),
        &fixture.event_name,
        &MappingOptions::default(),
    );
    check_order_variables(&variables, "order_variables");

    let variables = webhook_event_cpu(fixture, &fixture.header, &fixture.body, VERIFIED_AT);
    check_order_variables(&variables, "webhook_event_cpu");
}

fn per_event(criterion: &mut Criterion) {
    let fixture = Fixture::new();
    check_fixture(&fixture);
    let mut group = criterion.benchmark_group("per_event");

    group.bench_function("verify_signature_5kb", |bencher| {
        bencher.iter(|| {
            verify(
                Some(black_box(fixture.header.as_str())),
                black_box(fixture.body.as_slice()),
                black_box(fixture.secrets.as_slice()),
                black_box(VERIFIED_AT),
                DEFAULT_TOLERANCE_SECONDS,
            )
        });
    });

    group.bench_function("price_quote", |bencher| {
        bencher.iter(|| {
            price_basket(
                black_box(&fixture.catalog),
                black_box(fixture.days.as_slice()),
                black_box(fixture.now),
            )
        });
    });

    let facts = sample_payment();
    let options = MappingOptions::default();
    group.bench_function("order_create_variables", |bencher| {
        bencher.iter(|| {
            order_variables(
                black_box(&fixture.record),
                black_box(&facts),
                black_box(fixture.event_name.as_str()),
                black_box(&options),
            )
        });
    });

    group.bench_function("webhook_event_cpu", |bencher| {
        bencher.iter(|| {
            webhook_event_cpu(
                &fixture,
                black_box(fixture.header.as_str()),
                black_box(fixture.body.as_slice()),
                black_box(VERIFIED_AT),
            )
        });
    });

    group.finish();
}

criterion_group!(benches, per_event);
criterion_main!(benches);
