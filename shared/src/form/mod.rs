//! The registration form: what the website sends, and the validated registration.

use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
pub fn validate(
    request: RegistrationRequest,
    catalog: &crate::catalog::Catalog,
    limits: &FormLimits,
    default_region: phonenumber::country::Id,
) -> Result<Registration, FieldError> {
    let _ = (request, catalog, limits, default_region);
    todo!("validate the registration form")
}
