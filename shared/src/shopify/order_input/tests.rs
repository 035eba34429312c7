use super::*;
use crate::catalog::Catalog;
use crate::discount::find_applicable;
use crate::form::{Email, ExtraField, Phone, Registration};
use crate::pricing::{quote, Basket};
use crate::store::Payment;
use serde_json::json;
use time::macros::datetime;
use uuid::Uuid;

const CATALOG: &str = r#"
version = 1
[[events]]
id = "harbor-classic-2027"
name = "Harbor Classic 2027"
currency = "USD"
full_event_price = "249.00"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-06-12"
label = "Saturday"
price = "149.00"
[[events.days]]
date = "2027-06-13"
label = "Sunday"
price = "149.00"

[[events]]
id = "three-day"
name = "Three Day Open"
currency = "USD"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-07-01"
label = "Day one"
price = "40.00"
[[events.days]]
date = "2027-07-02"
label = "Day two"
price = "45.00"
[[events.days]]
date = "2027-07-03"
label = "Day three"
price = "50.00"

[[events]]
id = "untaxed"
name = "Untaxed Meet"
currency = "USD"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-08-01"
label = "Day"
price = "30.00"

[[discounts]]
code = "TEN"
percent_off = "10"
active = true
[[discounts]]
code = "FREE100"
percent_off = "100"
active = true
"#;

const REGISTRATION_ID: &str = "7d2c5b1e-4f0a-4c3e-9b8d-2a6f1e0c9d47";
const PAYMENT_INTENT_ID: &str = "pi_3QxTest123";
/// 2027-06-01T09:30:00Z in Unix seconds.
const PAID_AT: i64 = 1_811_842_200;

fn catalog() -> Catalog {
    Catalog::from_toml(CATALOG).unwrap()
}

/// Builds a stored registration priced with `pricing::quote`, with no extra form fields.
fn record(
    event_id: &str,
    days: &[&str],
    participants: u32,
    code: Option<&str>,
) -> StoredRegistration {
    let catalog = catalog();
    let days: Vec<String> = days.iter().map(|day| day.to_string()).collect();
    let basket = Basket::new(&catalog, event_id, &days, participants).unwrap();
    let now = datetime!(2027-01-01 00:00 UTC);
    let discount = code.map(|code| find_applicable(&catalog, code, basket.event, now).unwrap());
    let quote = quote(&basket, discount).unwrap();
    let free = quote.total == 0;

    let registration = Registration {
        registration_id: Uuid::parse_str(REGISTRATION_ID).unwrap(),
        event_id: event_id.to_owned(),
        days,
        participants,
        first_name: "Ada".to_owned(),
        last_name: "Lovelace".to_owned(),
        email: Email::parse("ada@example.com").unwrap(),
        phone: Phone::parse("(202) 555-0143", phonenumber::country::Id::US).unwrap(),
        discount_code: code.map(str::to_owned),
        fields: Vec::new(),
    };
    StoredRegistration {
        registration,
        fingerprint: quote.fingerprint(),
        quote,
        payment: if free { Payment::Free } else { Payment::Stripe },
        payment_intent_id: (!free).then(|| PAYMENT_INTENT_ID.to_owned()),
        created_at: PAID_AT - 600,
    }
}

/// Builds the facts of a Stripe test-mode payment of the whole quote, or of a free
/// registration.
fn payment_for(record: &StoredRegistration) -> PaymentFacts {
    let free = record.quote.total == 0;
    PaymentFacts {
        payment_intent_id: if free {
            PaymentFacts::free_source_identifier(&record.registration.registration_id)
        } else {
            PAYMENT_INTENT_ID.to_owned()
        },
        amount_received: record.quote.total,
        currency: "usd".to_owned(),
        livemode: false,
        latest_charge: (!free).then(|| "ch_3QxTest123".to_owned()),
        free,
        paid_at: PAID_AT,
    }
}

fn variables(record: &StoredRegistration, options: &MappingOptions) -> Value {
    let event_name = catalog()
        .event(&record.registration.event_id)
        .unwrap()
        .name
        .clone();
    order_variables(record, &payment_for(record), &event_name, options)
}

/// Builds the business's last verified order: the two-day event booked in full for one
/// participant.
fn full_event() -> StoredRegistration {
    record(
        "harbor-classic-2027",
        &["2027-06-12", "2027-06-13"],
        1,
        None,
    )
}

fn attribute_pairs(order: &Value) -> Vec<(String, String)> {
    order["customAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attribute| {
            (
                attribute["key"].as_str().unwrap().to_owned(),
                attribute["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn attribute<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(candidate, _)| candidate == key)
        .map(|(_, value)| value.as_str())
}

fn money(amount: &str) -> Value {
    json!({ "shopMoney": { "amount": amount, "currencyCode": "USD" } })
}

#[test]
fn last_verified_order_is_reproduced() {
    let variables = variables(&full_event(), &MappingOptions::default());
    let order = &variables["order"];

    let line_items = order["lineItems"].as_array().unwrap();
    assert_eq!(line_items.len(), 1);
    assert_eq!(line_items[0]["title"], "Harbor Classic 2027: full event");
    assert_eq!(line_items[0]["quantity"], 1);
    assert_eq!(line_items[0]["priceSet"], money("249.00"));
    assert_eq!(line_items[0]["requiresShipping"], false);
    assert_eq!(line_items[0]["taxable"], true);
    assert!(line_items[0].get("taxLines").is_none());

    assert_eq!(
        order["taxLines"],
        json!([{ "title": "Sales tax", "rate": "0.1", "priceSet": money("24.90") }])
    );
    assert_eq!(order["taxesIncluded"], false);
    assert!(order.get("discountCode").is_none());

    assert_eq!(order["financialStatus"], "PAID");
    assert_eq!(
        order["transactions"],
        json!([{
            "kind": "SALE",
            "status": "SUCCESS",
            "gateway": "stripe",
            "amountSet": money("273.90"),
            "authorizationCode": PAYMENT_INTENT_ID,
            "test": true,
            "processedAt": "2027-06-01T09:30:00Z",
        }])
    );

    assert_eq!(order["currency"], "USD");
    assert_eq!(order["test"], true);
    assert_eq!(order["sourceName"], "registration-pipeline");
    assert_eq!(order["sourceIdentifier"], PAYMENT_INTENT_ID);
    assert_eq!(
        variables["options"],
        json!({ "sendReceipt": true, "sendFulfillmentReceipt": false })
    );
}

#[test]
fn customer_is_upserted_by_email() {
    let variables = variables(&full_event(), &MappingOptions::default());
    let order = &variables["order"];
    assert_eq!(
        order["customer"],
        json!({
            "toUpsert": {
                "email": "ada@example.com",
                "firstName": "Ada",
                "lastName": "Lovelace",
                "phone": "+12025550143",
            }
        })
    );
    assert_eq!(order["email"], "ada@example.com");
    assert_eq!(order["phone"], "+12025550143");
}

#[test]
fn tags_and_note_describe_registration() {
    let variables = variables(&full_event(), &MappingOptions::default());
    let order = &variables["order"];
    assert_eq!(
        order["tags"],
        json!(["harbor-classic-2027", "registration", "test"])
    );
    assert_eq!(
        order["note"],
        format!(
            "Registration {REGISTRATION_ID}: Harbor Classic 2027, 2027-06-12 + 2027-06-13, \
             1 participant. Paid with Stripe {PAYMENT_INTENT_ID}."
        )
    );
}

#[test]
fn note_leaves_out_contact_details() {
    let variables = variables(&full_event(), &MappingOptions::default());
    let note = variables["order"]["note"].as_str().unwrap();
    assert!(!note.contains("ada@example.com"), "note: {note}");
    assert!(!note.contains("5550143"), "note: {note}");
}

#[test]
fn live_payment_is_not_test_order() {
    let record = full_event();
    let payment = PaymentFacts {
        livemode: true,
        ..payment_for(&record)
    };
    let variables = order_variables(
        &record,
        &payment,
        "Harbor Classic 2027",
        &MappingOptions::default(),
    );
    let order = &variables["order"];
    assert_eq!(order["test"], false);
    assert_eq!(order["transactions"][0]["test"], false);
    assert_eq!(
        order["tags"],
        json!(["harbor-classic-2027", "registration"])
    );
}

#[test]
fn per_day_pricing_gives_line_per_day() {
    let record = record("three-day", &["2027-07-01", "2027-07-03"], 3, None);
    let variables = variables(&record, &MappingOptions::default());
    let order = &variables["order"];

    let line_items = order["lineItems"].as_array().unwrap();
    assert_eq!(line_items.len(), 2);
    assert_eq!(
        line_items[0]["title"],
        "Three Day Open: Day one (2027-07-01)"
    );
    assert_eq!(line_items[0]["quantity"], 3);
    assert_eq!(line_items[0]["priceSet"], money("40.00"));
    assert_eq!(
        line_items[1]["title"],
        "Three Day Open: Day three (2027-07-03)"
    );
    assert_eq!(line_items[1]["quantity"], 3);
    assert_eq!(line_items[1]["priceSet"], money("50.00"));

    // (40.00 + 50.00) × 3 = 270.00, tax 27.00, total 297.00.
    assert_eq!(order["taxLines"][0]["priceSet"], money("27.00"));
    assert_eq!(order["transactions"][0]["amountSet"], money("297.00"));
    assert!(order["note"]
        .as_str()
        .unwrap()
        .contains("2027-07-01 + 2027-07-03, 3 participants."));
}

#[test]
fn discount_is_fixed_amount_before_tax() {
    let record = record("three-day", &["2027-07-01", "2027-07-02"], 1, Some("TEN"));
    let variables = variables(&record, &MappingOptions::default());
    let order = &variables["order"];

    // Subtotal 85.00, 10 % off is 8.50, tax 10 % of 76.50 is 7.65, total 84.15.
    assert_eq!(
        order["discountCode"],
        json!({ "itemFixedDiscountCode": { "code": "TEN", "amountSet": money("8.50") } })
    );
    assert_eq!(order["taxLines"][0]["priceSet"], money("7.65"));
    assert_eq!(order["transactions"][0]["amountSet"], money("84.15"));
}

#[test]
fn order_amounts_add_up_to_payment() {
    let cases = [
        record(
            "harbor-classic-2027",
            &["2027-06-12", "2027-06-13"],
            1,
            None,
        ),
        record("harbor-classic-2027", &["2027-06-12"], 2, Some("TEN")),
        record(
            "three-day",
            &["2027-07-01", "2027-07-02", "2027-07-03"],
            7,
            Some("TEN"),
        ),
        record("untaxed", &["2027-08-01"], 4, None),
    ];
    for record in &cases {
        let variables = variables(record, &MappingOptions::default());
        let order = &variables["order"];
        let currency = record.quote.currency;
        let minor = |money: &Value| {
            let amount = money["shopMoney"]["amount"].as_str().unwrap();
            currency.parse_amount(amount).unwrap()
        };

        let lines: i64 = order["lineItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| minor(&line["priceSet"]) * line["quantity"].as_i64().unwrap())
            .sum();
        let discount = order
            .get("discountCode")
            .map_or(0, |code| minor(&code["itemFixedDiscountCode"]["amountSet"]));
        let tax: i64 = order["taxLines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| minor(&line["priceSet"]))
            .sum();
        let paid = minor(&order["transactions"][0]["amountSet"]);

        assert_eq!(tax, record.quote.tax, "event {}", record.quote.event_id);
        assert_eq!(
            lines - discount + tax,
            paid,
            "event {}",
            record.quote.event_id
        );
    }
}

#[test]
fn zero_tax_gives_no_tax_lines() {
    let record = record("untaxed", &["2027-08-01"], 1, None);
    let variables = variables(&record, &MappingOptions::default());
    assert_eq!(variables["order"]["taxLines"], json!([]));
    assert_eq!(variables["order"]["taxesIncluded"], false);
}

#[test]
fn every_form_field_becomes_attribute() {
    let mut record = full_event();
    let mut fields: Vec<ExtraField> = (1..=60)
        .map(|number| ExtraField {
            name: format!("field {number}"),
            value: format!("value {number}"),
        })
        .collect();
    let long_value: String = "0123456789".repeat(120);
    fields[10].value = long_value.clone();
    fields[20].value = "A, B".to_owned();
    fields[30].value = String::new();
    record.registration.fields = fields.clone();

    let variables = variables(&record, &MappingOptions::default());
    let pairs = attribute_pairs(&variables["order"]);

    assert_eq!(pairs.len(), 60 + PIPELINE_KEYS.len());
    for (index, field) in fields.iter().enumerate() {
        assert_eq!(pairs[index].0, field.name);
        assert_eq!(pairs[index].1, field.value);
    }
    assert_eq!(attribute(&pairs, "field 11").map(str::len), Some(1_200));
    assert_eq!(attribute(&pairs, "field 11"), Some(long_value.as_str()));
    assert_eq!(attribute(&pairs, "field 21"), Some("A, B"));
    assert_eq!(attribute(&pairs, "field 31"), Some(""));
}

#[test]
fn pipeline_attributes_follow_form_fields() {
    let mut record = full_event();
    record.registration.fields = vec![ExtraField {
        name: "club".to_owned(),
        value: "Harbor Rowing".to_owned(),
    }];
    let variables = variables(&record, &MappingOptions::default());
    let pairs = attribute_pairs(&variables["order"]);

    let expected = [
        ("club", "Harbor Rowing"),
        ("registration_id", REGISTRATION_ID),
        ("payment_intent_id", PAYMENT_INTENT_ID),
        ("event_id", "harbor-classic-2027"),
        ("event", "Harbor Classic 2027"),
        ("days", "2027-06-12, 2027-06-13"),
        ("participants", "1"),
        ("first_name", "Ada"),
        ("last_name", "Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+12025550143"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    assert_eq!(pairs, expected);
}

#[test]
fn colliding_form_names_get_suffix() {
    let mut record = full_event();
    record.registration.fields = vec![
        ExtraField {
            name: "email".to_owned(),
            value: "parent@example.com".to_owned(),
        },
        ExtraField {
            name: "email (form)".to_owned(),
            value: "typed by hand".to_owned(),
        },
        ExtraField {
            name: "registration_id".to_owned(),
            value: "club-42".to_owned(),
        },
        ExtraField {
            name: RAW_PHONE_KEY.to_owned(),
            value: "555".to_owned(),
        },
        ExtraField {
            name: "Email".to_owned(),
            value: "case differs".to_owned(),
        },
    ];
    let variables = variables(&record, &MappingOptions::default());
    let pairs = attribute_pairs(&variables["order"]);

    // The pipeline keys keep their names and values.
    assert_eq!(attribute(&pairs, "email"), Some("ada@example.com"));
    assert_eq!(attribute(&pairs, "registration_id"), Some(REGISTRATION_ID));
    // The form fields are renamed, and a rename skips a key another field already uses.
    assert_eq!(
        attribute(&pairs, "email (form) 2"),
        Some("parent@example.com")
    );
    assert_eq!(attribute(&pairs, "email (form)"), Some("typed by hand"));
    assert_eq!(attribute(&pairs, "registration_id (form)"), Some("club-42"));
    assert_eq!(attribute(&pairs, "phone (as entered) (form)"), Some("555"));
    // Keys are compared exactly, as Shopify stores them.
    assert_eq!(attribute(&pairs, "Email"), Some("case differs"));

    let keys: HashSet<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(keys.len(), pairs.len(), "duplicate keys in {pairs:?}");
}

#[test]
fn blank_form_name_gets_placeholder_key() {
    let mut record = full_event();
    record.registration.fields = vec![ExtraField {
        name: " ".to_owned(),
        value: "kept".to_owned(),
    }];
    let variables = variables(&record, &MappingOptions::default());
    let pairs = attribute_pairs(&variables["order"]);
    assert_eq!(attribute(&pairs, "unnamed field"), Some("kept"));
    assert!(pairs.iter().all(|(key, _)| !key.trim().is_empty()));
}

#[test]
fn excluded_phone_kept_as_attribute() {
    let options = MappingOptions {
        include_customer_phone: false,
        ..MappingOptions::default()
    };
    let variables = variables(&full_event(), &options);
    let order = &variables["order"];

    assert!(order.get("phone").is_none());
    assert!(order["customer"]["toUpsert"].get("phone").is_none());
    assert_eq!(order["customer"]["toUpsert"]["email"], "ada@example.com");
    assert_eq!(order["email"], "ada@example.com");

    let pairs = attribute_pairs(order);
    assert_eq!(attribute(&pairs, RAW_PHONE_KEY), Some("(202) 555-0143"));
    assert_eq!(attribute(&pairs, "phone"), Some("+12025550143"));
    assert_eq!(
        pairs.last().map(|(key, _)| key.as_str()),
        Some(RAW_PHONE_KEY)
    );
}

#[test]
fn included_phone_has_no_raw_attribute() {
    let variables = variables(&full_event(), &MappingOptions::default());
    let pairs = attribute_pairs(&variables["order"]);
    assert_eq!(attribute(&pairs, RAW_PHONE_KEY), None);
}

#[test]
fn excluded_email_kept_as_attribute() {
    let options = MappingOptions {
        include_email: false,
        ..MappingOptions::default()
    };
    let variables = variables(&full_event(), &options);
    let order = &variables["order"];

    assert!(order.get("email").is_none());
    assert!(order["customer"]["toUpsert"].get("email").is_none());
    assert_eq!(order["customer"]["toUpsert"]["firstName"], "Ada");
    assert_eq!(order["phone"], "+12025550143");

    let pairs = attribute_pairs(order);
    assert_eq!(attribute(&pairs, "email"), Some("ada@example.com"));
}

#[test]
fn both_contacts_excluded() {
    let options = MappingOptions {
        include_customer_phone: false,
        include_email: false,
        ..MappingOptions::default()
    };
    let variables = variables(&full_event(), &options);
    let order = &variables["order"];
    assert_eq!(
        order["customer"],
        json!({ "toUpsert": { "firstName": "Ada", "lastName": "Lovelace" } })
    );
    assert!(order.get("email").is_none());
    assert!(order.get("phone").is_none());
}

#[test]
fn source_name_comes_from_options() {
    let options = MappingOptions {
        source_name: "harbor-site".to_owned(),
        ..MappingOptions::default()
    };
    let variables = variables(&full_event(), &options);
    assert_eq!(variables["order"]["sourceName"], "harbor-site");
}

#[test]
fn free_registration_has_no_transaction() {
    let record = record("three-day", &["2027-07-02"], 2, Some("FREE100"));
    assert_eq!(record.quote.total, 0);
    let variables = variables(&record, &MappingOptions::default());
    let order = &variables["order"];

    assert_eq!(order["financialStatus"], "PAID");
    assert!(order.get("transactions").is_none());
    assert_eq!(
        order["tags"],
        json!(["three-day", "registration", "test", "free"])
    );
    assert_eq!(order["taxLines"], json!([]));
    assert_eq!(
        order["discountCode"]["itemFixedDiscountCode"]["amountSet"],
        money("90.00")
    );
    let free_id = format!("free_{REGISTRATION_ID}");
    assert_eq!(order["sourceIdentifier"], free_id.as_str());
    assert!(order["note"]
        .as_str()
        .unwrap()
        .ends_with("Free registration, no payment taken."));
    assert_eq!(variables["options"]["sendReceipt"], true);
}

#[test]
fn free_registration_totals_zero() {
    let record = record("three-day", &["2027-07-02"], 2, Some("FREE100"));
    let variables = variables(&record, &MappingOptions::default());
    let order = &variables["order"];
    let currency = record.quote.currency;
    let minor = |money: &Value| {
        currency
            .parse_amount(money["shopMoney"]["amount"].as_str().unwrap())
            .unwrap()
    };
    let line = &order["lineItems"][0];
    let lines = minor(&line["priceSet"]) * line["quantity"].as_i64().unwrap();
    let discount = minor(&order["discountCode"]["itemFixedDiscountCode"]["amountSet"]);
    assert_eq!(lines - discount, 0);
}

#[test]
fn processed_at_is_rfc3339_utc() {
    assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
    assert_eq!(rfc3339(PAID_AT).as_deref(), Some("2027-06-01T09:30:00Z"));
    assert_eq!(rfc3339(i64::MAX), None);
}

// --- Shape check against the orderCreate input types -------------------------------------

/// How a field's value must look in the variables.
#[derive(Clone, Copy)]
enum Kind {
    /// A GraphQL `String`, `ID` or `DateTime`, sent as a JSON string.
    Text,
    /// A GraphQL `Decimal`, sent as a string of digits with an optional point.
    Decimal,
    Boolean,
    Int,
    /// A GraphQL enum with these values.
    Enum(&'static [&'static str]),
    /// An input object type, named as in the schema.
    Object(&'static str),
    /// A list whose items have the inner kind.
    List(&'static Kind),
}

/// One input field: name, kind, and whether the schema marks it non-null.
type FieldSpec = (&'static str, Kind, bool);

const FINANCIAL_STATUS: &[&str] = &[
    "AUTHORIZED",
    "EXPIRED",
    "PAID",
    "PARTIALLY_PAID",
    "PARTIALLY_REFUNDED",
    "PENDING",
    "REFUNDED",
    "VOIDED",
];
const TRANSACTION_KIND: &[&str] = &[
    "AUTHORIZATION",
    "CAPTURE",
    "CHANGE",
    "EMV_AUTHORIZATION",
    "REFUND",
    "SALE",
    "SUGGESTED_REFUND",
    "VOID",
];
const TRANSACTION_STATUS: &[&str] = &[
    "AWAITING_RESPONSE",
    "ERROR",
    "FAILURE",
    "PENDING",
    "SUCCESS",
    "UNKNOWN",
];
/// ISO codes this test emits. The schema's `CurrencyCode` enum has many more.
const CURRENCY_CODES: &[&str] = &["USD"];

/// Returns the input fields this module may emit, copied by hand from the Admin GraphQL
/// 2026-10 introspection schema. Each type lists only the fields used here, plus every
/// non-null field, so an unknown key or a missing required field fails the test.
fn input_fields(type_name: &str) -> &'static [FieldSpec] {
    match type_name {
        "orderCreate" => &[
            ("order", Kind::Object("OrderCreateOrderInput"), true),
            ("options", Kind::Object("OrderCreateOptionsInput"), false),
        ],
        "OrderCreateOrderInput" => &[
            ("currency", Kind::Enum(CURRENCY_CODES), false),
            (
                "customAttributes",
                Kind::List(&Kind::Object("OrderCreateCustomAttributeInput")),
                false,
            ),
            ("customer", Kind::Object("OrderCreateCustomerInput"), false),
            (
                "discountCode",
                Kind::Object("OrderCreateDiscountCodeInput"),
                false,
            ),
            ("email", Kind::Text, false),
            ("financialStatus", Kind::Enum(FINANCIAL_STATUS), false),
            (
                "lineItems",
                Kind::List(&Kind::Object("OrderCreateLineItemInput")),
                false,
            ),
            ("note", Kind::Text, false),
            ("phone", Kind::Text, false),
            ("sourceIdentifier", Kind::Text, false),
            ("sourceName", Kind::Text, false),
            ("tags", Kind::List(&Kind::Text), false),
            (
                "taxLines",
                Kind::List(&Kind::Object("OrderCreateTaxLineInput")),
                false,
            ),
            ("taxesIncluded", Kind::Boolean, false),
            ("test", Kind::Boolean, false),
            (
                "transactions",
                Kind::List(&Kind::Object("OrderCreateOrderTransactionInput")),
                false,
            ),
        ],
        "OrderCreateLineItemInput" => &[
            ("priceSet", Kind::Object("MoneyBagInput"), false),
            ("quantity", Kind::Int, true),
            ("requiresShipping", Kind::Boolean, false),
            ("taxable", Kind::Boolean, false),
            ("title", Kind::Text, false),
        ],
        "OrderCreateTaxLineInput" => &[
            ("priceSet", Kind::Object("MoneyBagInput"), false),
            ("rate", Kind::Decimal, true),
            ("title", Kind::Text, true),
        ],
        "OrderCreateDiscountCodeInput" => &[(
            "itemFixedDiscountCode",
            Kind::Object("OrderCreateFixedDiscountCodeAttributesInput"),
            false,
        )],
        "OrderCreateFixedDiscountCodeAttributesInput" => &[
            ("amountSet", Kind::Object("MoneyBagInput"), false),
            ("code", Kind::Text, true),
        ],
        "OrderCreateOrderTransactionInput" => &[
            ("amountSet", Kind::Object("MoneyBagInput"), true),
            ("authorizationCode", Kind::Text, false),
            ("gateway", Kind::Text, false),
            ("kind", Kind::Enum(TRANSACTION_KIND), false),
            ("processedAt", Kind::Text, false),
            ("status", Kind::Enum(TRANSACTION_STATUS), false),
            ("test", Kind::Boolean, false),
        ],
        "OrderCreateCustomerInput" => &[(
            "toUpsert",
            Kind::Object("OrderCreateUpsertCustomerAttributesInput"),
            false,
        )],
        "OrderCreateUpsertCustomerAttributesInput" => &[
            ("email", Kind::Text, false),
            ("firstName", Kind::Text, false),
            ("lastName", Kind::Text, false),
            ("phone", Kind::Text, false),
        ],
        "OrderCreateCustomAttributeInput" => {
            &[("key", Kind::Text, true), ("value", Kind::Text, true)]
        }
        "MoneyBagInput" => &[("shopMoney", Kind::Object("MoneyInput"), true)],
        "MoneyInput" => &[
            ("amount", Kind::Decimal, true),
            ("currencyCode", Kind::Enum(CURRENCY_CODES), true),
        ],
        "OrderCreateOptionsInput" => &[
            ("sendFulfillmentReceipt", Kind::Boolean, false),
            ("sendReceipt", Kind::Boolean, false),
        ],
        other => panic!("no field list for input type {other}"),
    }
}

/// Collects every way `value` does not match `kind`, each prefixed with its JSON path.
fn check_value(value: &Value, kind: Kind, path: &str, problems: &mut Vec<String>) {
    match (kind, value) {
        (Kind::Text, Value::String(_)) | (Kind::Boolean, Value::Bool(_)) => {}
        (Kind::Int, Value::Number(number)) if number.is_i64() => {}
        (Kind::Decimal, Value::String(text)) => {
            let digits = text.strip_prefix('-').unwrap_or(text);
            let valid = !digits.is_empty()
                && !digits.starts_with('.')
                && !digits.ends_with('.')
                && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
                && digits.matches('.').count() <= 1;
            if !valid {
                problems.push(format!("{path}: `{text}` is not a decimal string"));
            }
        }
        (Kind::Enum(values), Value::String(text)) => {
            if !values.contains(&text.as_str()) {
                problems.push(format!("{path}: `{text}` is not one of {values:?}"));
            }
        }
        (Kind::List(inner), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                check_value(item, *inner, &format!("{path}[{index}]"), problems);
            }
        }
        (Kind::Object(type_name), Value::Object(object)) => {
            check_object(object, type_name, path, problems);
        }
        (_, other) => problems.push(format!("{path}: unexpected value {other}")),
    }
}

fn check_object(
    object: &Map<String, Value>,
    type_name: &str,
    path: &str,
    problems: &mut Vec<String>,
) {
    let fields = input_fields(type_name);
    for (key, value) in object {
        let field_path = format!("{path}.{key}");
        match fields.iter().find(|(name, _, _)| name == key) {
            Some((_, kind, _)) => check_value(value, *kind, &field_path, problems),
            None => problems.push(format!(
                "{field_path}: `{key}` is not in the field list of {type_name}"
            )),
        }
    }
    for (name, _, required) in fields {
        let present = object.get(*name).is_some_and(|value| !value.is_null());
        if *required && !present {
            problems.push(format!(
                "{path}: required field `{name}` of {type_name} is missing"
            ));
        }
    }
}

fn schema_problems(variables: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_value(variables, Kind::Object("orderCreate"), "$", &mut problems);
    problems
}

#[test]
fn variables_match_input_types() {
    let mut with_fields = record("three-day", &["2027-07-01", "2027-07-02"], 2, Some("TEN"));
    with_fields.registration.fields = vec![ExtraField {
        name: "email".to_owned(),
        value: String::new(),
    }];
    let free = record("three-day", &["2027-07-02"], 1, Some("FREE100"));
    let no_contacts = MappingOptions {
        include_customer_phone: false,
        include_email: false,
        ..MappingOptions::default()
    };
    let cases = [
        (full_event(), MappingOptions::default()),
        (with_fields, MappingOptions::default()),
        (free, MappingOptions::default()),
        (full_event(), no_contacts),
    ];
    for (record, options) in &cases {
        let variables = variables(record, options);
        let problems = schema_problems(&variables);
        assert!(problems.is_empty(), "problems: {problems:#?}");
    }
}

#[test]
fn shape_check_catches_wrong_input() {
    let mut variables = variables(&full_event(), &MappingOptions::default());
    variables["order"]["lineItems"][0]["taxLines"] = json!([]);
    variables["order"]["financialStatus"] = json!("SETTLED");
    variables["order"]["taxLines"][0]["rate"] = json!(0.1);
    variables["order"]["transactions"][0]
        .as_object_mut()
        .unwrap()
        .remove("amountSet");

    let problems = schema_problems(&variables);
    assert_eq!(problems.len(), 4, "problems: {problems:#?}");
}
