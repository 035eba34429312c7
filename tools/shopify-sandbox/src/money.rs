//! Money amounts as the Admin API prints them.

use rust_decimal::Decimal;

/// Returns the number of minor-unit digits of an ISO 4217 currency (2 for most).
pub fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Formats an amount without trailing zeros but with at least one decimal, as the Admin
/// API prints `Decimal` amounts (`"25.0"`, `"10.5"`, `"9.99"`).
pub fn format_amount(amount: Decimal) -> String {
    let normalized = amount.normalize();
    if normalized.scale() == 0 {
        format!("{normalized}.0")
    } else {
        normalized.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr as _;

    #[test]
    fn amounts_keep_one_decimal() {
        let cases = [
            ("25", "25.0"),
            ("25.00", "25.0"),
            ("10.50", "10.5"),
            ("9.99", "9.99"),
        ];
        for (input, expected) in cases {
            assert_eq!(format_amount(Decimal::from_str(input).unwrap()), expected);
        }
    }

    #[test]
    fn yen_has_no_minor_unit() {
        assert_eq!(currency_exponent("JPY"), 0);
        assert_eq!(currency_exponent("USD"), 2);
    }
}
