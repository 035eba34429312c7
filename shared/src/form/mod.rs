//! The registration form: what the website sends, and the validated registration.

mod email;
mod fields;
mod phone;
#[cfg(test)]
mod tests;

pub use email::MAX_EMAIL_CHARS;
pub use phone::MAX_PHONE_CHARS;

use crate::discount::DiscountCode;
use crate::pricing::Basket;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Maximum length of the first name and of the last name, in characters after trimming.
pub const MAX_PERSON_NAME_CHARS: usize = 100;

/// Limits on the free-form extra fields of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormLimits {
    /// Maximum number of extra fields.
    pub max_fields: usize,
    /// Maximum length of an extra field's name, in characters.
    pub max_name_chars: usize,
    /// Maximum length of an extra field's value, in characters.
    pub max_value_chars: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        Self {
            max_fields: 100,
            max_name_chars: 64,
            max_value_chars: 5_000,
        }
    }
}

/// The registration form as the website posts it. Every field is optional here so that a
/// missing one is reported by name instead of as a JSON error.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegistrationRequest {
    pub registration_id: Option<String>,
    pub event_id: Option<String>,
    pub days: Option<Vec<String>>,
    /// Number of participants.
    pub quantity: Option<u32>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub discount_code: Option<String>,
    /// Extra form fields by name. Values may be strings, numbers, booleans or lists of
    /// those; everything is kept as text.
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A normalised e-mail address: trimmed, lower-case and syntactically valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number normalised to E.164, with the text the buyer typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// The number in E.164 form, such as `+12025550143`.
    pub e164: String,
    /// The number as typed, kept so that staff can read it if Shopify rejects the E.164 form.
    pub raw: String,
}

/// One extra form field, kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraField {
    pub name: String,
    pub value: String,
}

/// A validated registration. Only `validate` builds one, so the pricing, Stripe and
/// Shopify code never sees an invalid value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub registration_id: Uuid,
    pub event_id: String,
    /// Chosen days as `YYYY-MM-DD`, in date order.
    pub days: Vec<String>,
    /// Number of participants.
    pub participants: u32,
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub phone: Phone,
    /// The discount code in normalised form, when one was given.
    pub discount_code: Option<String>,
    /// Extra fields in the order the website sent them.
    pub fields: Vec<ExtraField>,
}

/// Validates and normalises a registration request.
///
/// Checks the event, days and quantity against `catalog` (through [`crate::pricing::Basket`]),
/// requires every typed field, normalises the e-mail and the phone number (parsed with
/// `default_region` when it has no country code), enforces `limits` on extra fields, and
/// keeps or creates the registration id.
///
/// Returns the first failure found. Its `field` is the request's JSON name, such as
/// `email`, `days[1]` or `fields.club`.
pub fn validate(
    request: RegistrationRequest,
    catalog: &crate::catalog::Catalog,
    limits: &FormLimits,
    default_region: phonenumber::country::Id,
) -> Result<Registration, FieldError> {
    let registration_id = registration_id(request.registration_id.as_deref())?;

    let event_id = required_text(request.event_id.as_deref(), "event_id", "choose an event")?;
    let days = request.days.ok_or_else(|| {
        FieldError::new("days", "is required; choose at least one day of the event")
    })?;
    let quantity = request.quantity.ok_or_else(|| {
        FieldError::new("quantity", "is required; enter the number of participants")
    })?;
    let basket = Basket::new(catalog, event_id, &days, quantity)?;

    let first_name = person_name(request.first_name.as_deref(), "first_name", "first name")?;
    let last_name = person_name(request.last_name.as_deref(), "last_name", "last name")?;

    // A missing e-mail or phone number is parsed as empty text, which the parsers reject
    // with an "is required" message.
    let email = Email::parse(request.email.as_deref().unwrap_or_default())
        .map_err(|message| FieldError::new("email", message))?;
    let phone = Phone::parse(request.phone.as_deref().unwrap_or_default(), default_region)
        .map_err(|message| FieldError::new("phone", message))?;

    let discount_code = request
        .discount_code
        .map(|typed| DiscountCode::normalize(&typed))
        .filter(|code| !code.is_empty());

    let fields = fields::extra_fields(request.fields, limits)?;

    Ok(Registration {
        registration_id,
        event_id: basket.event.id.clone(),
        days: basket.days.iter().map(|day| day.date.to_string()).collect(),
        participants: basket.participants,
        first_name,
        last_name,
        email,
        phone,
        discount_code,
        fields,
    })
}

/// Parses the id the website sent, or creates a random (version 4) one when it sent none.
///
/// A blank or nil id is rejected rather than replaced, because the id makes a repeated
/// submit of the same form idempotent and a replaced id would silently lose that.
fn registration_id(typed: Option<&str>) -> Result<Uuid, FieldError> {
    let Some(typed) = typed else {
        return Ok(Uuid::new_v4());
    };
    let id = Uuid::parse_str(typed.trim()).map_err(|_| {
        FieldError::new(
            "registration_id",
            "is not a valid UUID; send an id such as 67e55044-10b1-426f-9247-bb680e5fe0c8, \
             or leave the field out to have one created",
        )
    })?;
    if id.is_nil() {
        return Err(FieldError::new(
            "registration_id",
            "is the nil UUID; send a random id, or leave the field out to have one created",
        ));
    }
    Ok(id)
}

/// Returns the trimmed text, or an error naming `field` when it is missing or blank.
/// `action` tells the buyer what to enter, such as `choose an event`.
fn required_text<'a>(
    typed: Option<&'a str>,
    field: &str,
    action: &str,
) -> Result<&'a str, FieldError> {
    match typed.map(str::trim) {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(FieldError::new(field, format!("is required; {action}"))),
    }
}

/// Trims and checks a first or last name. `label` is the name's kind, such as `first name`.
fn person_name(typed: Option<&str>, field: &str, label: &str) -> Result<String, FieldError> {
    let name = required_text(typed, field, &format!("enter the participant's {label}"))?;
    let name_chars = name.chars().count();
    if name_chars > MAX_PERSON_NAME_CHARS {
        return Err(FieldError::new(
            field,
            format!(
                "is {name_chars} characters long, but the maximum is {MAX_PERSON_NAME_CHARS}; \
                 shorten the {label}"
            ),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!(
                "contains a control character such as a line break; remove it from the {label}"
            ),
        ));
    }
    Ok(name.to_owned())
}
