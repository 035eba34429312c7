//! Server-side pricing: the one place where a quote is computed.
//!
//! The rule, applied once per order and in integer minor units:
//! 1. subtotal = the chosen days' prices, or the event's full-event price when every day is
//!    chosen and that price is lower; times the number of participants;
//! 2. discount = the code's amount, applied before tax and never more than the subtotal;
//! 3. tax = (subtotal − discount) × tax rate, rounded half away from zero to the minor unit;
//! 4. total = subtotal − discount + tax.

use crate::catalog::{Catalog, Day, Event};
use crate::discount::DiscountCode;
use crate::money::Currency;
use crate::rate::Rate;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The maximum number of participants one registration may cover.
pub const MAX_PARTICIPANTS: u32 = 50;

/// A validated choice of event, days and number of participants.
#[derive(Debug, Clone)]
pub struct Basket<'a> {
    pub event: &'a Event,
    /// The chosen days in date order, without repeats.
    pub days: Vec<&'a Day>,
    pub participants: u32,
}

impl<'a> Basket<'a> {
    /// Validates a basket as the website sends it.
    ///
    /// Errors name the request field: `event_id`, `days`, `days[i]` or `quantity`.
    pub fn new(
        catalog: &'a Catalog,
        event_id: &str,
        days: &[String],
        participants: u32,
    ) -> Result<Self, FieldError> {
        let event = catalog.event(event_id.trim()).ok_or_else(|| {
            FieldError::new("event_id", format!("no event has id `{}`", event_id.trim()))
        })?;
        if days.is_empty() {
            return Err(FieldError::new(
                "days",
                "choose at least one day of the event",
            ));
        }

        let mut chosen: Vec<&Day> = Vec::with_capacity(days.len());
        for (index, text) in days.iter().enumerate() {
            let field = format!("days[{index}]");
            let date = crate::catalog::parse_date(text)
                .map_err(|message| FieldError::new(&field, message))?;
            let day = event.day(date).ok_or_else(|| {
                FieldError::new(
                    &field,
                    format!(
                        "{date} is not a day of event `{}`; choose one of its days",
                        event.id
                    ),
                )
            })?;
            if chosen.iter().any(|known| known.date == date) {
                return Err(FieldError::new(&field, format!("{date} is chosen twice")));
            }
            chosen.push(day);
        }
        chosen.sort_by_key(|day| day.date);

        if participants == 0 || participants > MAX_PARTICIPANTS {
            return Err(FieldError::new(
                "quantity",
                format!("the number of participants must be between 1 and {MAX_PARTICIPANTS}"),
            ));
        }

        Ok(Self {
            event,
            days: chosen,
            participants,
        })
    }

    /// True when every day of the event is chosen.
    pub fn is_full_event(&self) -> bool {
        self.days.len() == self.event.days.len()
    }
}

/// One priced line of a quote: a single day, or the whole event at its full-event price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    /// The title shown to the buyer, such as `Spring Classic: Saturday (2027-04-17)`.
    pub title: String,
    /// The dates this line covers, as `YYYY-MM-DD`.
    pub days: Vec<String>,
    /// Price for one participant, in minor units.
    pub unit_price: i64,
    /// Number of participants.
    pub quantity: u32,
    /// `unit_price × quantity`.
    pub amount: i64,
}

/// A discount code that was applied to a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    /// The normalised code.
    pub code: String,
    /// Amount taken off the subtotal, in minor units.
    pub amount: i64,
}

/// A full price quote. All amounts are in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub event_id: String,
    pub currency: Currency,
    pub lines: Vec<QuoteLine>,
    pub subtotal: i64,
    pub discount: Option<AppliedDiscount>,
    pub tax_rate: Rate,
    pub tax_title: String,
    pub tax: i64,
    pub total: i64,
}

/// An arithmetic overflow: only reachable with absurd catalog prices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the price of this basket is too large to compute")]
pub struct PriceOverflow;

impl Quote {
    /// Returns the discount amount, zero without a code.
    pub fn discount_amount(&self) -> i64 {
        self.discount.as_ref().map_or(0, |discount| discount.amount)
    }

    /// Returns the amount tax is charged on: subtotal minus discount.
    pub fn taxable_amount(&self) -> i64 {
        self.subtotal - self.discount_amount()
    }

    /// Returns a stable hash of everything that decides the charge, used to tell a double submit
    /// (same hash) from a changed basket (new hash).
    pub fn fingerprint(&self) -> String {
        // Serialising a struct writes fields in declaration order, so equal quotes give
        // equal bytes.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(&Sha256::digest(&bytes)[..16])
    }
}

/// Prices `basket` with an optional discount code that the caller already checked.
pub fn quote(basket: &Basket<'_>, discount: Option<&DiscountCode>) -> Result<Quote, PriceOverflow> {
    let event = basket.event;
    let quantity = basket.participants;
    let line =
        |title: String, days: Vec<String>, unit_price: i64| -> Result<QuoteLine, PriceOverflow> {
            let amount = unit_price
                .checked_mul(i64::from(quantity))
                .ok_or(PriceOverflow)?;
            Ok(QuoteLine {
                title,
                days,
                unit_price,
                quantity,
                amount,
            })
        };

    let days_total = basket
        .days
        .iter()
        .try_fold(0_i64, |sum, day| sum.checked_add(day.price))
        .ok_or(PriceOverflow)?;
    let full_price = event
        .full_event_price
        .filter(|price| basket.is_full_event() && *price < days_total);

    let lines = match full_price {
        Some(price) => {
            let dates = basket.days.iter().map(|day| day.date.to_string()).collect();
            vec![line(format!("{}: full event", event.name), dates, price)?]
        }
        None => basket
            .days
            .iter()
            .map(|day| {
                let title = format!("{}: {} ({})", event.name, day.label, day.date);
                line(title, vec![day.date.to_string()], day.price)
            })
            .collect::<Result<_, _>>()?,
    };

    let subtotal = lines
        .iter()
        .try_fold(0_i64, |sum: i64, line: &QuoteLine| {
            sum.checked_add(line.amount)
        })
        .ok_or(PriceOverflow)?;
    let discount = discount.map(|code| AppliedDiscount {
        code: code.code.clone(),
        amount: code.amount_off(subtotal),
    });
    let taxable = subtotal - discount.as_ref().map_or(0, |applied| applied.amount);
    let tax = event.tax_rate.apply(taxable);
    let total = taxable.checked_add(tax).ok_or(PriceOverflow)?;

    Ok(Quote {
        event_id: event.id.clone(),
        currency: event.currency,
        lines,
        subtotal,
        discount,
        tax_rate: event.tax_rate,
        tax_title: event.tax_title.clone(),
        tax,
        total,
    })
}

#[cfg(test)]
mod tests;
