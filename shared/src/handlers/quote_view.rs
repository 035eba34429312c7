//! The quote as the website receives it.

use crate::pricing::{Quote, QuoteLine};
use serde::Serialize;

/// A quote with amounts in minor units and, for display, as decimal strings.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteView {
    pub currency: String,
    /// Decimal places of the currency's minor unit (2 for USD, 0 for JPY).
    pub exponent: u8,
    pub lines: Vec<QuoteLine>,
    pub subtotal: i64,
    pub discount: i64,
    pub discount_code: Option<String>,
    pub tax: i64,
    /// The tax rate as a fraction, such as `0.1`.
    pub tax_rate: String,
    pub tax_title: String,
    pub total: i64,
    /// The same amounts as decimal strings in the currency, such as `273.90`.
    pub display: DisplayAmounts,
}

/// Amounts formatted for people.
#[derive(Debug, Clone, Serialize)]
pub struct DisplayAmounts {
    pub subtotal: String,
    pub discount: String,
    pub tax: String,
    pub total: String,
}

impl From<&Quote> for QuoteView {
    fn from(quote: &Quote) -> Self {
        let format = |minor| quote.currency.format_amount(minor);
        Self {
            currency: quote.currency.code().to_owned(),
            exponent: quote.currency.exponent(),
            lines: quote.lines.clone(),
            subtotal: quote.subtotal,
            discount: quote.discount_amount(),
            discount_code: quote.discount.as_ref().map(|applied| applied.code.clone()),
            tax: quote.tax,
            tax_rate: quote.tax_rate.to_fraction_string(),
            tax_title: quote.tax_title.clone(),
            total: quote.total,
            display: DisplayAmounts {
                subtotal: format(quote.subtotal),
                discount: format(quote.discount_amount()),
                tax: format(quote.tax),
                total: format(quote.total),
            },
        }
    }
}
