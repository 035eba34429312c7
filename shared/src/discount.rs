//! Discount codes and the rules that decide whether one applies.

use crate::catalog::{Catalog, Event};
use crate::money::Currency;
use crate::rate::Rate;
use serde::Serialize;
use time::OffsetDateTime;

/// How much a code takes off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountAmount {
    /// A share of the subtotal, such as 10 %.
    Percent(Rate),
    /// A fixed amount off the whole order, only for events priced in `currency`.
    Fixed { currency: Currency, minor: i64 },
}

/// A discount code from the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountCode {
    /// The code in its normalised form: trimmed and upper-case.
    pub code: String,
    pub amount: DiscountAmount,
    /// Ids of the events the code applies to; `None` means every event.
    pub events: Option<Vec<String>>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub active: bool,
}

/// The reason a typed code does not apply. The serialised names are part of the
/// `validate-discount` response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DiscountRejection {
    #[error("this discount code does not exist")]
    Unknown,
    #[error("this discount code has expired")]
    Expired,
    #[error("this discount code is not valid yet")]
    NotYetValid,
    #[error("this discount code does not apply to this event")]
    NotApplicable,
    #[error("this discount code is no longer active")]
    Inactive,
}

impl DiscountCode {
    /// Normalises a code as typed by a buyer: surrounding spaces removed, upper-case.
    pub fn normalize(typed: &str) -> String {
        typed.trim().to_uppercase()
    }

    /// Checks that the code can be used for `event` at `now`.
    ///
    /// An inactive code is reported as inactive even when it would also be out of its
    /// window, because that is what staff changed on purpose.
    pub fn check(&self, event: &Event, now: OffsetDateTime) -> Result<(), DiscountRejection> {
        if !self.active {
            return Err(DiscountRejection::Inactive);
        }
        if let Some(ids) = &self.events {
            if !ids.iter().any(|id| id == &event.id) {
                return Err(DiscountRejection::NotApplicable);
            }
        }
        if let DiscountAmount::Fixed { currency, .. } = &self.amount {
            if *currency != event.currency {
                return Err(DiscountRejection::NotApplicable);
            }
        }
        if self.starts_at.is_some_and(|start| now < start) {
            return Err(DiscountRejection::NotYetValid);
        }
        if self.ends_at.is_some_and(|end| now >= end) {
            return Err(DiscountRejection::Expired);
        }
        Ok(())
    }

    /// Computes the amount this code takes off `subtotal`, never more than the subtotal.
    ///
    /// A percentage is rounded half away from zero to the minor unit; a fixed amount applies
    /// once per order, not per participant.
    pub fn amount_off(&self, subtotal: i64) -> i64 {
        let amount = match &self.amount {
            DiscountAmount::Percent(rate) => rate.apply(subtotal),
            DiscountAmount::Fixed { minor, .. } => *minor,
        };
        amount.clamp(0, subtotal.max(0))
    }
}

/// Looks up `typed` in the catalog and checks it against `event` at `now`.
pub fn find_applicable<'a>(
    catalog: &'a Catalog,
    typed: &str,
    event: &Event,
    now: OffsetDateTime,
) -> Result<&'a DiscountCode, DiscountRejection> {
    let code = catalog.discount(typed).ok_or(DiscountRejection::Unknown)?;
    code.check(event, now)?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const CATALOG: &str = r#"
version = 1
[[events]]
id = "race"
name = "Race"
currency = "USD"
tax_rate = "0.10"
tax_title = "Tax"
[[events.days]]
date = "2027-04-17"
label = "Saturday"
price = "100.00"
[[events]]
id = "other"
name = "Other"
currency = "JPY"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-04-17"
label = "Saturday"
price = "5000"
[[discounts]]
code = "Spring"
percent_off = "10"
events = ["race"]
starts_at = "2027-01-01T00:00:00Z"
ends_at = "2027-04-01T00:00:00Z"
active = true
[[discounts]]
code = "OLD"
percent_off = "10"
active = false
[[discounts]]
code = "FIVE"
amount_off = "5.00"
currency = "USD"
active = true
"#;

    fn catalog() -> Catalog {
        Catalog::from_toml(CATALOG).unwrap()
    }

    #[test]
    fn each_rejection_reason() {
        let catalog = catalog();
        let race = catalog.event("race").unwrap();
        let other = catalog.event("other").unwrap();
        let inside = datetime!(2027-02-01 00:00 UTC);
        let check =
            |code: &str, event, now| find_applicable(&catalog, code, event, now).map(|_| ());

        assert_eq!(check(" spring ", race, inside), Ok(()));
        assert_eq!(check("NOPE", race, inside), Err(DiscountRejection::Unknown));
        assert_eq!(check("OLD", race, inside), Err(DiscountRejection::Inactive));
        assert_eq!(
            check("SPRING", other, inside),
            Err(DiscountRejection::NotApplicable)
        );
        assert_eq!(
            check("FIVE", other, inside),
            Err(DiscountRejection::NotApplicable)
        );
        assert_eq!(
            check("spring", race, datetime!(2026-12-31 23:59:59 UTC)),
            Err(DiscountRejection::NotYetValid)
        );
        assert_eq!(
            check("spring", race, datetime!(2027-04-01 00:00 UTC)),
            Err(DiscountRejection::Expired)
        );
    }

    #[test]
    fn fixed_amount_never_exceeds_subtotal() {
        let catalog = catalog();
        let five = catalog.discount("five").unwrap();
        assert_eq!(five.amount_off(10_000), 500);
        assert_eq!(five.amount_off(300), 300);
        assert_eq!(five.amount_off(0), 0);
    }

    #[test]
    fn rejection_reasons_serialise_as_snake_case() {
        let json = serde_json::to_string(&DiscountRejection::NotYetValid).unwrap();
        assert_eq!(json, "\"not_yet_valid\"");
    }
}
