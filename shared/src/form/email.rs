//! E-mail address normalisation.

use super::Email;
use email_address::{EmailAddress, Options};

/// Maximum length of a whole e-mail address in characters, the usual limit of 254. The
/// `email_address` crate (0.2) checks only the local part (64) and the domain (254) alone.
pub const MAX_EMAIL_CHARS: usize = 254;

impl Email {
    /// Parses an address as a buyer typed it: surrounding spaces removed, lower-cased, and
    /// checked with the `email_address` crate.
    ///
    /// Only a bare address with a dotted domain is accepted, such as `name@example.org`.
    /// Display names (`Ann <ann@example.org>`), IP-address domains and single-label domains
    /// such as `ann@localhost` are rejected, because Stripe and Shopify need an address they
    /// can deliver to. The error message never repeats the address.
    pub fn parse(typed: &str) -> Result<Email, String> {
        let address = typed.trim().to_lowercase();
        if address.is_empty() {
            return Err("is required; enter the buyer's e-mail address".to_owned());
        }
        if address.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!(
                "is longer than {MAX_EMAIL_CHARS} characters; enter a shorter e-mail address"
            ));
        }

        let options = Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        if let Err(error) = EmailAddress::parse_with_options(&address, options) {
            return Err(format!(
                "is not a valid e-mail address ({}); enter one address such as name@example.org",
                describe(&error)
            ));
        }
        Ok(Email(address))
    }
}

/// Rewrites the crate's error message, such as `Invalid character.`, as a lower-case clause
/// without the final period.
fn describe(error: &email_address::Error) -> String {
    let text = error.to_string();
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
