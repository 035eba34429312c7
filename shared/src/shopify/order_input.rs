//! The variables of Shopify's `orderCreate` mutation (Admin GraphQL API 2026-10) for one
//! paid or free registration.
//!
//! The order carries the quote exactly as it was charged: one custom line item per quote
//! line, the discount as a fixed amount, one order-level tax line, and one Stripe sale
//! transaction for the amount received. Every amount is formatted from integer minor units
//! with [`Currency::format_amount`], never through floating point.

use crate::money::Currency;
use crate::orders::PaymentFacts;
use crate::pricing::Quote;
use crate::store::StoredRegistration;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[cfg(test)]
mod tests;

/// `sourceName` used when the caller does not set one.
pub const DEFAULT_SOURCE_NAME: &str = "registration-pipeline";

/// Transaction gateway name for payments taken by Stripe.
pub const STRIPE_GATEWAY: &str = "stripe";

/// Tag on every order this pipeline creates.
pub const REGISTRATION_TAG: &str = "registration";
/// Tag on orders paid in Stripe test mode, which are also Shopify test orders.
pub const TEST_TAG: &str = "test";
/// Tag on orders of registrations whose total was zero.
pub const FREE_TAG: &str = "free";

/// Custom attribute with the phone number as the buyer typed it, added when the phone
/// number is left out of the customer and the order.
pub const RAW_PHONE_KEY: &str = "phone (as entered)";

/// The custom attribute keys this pipeline writes, in the order they appear after the form
/// fields. [`RAW_PHONE_KEY`] follows them when the phone number is left out.
pub const PIPELINE_KEYS: [&str; 10] = [
    "registration_id",
    "payment_intent_id",
    "event_id",
    "event",
    "days",
    "participants",
    "first_name",
    "last_name",
    "email",
    "phone",
];

/// Suffix added to a form field's name when the name is already a pipeline key, such as
/// `email (form)` for a form field called `email`.
pub const FORM_KEY_SUFFIX: &str = " (form)";

/// Key used for a form field whose name is blank. Form validation rejects blank names, so
/// this only appears for records written before that check.
const UNNAMED_FIELD_KEY: &str = "unnamed field";

/// Choices the order path makes about one `orderCreate` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingOptions {
    /// Whether to send the E.164 phone number on the customer and the order. The order path
    /// turns this off after Shopify rejected the number, which then stays on the order as
    /// the `phone` and [`RAW_PHONE_KEY`] custom attributes.
    pub include_customer_phone: bool,
    /// Whether to send the e-mail address on the customer and the order. The order path
    /// turns this off after Shopify rejected the address, which then stays on the order as
    /// the `email` custom attribute.
    pub include_email: bool,
    /// The order's `sourceName`, such as `registration-pipeline`.
    pub source_name: String,
}

impl Default for MappingOptions {
    fn default() -> Self {
        Self {
            include_customer_phone: true,
            include_email: true,
            source_name: DEFAULT_SOURCE_NAME.to_owned(),
        }
    }
}

/// Builds the `orderCreate` variables, `{"order": …, "options": …}`, for `record`.
///
/// `payment` is the payment the order records: a Stripe sale of `amount_received`, or no
/// transaction at all when `payment.free` is set. `event_name` is the catalog name of the
/// registration's event.
///
/// The caller must have checked that the payment matches the quote: same currency, and
/// `amount_received` equal to `quote.total`. Every amount here, the transaction included,
/// is formatted in the quote's currency.
pub fn order_variables(
    record: &StoredRegistration,
    payment: &PaymentFacts,
    event_name: &str,
    options: &MappingOptions,
) -> Value {
    object([
        ("order", order_input(record, payment, event_name, options)),
        (
            "options",
            object([
                // Shopify sends the buyer its order confirmation e-mail. Nothing is shipped,
                // so no shipping confirmation is sent.
                ("sendReceipt", Value::Bool(true)),
                ("sendFulfillmentReceipt", Value::Bool(false)),
            ]),
        ),
    ])
}

/// Builds a JSON object with `entries` in the given order.
///
/// The builders here create each value as an owned [`Value`] and move it in, because
/// `json!` serialises every interpolated expression again and so copies each string once
/// more.
fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    let mut map = Map::with_capacity(N);
    for (key, value) in entries {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// Returns `text` as a JSON string.
fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// Builds the `OrderCreateOrderInput` object.
fn order_input(
    record: &StoredRegistration,
    payment: &PaymentFacts,
    event_name: &str,
    options: &MappingOptions,
) -> Value {
    let registration = &record.registration;
    let quote = &record.quote;
    let currency = quote.currency;
    let mut order = Map::with_capacity(16);

    order.insert("currency".into(), string(currency.code()));
    order.insert("lineItems".into(), Value::Array(line_items(quote)));
    // Taxes go on the order only, because the 2026-10 schema allows tax lines on the order
    // or on the line items but not both. Shopify splits order-level tax lines across the
    // taxable line items.
    order.insert("taxLines".into(), Value::Array(tax_lines(quote)));
    order.insert("taxesIncluded".into(), Value::Bool(false));
    if let Some(discount) = discount_code(quote) {
        order.insert("discountCode".into(), discount);
    }

    // The 2026-10 schema documents that a given status persists even when it does not
    // match the transactions, so a free registration is PAID with no transaction.
    order.insert("financialStatus".into(), string("PAID"));
    if let Some(transaction) = stripe_transaction(payment, currency) {
        order.insert("transactions".into(), Value::Array(vec![transaction]));
    }

    order.insert("customer".into(), customer(record, options));
    if options.include_email {
        order.insert("email".into(), string(registration.email.as_str()));
    }
    if options.include_customer_phone {
        order.insert("phone".into(), string(&registration.phone.e164));
    }

    let attributes = custom_attributes(record, payment, event_name, options);
    let attributes = attributes
        .into_iter()
        .map(|(key, value)| object([("key", Value::String(key)), ("value", Value::String(value))]))
        .collect();
    order.insert("customAttributes".into(), Value::Array(attributes));

    let tags = tags(record, payment)
        .into_iter()
        .map(Value::String)
        .collect();
    order.insert("tags".into(), Value::Array(tags));
    order.insert("sourceName".into(), string(&options.source_name));
    order.insert(
        "sourceIdentifier".into(),
        string(&payment.payment_intent_id),
    );
    order.insert(
        "note".into(),
        Value::String(note(record, payment, event_name)),
    );
    order.insert("test".into(), Value::Bool(!payment.livemode));

    Value::Object(order)
}

/// Builds a `MoneyBagInput` in the shop currency.
fn money_bag(currency: Currency, minor: i64) -> Value {
    object([(
        "shopMoney",
        object([
            ("amount", Value::String(currency.format_amount(minor))),
            ("currencyCode", string(currency.code())),
        ]),
    )])
}

/// Builds one custom line item (no product or variant) per quote line: one per chosen day,
/// or one for the whole event at its full-event price.
fn line_items(quote: &Quote) -> Vec<Value> {
    quote
        .lines
        .iter()
        .map(|line| {
            object([
                ("title", string(&line.title)),
                ("quantity", Value::from(line.quantity)),
                ("priceSet", money_bag(quote.currency, line.unit_price)),
                ("requiresShipping", Value::Bool(false)),
                ("taxable", Value::Bool(true)),
            ])
        })
        .collect()
}

/// Builds the order's tax lines: one for the quote's tax, or none when the tax is zero.
fn tax_lines(quote: &Quote) -> Vec<Value> {
    if quote.tax == 0 {
        return Vec::new();
    }
    vec![object([
        ("title", string(&quote.tax_title)),
        ("rate", Value::String(quote.tax_rate.to_fraction_string())),
        ("priceSet", money_bag(quote.currency, quote.tax)),
    ])]
}

/// Builds the `discountCode` input, or `None` without a discount or with a zero amount.
///
/// Every code is sent as a fixed amount, percentage codes included. The fixed amount is the
/// one the quote charged, so the order total stays exact, whereas a percentage would leave
/// the rounding to Shopify, which may differ from the quote's by a minor unit.
fn discount_code(quote: &Quote) -> Option<Value> {
    let discount = quote.discount.as_ref()?;
    // NOTE: a zero amount only happens on a zero subtotal. It is left out because it is
    // unknown whether Shopify accepts a discount code that takes off nothing.
    if discount.amount == 0 {
        return None;
    }
    Some(object([(
        "itemFixedDiscountCode",
        object([
            ("code", string(&discount.code)),
            ("amountSet", money_bag(quote.currency, discount.amount)),
        ]),
    )]))
}

/// Builds the Stripe sale transaction, or `None` for a free registration.
fn stripe_transaction(payment: &PaymentFacts, currency: Currency) -> Option<Value> {
    if payment.free {
        return None;
    }
    let mut transaction = Map::with_capacity(7);
    transaction.insert("kind".into(), string("SALE"));
    transaction.insert("status".into(), string("SUCCESS"));
    transaction.insert("gateway".into(), string(STRIPE_GATEWAY));
    transaction.insert(
        "amountSet".into(),
        money_bag(currency, payment.amount_received),
    );
    transaction.insert(
        "authorizationCode".into(),
        string(&payment.payment_intent_id),
    );
    transaction.insert("test".into(), Value::Bool(!payment.livemode));
    // A timestamp outside the range of `OffsetDateTime` is left out rather than guessed.
    if let Some(processed_at) = rfc3339(payment.paid_at) {
        transaction.insert("processedAt".into(), Value::String(processed_at));
    }
    Some(Value::Object(transaction))
}

/// Formats Unix seconds as an RFC 3339 UTC timestamp, such as `2027-06-01T09:30:00Z`.
fn rfc3339(unix_seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// Builds the `OrderCreateCustomerInput` that creates or updates the customer. Shopify
/// matches an existing customer by e-mail address when the address is included.
fn customer(record: &StoredRegistration, options: &MappingOptions) -> Value {
    let registration = &record.registration;
    let mut upsert = Map::with_capacity(4);
    if options.include_email {
        upsert.insert("email".into(), string(registration.email.as_str()));
    }
    upsert.insert("firstName".into(), string(&registration.first_name));
    upsert.insert("lastName".into(), string(&registration.last_name));
    if options.include_customer_phone {
        upsert.insert("phone".into(), string(&registration.phone.e164));
    }
    object([("toUpsert", Value::Object(upsert))])
}

/// Lists the order's custom attributes as `(key, value)` pairs: every form field in form
/// order, then the pipeline's own attributes ([`PIPELINE_KEYS`], then [`RAW_PHONE_KEY`]
/// when the phone number is left out).
///
/// Pipeline keys never change, so staff and tools can rely on them. A form field whose name
/// is already a pipeline key, or [`RAW_PHONE_KEY`], gets [`FORM_KEY_SUFFIX`] appended, and
/// then a number (` (form) 2`, ` (form) 3`, …) if that key is also taken. Values are kept
/// whole at any length, and an empty value stays `""`.
fn custom_attributes(
    record: &StoredRegistration,
    payment: &PaymentFacts,
    event_name: &str,
    options: &MappingOptions,
) -> Vec<(String, String)> {
    let registration = &record.registration;

    let mut pipeline: Vec<(String, String)> = vec![
        (
            "registration_id".into(),
            registration.registration_id.to_string(),
        ),
        (
            "payment_intent_id".into(),
            payment.payment_intent_id.clone(),
        ),
        ("event_id".into(), registration.event_id.clone()),
        ("event".into(), event_name.to_owned()),
        ("days".into(), registration.days.join(", ")),
        ("participants".into(), registration.participants.to_string()),
        ("first_name".into(), registration.first_name.clone()),
        ("last_name".into(), registration.last_name.clone()),
        ("email".into(), registration.email.as_str().to_owned()),
        ("phone".into(), registration.phone.e164.clone()),
    ];
    if !options.include_customer_phone {
        pipeline.push((RAW_PHONE_KEY.into(), registration.phone.raw.clone()));
    }

    let reserved_by_pipeline = |name: &str| name == RAW_PHONE_KEY || PIPELINE_KEYS.contains(&name);
    // Built on the first renamed field only, because most registrations rename none.
    let mut used: Option<HashSet<Cow<'_, str>>> = None;
    let mut attributes = Vec::with_capacity(registration.fields.len() + pipeline.len());
    for field in &registration.fields {
        let key = if field.name.trim().is_empty() {
            free_key(UNNAMED_FIELD_KEY, used_keys(&mut used, record))
        } else if reserved_by_pipeline(&field.name) {
            let base = format!("{}{FORM_KEY_SUFFIX}", field.name);
            free_key(&base, used_keys(&mut used, record))
        } else {
            field.name.clone()
        };
        attributes.push((key, field.value.clone()));
    }
    attributes.extend(pipeline);
    attributes
}

/// Returns the set of keys that a renamed form field must avoid, building it on first use.
///
/// Every pipeline key is reserved, including [`RAW_PHONE_KEY`] when it is not written, so a
/// form field gets the same key whichever options the order path chose. Form field names
/// are unique, so only a renamed field can collide with another form field. Reserving every
/// form name first keeps the fields that need no rename as typed.
fn used_keys<'a, 'r>(
    used: &'a mut Option<HashSet<Cow<'r, str>>>,
    record: &'r StoredRegistration,
) -> &'a mut HashSet<Cow<'r, str>> {
    used.get_or_insert_with(|| {
        let form_names = record.registration.fields.iter().map(|field| &field.name);
        PIPELINE_KEYS
            .iter()
            .chain([&RAW_PHONE_KEY])
            .map(|key| Cow::Borrowed(*key))
            .chain(form_names.map(|name| Cow::Borrowed(name.as_str())))
            .collect()
    })
}

/// Returns `base`, or `base 2`, `base 3`, … when taken, and marks the result as used.
fn free_key(base: &str, used: &mut HashSet<Cow<'_, str>>) -> String {
    let mut candidate = base.to_owned();
    let mut number = 2;
    while used.contains(candidate.as_str()) {
        candidate = format!("{base} {number}");
        number += 1;
    }
    used.insert(Cow::Owned(candidate.clone()));
    candidate
}

/// Lists the order's tags: the event id, `registration`, then `test` for Stripe test mode
/// and `free` for a registration with a zero total.
fn tags(record: &StoredRegistration, payment: &PaymentFacts) -> Vec<String> {
    let mut tags = vec![
        record.registration.event_id.clone(),
        REGISTRATION_TAG.to_owned(),
    ];
    if !payment.livemode {
        tags.push(TEST_TAG.to_owned());
    }
    if payment.free {
        tags.push(FREE_TAG.to_owned());
    }
    tags
}

/// Writes the staff-facing note, such as `Registration 7d2c…: Harbor Classic 2027,
/// 2027-06-12 + 2027-06-13, 1 participant. Paid with Stripe pi_….` It contains no e-mail
/// address or phone number.
fn note(record: &StoredRegistration, payment: &PaymentFacts, event_name: &str) -> String {
    let registration = &record.registration;
    let participants = match registration.participants {
        1 => "1 participant".to_owned(),
        count => format!("{count} participants"),
    };
    let payment_text = if payment.free {
        "Free registration, no payment taken.".to_owned()
    } else {
        format!("Paid with Stripe {}.", payment.payment_intent_id)
    };
    format!(
        "Registration {}: {event_name}, {}, {participants}. {payment_text}",
        registration.registration_id,
        registration.days.join(" + "),
    )
}
