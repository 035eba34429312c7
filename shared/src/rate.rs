//! Rates (tax rates and percentage discounts) as exact integers.

use crate::money::{div_round_half_away, format_scaled, parse_scaled};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Parts per million of the whole: a 10 % tax rate is 100 000.
const ONE: i64 = 1_000_000;

/// A fraction between 0 and 1 kept as an integer number of parts per million, so that
/// applying it to an amount is exact integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate {
    parts_per_million: i64,
}

impl Rate {
    /// The rate of nothing, 0 %.
    pub const ZERO: Rate = Rate {
        parts_per_million: 0,
    };

    /// Parses a fraction written as a decimal string, such as `0.10` for 10 %, with at most
    /// six decimal places.
    pub fn from_fraction(text: &str) -> Result<Self, String> {
        let parts_per_million =
            parse_scaled(text, 6).map_err(|reason| format!("`{text}`: {reason}"))?;
        Self::checked(parts_per_million, text)
    }

    /// Parses a percentage written as a decimal string, such as `12.5` for 12.5 %, with at
    /// most four decimal places.
    pub fn from_percent(text: &str) -> Result<Self, String> {
        let parts_per_million =
            parse_scaled(text, 4).map_err(|reason| format!("`{text}`: {reason}"))?;
        Self::checked(parts_per_million, text)
    }

    fn checked(parts_per_million: i64, text: &str) -> Result<Self, String> {
        if parts_per_million > ONE {
            return Err(format!("`{text}` is more than 100 %"));
        }
        Ok(Self { parts_per_million })
    }

    /// Multiplies `amount` by this rate, rounding half away from zero to a whole minor unit.
    pub fn apply(&self, amount: i64) -> i64 {
        let product = i128::from(amount) * i128::from(self.parts_per_million);
        // The rate is at most one, so the result is never larger than `amount`.
        div_round_half_away(product, i128::from(ONE)) as i64
    }

    /// True for a 0 % rate.
    pub fn is_zero(&self) -> bool {
        self.parts_per_million == 0
    }

    /// True for a 100 % rate.
    pub fn is_whole(&self) -> bool {
        self.parts_per_million == ONE
    }

    /// Formats the rate as a decimal fraction with trailing zeros removed, such as `0.1`.
    pub fn to_fraction_string(&self) -> String {
        trim_zeros(format_scaled(self.parts_per_million, 6))
    }

    /// Formats the rate as a percentage with trailing zeros removed, such as `12.5`.
    pub fn to_percent_string(&self) -> String {
        trim_zeros(format_scaled(self.parts_per_million, 4))
    }

    /// Parts per million, for code that has to hand the rate to another system.
    pub fn parts_per_million(&self) -> i64 {
        self.parts_per_million
    }
}

fn trim_zeros(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_fraction_string())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rate::from_fraction(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_and_percent_agree() {
        assert_eq!(Rate::from_fraction("0.10"), Rate::from_percent("10"));
        assert_eq!(Rate::from_fraction("0.125"), Rate::from_percent("12.5"));
    }

    #[test]
    fn apply_rounds_half_away_from_zero() {
        let ten = Rate::from_fraction("0.1").unwrap();
        assert_eq!(ten.apply(24900), 2490);
        assert_eq!(ten.apply(5), 1); // 0.5 rounds up
        assert_eq!(ten.apply(4), 0); // 0.4 rounds down
        let seven_and_a_quarter = Rate::from_percent("7.25").unwrap();
        assert_eq!(seven_and_a_quarter.apply(1999), 145); // 144.9275
    }

    #[test]
    fn rejects_more_than_whole() {
        assert!(Rate::from_fraction("1.01").is_err());
        assert!(Rate::from_percent("100.5").is_err());
        assert!(Rate::from_percent("100").unwrap().is_whole());
    }

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(
            Rate::from_fraction("0.100").unwrap().to_fraction_string(),
            "0.1"
        );
        assert_eq!(
            Rate::from_percent("12.50").unwrap().to_percent_string(),
            "12.5"
        );
        assert_eq!(Rate::ZERO.to_fraction_string(), "0");
    }
}
