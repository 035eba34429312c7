//! PaymentIntent metadata within Stripe's limits.
//!
//! Stripe accepts at most 50 metadata keys per object. Each key has at most 40 characters
//! and no square brackets, and each value has at most 500 characters (Stripe API reference,
//! "Metadata"). [`build_metadata`] puts the registration's own keys first, so that an order
//! can still be created from the PaymentIntent alone, and then fills the remaining keys with
//! the form's extra fields.

use crate::form::ExtraField;
use std::collections::HashSet;
use uuid::Uuid;

/// Maximum number of metadata keys on one Stripe object.
pub const MAX_KEYS: usize = 50;
/// Maximum length of a metadata key, in characters.
pub const MAX_KEY_CHARS: usize = 40;
/// Maximum length of a metadata value, in characters.
// NOTE: Stripe documents the limit in "characters" without saying whether it counts
// Unicode scalar values or UTF-16 units. We count scalar values (`char`), so a value with
// characters outside the Basic Multilingual Plane could still be too long for Stripe.
pub const MAX_VALUE_CHARS: usize = 500;

/// Prefix of the key of every extra form field, which keeps them apart from the required keys.
pub const EXTRA_FIELD_PREFIX: &str = "f_";

/// Metadata key names, shared with the code that reads the metadata back.
pub mod keys {
    pub const REGISTRATION_ID: &str = "registration_id";
    pub const EVENT_ID: &str = "event_id";
    /// Chosen days as `YYYY-MM-DD`, separated by commas.
    pub const DAYS: &str = "days";
    pub const PARTICIPANTS: &str = "participants";
    /// Lower-case ISO 4217 code.
    pub const CURRENCY: &str = "currency";
    /// Amount in minor units.
    pub const SUBTOTAL: &str = "subtotal";
    /// Absent when no discount code was applied.
    pub const DISCOUNT_CODE: &str = "discount_code";
    /// Amount in minor units, `0` without a discount.
    pub const DISCOUNT_AMOUNT: &str = "discount_amount";
    /// Amount in minor units.
    pub const TAX: &str = "tax";
    /// Decimal fraction, such as `0.0825`.
    pub const TAX_RATE: &str = "tax_rate";
    /// Amount in minor units.
    pub const TOTAL: &str = "total";
    pub const FIRST_NAME: &str = "first_name";
    pub const LAST_NAME: &str = "last_name";
    pub const EMAIL: &str = "email";
    /// E.164 form, such as `+12025550143`.
    pub const PHONE: &str = "phone";
    /// Number of extra form fields that were left out or shortened. Present only when at
    /// least one was.
    pub const FIELDS_TRUNCATED: &str = "fields_truncated";
}

/// The registration and price data that every PaymentIntent carries in its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredMetadata<'a> {
    pub registration_id: Uuid,
    pub event_id: &'a str,
    /// Chosen days as `YYYY-MM-DD`.
    pub days: &'a [String],
    pub participants: u32,
    /// ISO 4217 code in either case. The metadata stores it in lower case.
    pub currency: &'a str,
    /// Amounts in minor units of `currency`.
    pub subtotal: i64,
    pub discount_code: Option<&'a str>,
    pub discount_amount: i64,
    pub tax: i64,
    /// Tax rate as a decimal fraction, such as `Rate::to_fraction_string` writes it.
    pub tax_rate: &'a str,
    pub total: i64,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    /// Phone number in E.164 form.
    pub phone: &'a str,
}

impl RequiredMetadata<'_> {
    /// Lists the required pairs in a fixed order, with values not yet truncated.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            (keys::REGISTRATION_ID, self.registration_id.to_string()),
            (keys::EVENT_ID, self.event_id.to_owned()),
            (keys::DAYS, self.days.join(",")),
            (keys::PARTICIPANTS, self.participants.to_string()),
            (keys::CURRENCY, self.currency.to_ascii_lowercase()),
            (keys::SUBTOTAL, self.subtotal.to_string()),
        ];
        // Stripe drops a metadata key whose value is empty, so an absent code is left out
        // instead of being sent as "".
        if let Some(code) = self.discount_code {
            pairs.push((keys::DISCOUNT_CODE, code.to_owned()));
        }
        pairs.extend([
            (keys::DISCOUNT_AMOUNT, self.discount_amount.to_string()),
            (keys::TAX, self.tax.to_string()),
            (keys::TAX_RATE, self.tax_rate.to_owned()),
            (keys::TOTAL, self.total.to_string()),
            (keys::FIRST_NAME, self.first_name.to_owned()),
            (keys::LAST_NAME, self.last_name.to_owned()),
            (keys::EMAIL, self.email.to_owned()),
            (keys::PHONE, self.phone.to_owned()),
        ]);
        pairs
    }
}

/// Builds PaymentIntent metadata within Stripe's limits, in the order it should be sent.
///
/// The required keys come first, with values cut to [`MAX_VALUE_CHARS`]. Then come as many
/// of `extra_fields`, in their order, as fit into [`MAX_KEYS`]. Each extra field's key is
/// [`sanitize_field_key`] of its name, made unique with a `_2`, `_3`, … suffix, and its
/// value is cut to [`MAX_VALUE_CHARS`]. When any extra field is left out, or its name or
/// value is cut, one key is kept free for [`keys::FIELDS_TRUNCATED`], whose value is the
/// number of such fields.
pub fn build_metadata(
    required: &RequiredMetadata<'_>,
    extra_fields: &[ExtraField],
) -> Vec<(String, String)> {
    let mut metadata: Vec<(String, String)> = required
        .pairs()
        .into_iter()
        .map(|(key, value)| (key.to_owned(), truncate_chars(&value, MAX_VALUE_CHARS)))
        .collect();

    let mut used_keys: HashSet<String> = metadata.iter().map(|(key, _)| key.clone()).collect();
    used_keys.insert(keys::FIELDS_TRUNCATED.to_owned());

    let mut prepared = Vec::with_capacity(extra_fields.len());
    for field in extra_fields {
        let key = sanitize_field_key(&field.name);
        let name_cut = key.chars().count() < EXTRA_FIELD_PREFIX.len() + field.name.chars().count();
        let key = unique_key(key, &used_keys);
        used_keys.insert(key.clone());

        let value = truncate_chars(&field.value, MAX_VALUE_CHARS);
        let value_cut = value.len() < field.value.len();
        prepared.push((key, value, name_cut || value_cut));
    }

    let free_keys = MAX_KEYS.saturating_sub(metadata.len());
    let any_cut = prepared.iter().any(|(_, _, cut)| *cut);
    if prepared.len() <= free_keys && !any_cut {
        metadata.extend(prepared.into_iter().map(|(key, value, _)| (key, value)));
        return metadata;
    }

    // One key stays free for the count of fields that were left out or cut.
    let kept_count = prepared.len().min(free_keys.saturating_sub(1));
    let left_out = prepared.len() - kept_count;
    let mut truncated_count = left_out;
    for (key, value, cut) in prepared.into_iter().take(kept_count) {
        if cut {
            truncated_count += 1;
        }
        metadata.push((key, value));
    }
    if metadata.len() < MAX_KEYS {
        metadata.push((
            keys::FIELDS_TRUNCATED.to_owned(),
            truncated_count.to_string(),
        ));
    }
    metadata
}

/// Turns a form field name into a metadata key: [`EXTRA_FIELD_PREFIX`] followed by the name
/// with every character other than an ASCII letter, digit, `_` or `-` replaced by `_`, cut to
/// [`MAX_KEY_CHARS`].
pub fn sanitize_field_key(name: &str) -> String {
    let mut key = String::from(EXTRA_FIELD_PREFIX);
    for character in name.chars() {
        if key.len() == MAX_KEY_CHARS {
            break;
        }
        if character.is_ascii_alphanumeric() || character == '_' || character == '-' {
            key.push(character);
        } else {
            key.push('_');
        }
    }
    key
}

/// Returns `key`, or `key` with the smallest suffix `_2`, `_3`, … that is not in `used`,
/// shortening `key` so that the result keeps within [`MAX_KEY_CHARS`].
fn unique_key(key: String, used: &HashSet<String>) -> String {
    if !used.contains(&key) {
        return key;
    }
    let mut number = 2_usize;
    loop {
        let suffix = format!("_{number}");
        // Keys from `sanitize_field_key` are ASCII, so byte and character counts agree.
        let base_len = key.len().min(MAX_KEY_CHARS - suffix.len());
        let candidate = format!("{}{suffix}", &key[..base_len]);
        if !used.contains(&candidate) {
            return candidate;
        }
        number += 1;
    }
}

/// Returns the first `max_chars` characters of `text`.
fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((byte_index, _)) => text[..byte_index].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days() -> Vec<String> {
        vec!["2027-06-12".to_owned(), "2027-06-13".to_owned()]
    }

    fn required(days: &[String]) -> RequiredMetadata<'_> {
        RequiredMetadata {
            registration_id: Uuid::parse_str("9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b").unwrap(),
            event_id: "harbor-classic-2027",
            days,
            participants: 2,
            currency: "USD",
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
        }
    }

    fn field(name: &str, value: &str) -> ExtraField {
        ExtraField {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    fn value_of<'a>(metadata: &'a [(String, String)], key: &str) -> Option<&'a str> {
        metadata
            .iter()
            .find(|(candidate, _)| candidate == key)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn oversized_fields_fit_stripe_limits() {
        let days = days();
        let fields: Vec<ExtraField> = (0..60)
            .map(|index| {
                let name = format!("{index:02}-{}", "n[a]me".repeat(7));
                assert_eq!(name.chars().count(), 45);
                field(&name, &"v".repeat(1_200))
            })
            .collect();

        let metadata = build_metadata(&required(&days), &fields);

        assert!(metadata.len() <= MAX_KEYS, "{} keys", metadata.len());
        for (key, value) in &metadata {
            assert!(key.chars().count() <= MAX_KEY_CHARS, "key too long: {key}");
            assert!(
                !key.contains('[') && !key.contains(']'),
                "bracket in key: {key}"
            );
            assert!(
                value.chars().count() <= MAX_VALUE_CHARS,
                "value too long for {key}"
            );
        }
        let unique: HashSet<&String> = metadata.iter().map(|(key, _)| key).collect();
        assert_eq!(unique.len(), metadata.len(), "duplicate keys");
        assert_eq!(
            value_of(&metadata, keys::REGISTRATION_ID),
            Some("9b2f3c1e-4d5a-4e6f-8a7b-1c2d3e4f5a6b")
        );
        // 15 required keys and `fields_truncated` leave room for 34 of the 60 fields, and
        // every kept field was cut, so all 60 count.
        assert_eq!(metadata.len(), MAX_KEYS);
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), Some("60"));
    }

    #[test]
    fn required_keys_come_first_in_order() {
        let days = days();
        let metadata = build_metadata(&required(&days), &[field("club", "Harbor RC")]);

        let keys: Vec<&str> = metadata.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "registration_id",
                "event_id",
                "days",
                "participants",
                "currency",
                "subtotal",
                "discount_code",
                "discount_amount",
                "tax",
                "tax_rate",
                "total",
                "first_name",
                "last_name",
                "email",
                "phone",
                "f_club",
            ]
        );
        assert_eq!(
            value_of(&metadata, keys::DAYS),
            Some("2027-06-12,2027-06-13")
        );
        assert_eq!(value_of(&metadata, keys::CURRENCY), Some("usd"));
        assert_eq!(value_of(&metadata, keys::TOTAL), Some("11691"));
        assert_eq!(value_of(&metadata, "f_club"), Some("Harbor RC"));
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), None);
    }

    #[test]
    fn absent_discount_code_is_left_out() {
        let days = days();
        let mut required = required(&days);
        required.discount_code = None;
        required.discount_amount = 0;

        let metadata = build_metadata(&required, &[]);

        assert_eq!(metadata.len(), 14);
        assert_eq!(value_of(&metadata, keys::DISCOUNT_CODE), None);
        assert_eq!(value_of(&metadata, keys::DISCOUNT_AMOUNT), Some("0"));
    }

    #[test]
    fn fields_that_fit_exactly_need_no_marker() {
        let days = days();
        let fields: Vec<ExtraField> = (0..35).map(|i| field(&format!("q{i}"), "yes")).collect();

        let metadata = build_metadata(&required(&days), &fields);

        assert_eq!(metadata.len(), MAX_KEYS);
        assert_eq!(value_of(&metadata, "f_q34"), Some("yes"));
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), None);
    }

    #[test]
    fn one_field_too_many_reserves_marker_key() {
        let days = days();
        let fields: Vec<ExtraField> = (0..36).map(|i| field(&format!("q{i}"), "yes")).collect();

        let metadata = build_metadata(&required(&days), &fields);

        assert_eq!(metadata.len(), MAX_KEYS);
        assert_eq!(value_of(&metadata, "f_q33"), Some("yes"));
        assert_eq!(value_of(&metadata, "f_q34"), None);
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), Some("2"));
    }

    #[test]
    fn long_value_is_cut_on_char_boundary() {
        let days = days();
        let value = "é".repeat(MAX_VALUE_CHARS + 1);

        let metadata = build_metadata(&required(&days), &[field("note", &value)]);

        let truncated_value = value_of(&metadata, "f_note").unwrap();
        assert_eq!(truncated_value.chars().count(), MAX_VALUE_CHARS);
        assert!(truncated_value.chars().all(|character| character == 'é'));
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), Some("1"));
    }

    #[test]
    fn value_of_exact_limit_is_kept_whole() {
        let days = days();
        let value = "é".repeat(MAX_VALUE_CHARS);

        let metadata = build_metadata(&required(&days), &[field("note", &value)]);

        assert_eq!(value_of(&metadata, "f_note"), Some(value.as_str()));
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), None);
    }

    #[test]
    fn long_required_value_is_cut() {
        let days = days();
        let first_name = "A".repeat(MAX_VALUE_CHARS + 20);
        let mut required = required(&days);
        required.first_name = &first_name;

        let metadata = build_metadata(&required, &[]);

        let first_name = value_of(&metadata, keys::FIRST_NAME).unwrap();
        assert_eq!(first_name.chars().count(), MAX_VALUE_CHARS);
        let marker = value_of(&metadata, keys::FIELDS_TRUNCATED);
        assert_eq!(marker, None, "only extra fields are counted");
    }

    #[test]
    fn field_key_replaces_unsafe_characters() {
        assert_eq!(sanitize_field_key("shirt[size]"), "f_shirt_size_");
        assert_eq!(sanitize_field_key("Größe"), "f_Gr__e");
        assert_eq!(
            sanitize_field_key("emergency-contact_1"),
            "f_emergency-contact_1"
        );
        assert_eq!(sanitize_field_key(""), "f_");
    }

    #[test]
    fn field_key_is_cut_to_max_length() {
        let key = sanitize_field_key(&"x".repeat(100));

        assert_eq!(key.len(), MAX_KEY_CHARS);
        assert!(key.starts_with(EXTRA_FIELD_PREFIX));
    }

    #[test]
    fn colliding_field_keys_get_suffixes() {
        let days = days();
        let long = "x".repeat(60);
        let fields = [
            field("a[b]", "1"),
            field("a_b_", "2"),
            field("a(b)", "3"),
            field(&long, "4"),
            field(&format!("{long}y"), "5"),
        ];

        let metadata = build_metadata(&required(&days), &fields);

        assert_eq!(value_of(&metadata, "f_a_b_"), Some("1"));
        assert_eq!(value_of(&metadata, "f_a_b__2"), Some("2"));
        assert_eq!(value_of(&metadata, "f_a_b__3"), Some("3"));
        let long_key = format!("f_{}", "x".repeat(38));
        assert_eq!(value_of(&metadata, &long_key), Some("4"));
        let suffixed_key = format!("f_{}_2", "x".repeat(36));
        assert_eq!(value_of(&metadata, &suffixed_key), Some("5"));
        // Both long names lost characters to the 40-character key limit.
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), Some("2"));
    }

    #[test]
    fn field_named_like_marker_stays_apart() {
        let days = days();
        let metadata = build_metadata(&required(&days), &[field("fields_truncated", "x")]);

        assert_eq!(value_of(&metadata, "f_fields_truncated"), Some("x"));
        assert_eq!(value_of(&metadata, keys::FIELDS_TRUNCATED), None);
    }
}
