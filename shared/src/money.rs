//! Currencies and amounts in integer minor units.
//!
//! Every amount in the pipeline is an `i64` count of the currency's minor unit (cents for
//! USD, yen for JPY). Decimal strings from the catalog are parsed straight into that count,
//! never through floating point, because `19.99 * 100.0` truncates to 1998.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency that the catalog may use, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// Currencies with an exponent other than 2, from ISO 4217 and Stripe's list of
/// zero-decimal and three-decimal currencies. Every other valid code has exponent 2.
const EXPONENT_EXCEPTIONS: &[(&str, u8)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("OMR", 3),
    ("TND", 3),
];

impl Currency {
    /// Parses a three-letter ISO 4217 code, in either case.
    pub fn parse(code: &str) -> Result<Self, String> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes: [u8; 3] = upper
            .as_bytes()
            .try_into()
            .map_err(|_| format!("currency `{code}` is not a three-letter ISO 4217 code"))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(format!(
                "currency `{code}` is not a three-letter ISO 4217 code"
            ));
        }
        let exponent = EXPONENT_EXCEPTIONS
            .iter()
            .find(|(known, _)| *known == upper)
            .map_or(2, |(_, exponent)| *exponent);
        Ok(Self {
            code: bytes,
            exponent,
        })
    }

    /// Returns the upper-case ISO code, such as `USD`.
    pub fn code(&self) -> &str {
        // The constructor only admits ASCII upper-case letters.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Returns the number of decimal places of the minor unit: 2 for USD, 0 for JPY.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// Stripe's minimum charge in minor units. Stripe documents 0.50 USD and an equivalent
    /// amount for other currencies; the values here cover the currencies this business is
    /// likely to use and fall back to 50 minor units.
    pub fn stripe_minimum_charge(&self) -> i64 {
        match self.code() {
            "JPY" => 50,
            "GBP" => 30,
            "HKD" => 400,
            "MXN" => 1000,
            "DKK" => 250,
            "NOK" | "SEK" => 300,
            "CZK" => 1500,
            "HUF" => 17500,
            "PLN" => 200,
            "RON" => 200,
            "THB" => 1000,
            "AED" => 200,
            _ => 50,
        }
    }

    /// Parses a decimal string such as `249.00` or `5000` into minor units of this currency.
    pub fn parse_amount(&self, text: &str) -> Result<i64, String> {
        parse_scaled(text, self.exponent as u32)
            .map_err(|reason| format!("amount `{text}` in {}: {reason}", self.code()))
    }

    /// Formats minor units as a decimal string with the currency's number of places.
    pub fn format_amount(&self, minor: i64) -> String {
        format_scaled(minor, self.exponent as u32)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

/// Parses a non-negative decimal string into an integer scaled by `10^places`.
///
/// Rejects signs, exponents, more fractional digits than `places` (so nothing is rounded
/// away silently) and values that do not fit in an `i64`.
pub fn parse_scaled(text: &str, places: u32) -> Result<i64, String> {
    let text = text.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
        return Err("expected a plain decimal number such as 19.99".to_owned());
    }
    if text.ends_with('.') {
        return Err("expected digits after the decimal point".to_owned());
    }
    if fraction.len() > places as usize {
        return Err(format!("at most {places} decimal places are allowed"));
    }
    let too_large = || "the number is too large".to_owned();
    let scale = 10_i64.checked_pow(places).ok_or_else(too_large)?;
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let padded = format!("{fraction:0<width$}", width = places as usize);
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| too_large())?
    };
    whole
        .checked_mul(scale)
        .and_then(|scaled| scaled.checked_add(fraction))
        .ok_or_else(too_large)
}

/// Formats an integer scaled by `10^places` as a decimal string.
pub fn format_scaled(value: i64, places: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    if places == 0 {
        return format!("{sign}{magnitude}");
    }
    let scale = 10_u64.pow(places);
    format!(
        "{sign}{}.{:0width$}",
        magnitude / scale,
        magnitude % scale,
        width = places as usize
    )
}

/// Divides `numerator` by a positive `denominator`, rounding half away from zero.
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.abs() * 2 >= denominator {
        quotient + numerator.signum()
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_amount_avoids_float_truncation() {
        let usd = Currency::parse("usd").unwrap();
        assert_eq!(usd.parse_amount("19.99"), Ok(1999));
        assert_eq!(usd.parse_amount("8.20"), Ok(820));
        assert_eq!(usd.parse_amount("17.99"), Ok(1799));
        assert_eq!(usd.parse_amount("4.35"), Ok(435));
        assert_eq!(usd.parse_amount("8.2"), Ok(820));
        assert_eq!(usd.parse_amount("249"), Ok(24900));
    }

    #[test]
    fn zero_decimal_currency_keeps_whole_units() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.exponent(), 0);
        assert_eq!(jpy.parse_amount("5000"), Ok(5000));
        assert!(jpy.parse_amount("5000.5").is_err());
    }

    #[test]
    fn three_decimal_currency() {
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.parse_amount("1.234"), Ok(1234));
        assert_eq!(kwd.format_amount(1234), "1.234");
    }

    #[test]
    fn parse_amount_rejects_malformed_text() {
        let usd = Currency::parse("USD").unwrap();
        for bad in [
            "", "-1.00", "1.999", "1e3", "1,50", ".50", "1.", "abc", "+1",
        ] {
            assert!(usd.parse_amount(bad).is_err(), "accepted {bad:?}");
        }
        assert!(usd.parse_amount("999999999999999999999").is_err());
    }

    #[test]
    fn currency_rejects_bad_codes() {
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("US1").is_err());
        assert!(Currency::parse("DOLLAR").is_err());
    }

    #[test]
    fn format_amount_pads_fraction() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(usd.format_amount(27390), "273.90");
        assert_eq!(usd.format_amount(5), "0.05");
        assert_eq!(usd.format_amount(-5), "-0.05");
    }

    #[test]
    fn rounding_goes_half_away_from_zero() {
        assert_eq!(div_round_half_away(25, 10), 3);
        assert_eq!(div_round_half_away(24, 10), 2);
        assert_eq!(div_round_half_away(-25, 10), -3);
        assert_eq!(div_round_half_away(-24, 10), -2);
        assert_eq!(div_round_half_away(0, 10), 0);
    }
}
