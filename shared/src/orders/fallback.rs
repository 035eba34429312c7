//! Rebuilding a registration from PaymentIntent metadata, for a payment whose stored copy
//! is missing (it expired, or the write after Stripe's response failed).

use crate::catalog::Catalog;
use crate::form::{Email, ExtraField, Phone, Registration};
use crate::pricing::{quote, Basket};
use crate::store::{Payment, StoredRegistration};
use crate::stripe::metadata::{keys, EXTRA_FIELD_PREFIX};
use std::collections::BTreeMap;

/// Rebuilds the registration and its quote from `metadata`, or reports which key is missing
/// or invalid. The quote is computed again from the catalog with the discount code that
/// was applied at checkout, so the caller's amount check still compares like with like.
///
/// Extra form fields come back with their metadata keys (`f_club`), cut to Stripe's limits,
/// because the full form lived only in the stored copy.
pub fn registration_from_metadata(
    metadata: &BTreeMap<String, String>,
    catalog: &Catalog,
    phone_region: phonenumber::country::Id,
    payment_intent_id: &str,
    now: i64,
) -> Result<StoredRegistration, String> {
    let get = |key: &str| {
        metadata
            .get(key)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("metadata key `{key}` is missing"))
    };
    let registration_id = get(keys::REGISTRATION_ID)?
        .parse()
        .map_err(|_| "metadata key `registration_id` is not a UUID".to_owned())?;
    let days: Vec<String> = get(keys::DAYS)?.split(',').map(str::to_owned).collect();
    let participants: u32 = get(keys::PARTICIPANTS)?
        .parse()
        .map_err(|_| "metadata key `participants` is not a number".to_owned())?;
    let basket = Basket::new(catalog, get(keys::EVENT_ID)?, &days, participants)
        .map_err(|error| format!("metadata does not match the catalog: {error}"))?;
    let discount_code = metadata.get(keys::DISCOUNT_CODE).cloned();
    let discount = match &discount_code {
        Some(code) => Some(catalog.discount(code).ok_or_else(|| {
            "metadata names a discount code the catalog no longer has".to_owned()
        })?),
        None => None,
    };
    let quote = quote(&basket, discount).map_err(|error| error.to_string())?;

    let email = Email::parse(get(keys::EMAIL)?)
        .map_err(|_| "metadata key `email` is invalid".to_owned())?;
    let phone = Phone::parse(get(keys::PHONE)?, phone_region)
        .map_err(|_| "metadata key `phone` is invalid".to_owned())?;
    let fields = metadata
        .iter()
        .filter(|(key, _)| key.starts_with(EXTRA_FIELD_PREFIX))
        .map(|(key, value)| ExtraField {
            name: key.clone(),
            value: value.clone(),
        })
        .collect();

    let registration = Registration {
        registration_id,
        event_id: basket.event.id.clone(),
        days: basket.days.iter().map(|day| day.date.to_string()).collect(),
        participants,
        first_name: get(keys::FIRST_NAME)?.to_owned(),
        last_name: get(keys::LAST_NAME)?.to_owned(),
        email,
        phone,
        discount_code,
        fields,
    };
    Ok(StoredRegistration {
        fingerprint: quote.fingerprint(),
        registration,
        quote,
        payment: Payment::Stripe,
        payment_intent_id: Some(payment_intent_id.to_owned()),
        created_at: now,
    })
}
