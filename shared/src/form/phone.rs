//! Phone number normalisation to E.164.

use super::Phone;
use phonenumber::{country, Mode, ParseError};

/// Maximum length of a typed phone number in characters, spaces and punctuation included.
/// It leaves room for a formatted international number with an extension.
pub const MAX_PHONE_CHARS: usize = 64;

impl Phone {
    /// Parses a number as a buyer typed it and normalises it to E.164.
    ///
    /// A number without a country code (no leading `+` or international prefix) is read as
    /// a number of `default_region`. The number must be valid according to the
    /// `phonenumber` crate (0.3.10, with libphonenumber 9.0.33 metadata), not only well
    /// formed. `raw` keeps the text exactly as typed. An extension such as `ext. 12` is
    /// accepted but is not part of the E.164 form, so only `raw` keeps it. The error
    /// message never repeats the number.
    pub fn parse(typed: &str, default_region: country::Id) -> Result<Phone, String> {
        let trimmed = typed.trim();
        if trimmed.is_empty() {
            return Err("is required; enter a phone number for the buyer".to_owned());
        }
        if trimmed.chars().count() > MAX_PHONE_CHARS {
            return Err(format!(
                "is longer than {MAX_PHONE_CHARS} characters; enter only the phone number"
            ));
        }

        let number = phonenumber::parse(Some(default_region), trimmed)
            .map_err(|error| describe(&error, default_region))?;
        if !number.is_valid() {
            return Err(invalid_number(default_region));
        }

        Ok(Phone {
            e164: number.format().mode(Mode::E164).to_string(),
            raw: typed.to_owned(),
        })
    }
}

/// Explains a parse failure and what to type instead.
fn describe(error: &ParseError, default_region: country::Id) -> String {
    match error {
        ParseError::NoNumber => {
            "does not contain a phone number; enter the digits of the number".to_owned()
        }
        ParseError::InvalidCountryCode => {
            "starts with a country code that does not exist; check the digits after +".to_owned()
        }
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => {
            "is too short to be a phone number; enter the full number with its area code".to_owned()
        }
        ParseError::TooLong => "is too long to be a phone number; check the digits".to_owned(),
        ParseError::MalformedInteger(_) => invalid_number(default_region),
    }
}

fn invalid_number(default_region: country::Id) -> String {
    format!(
        "is not a valid phone number; check the digits, and start a number from outside {} \
         with + and its country code",
        default_region.as_ref()
    )
}
