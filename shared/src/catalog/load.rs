//! Parsing and validation of the catalog file.

use super::{Catalog, Day, Event};
use crate::discount::{DiscountAmount, DiscountCode};
use crate::money::Currency;
use crate::rate::Rate;
use serde::Deserialize;
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// A catalog entry that failed validation, naming the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalog entry {entry}, field `{field}`: {message}")]
pub struct CatalogError {
    /// The entry, such as `events[0] (spring-classic)` or `discounts[2] (EARLY10)`.
    pub entry: String,
    pub field: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    version: u32,
    #[serde(default)]
    events: Vec<RawEvent>,
    #[serde(default)]
    discounts: Vec<RawDiscount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    id: String,
    name: String,
    currency: String,
    #[serde(default)]
    days: Vec<RawDay>,
    full_event_price: Option<String>,
    tax_rate: String,
    tax_title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: String,
    label: String,
    price: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiscount {
    code: String,
    percent_off: Option<String>,
    amount_off: Option<String>,
    currency: Option<String>,
    events: Option<Vec<String>>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    active: bool,
}

/// Builds errors for one entry of the file.
struct Entry(String);

impl Entry {
    fn error(&self, field: impl fmt::Display, message: impl fmt::Display) -> CatalogError {
        CatalogError {
            entry: self.0.clone(),
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

impl Catalog {
    /// Parses and validates catalog text in the format of `catalog.toml`.
    pub fn from_toml(text: &str) -> Result<Self, CatalogError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|error| CatalogError {
            entry: "file".to_owned(),
            field: error
                .span()
                .map_or_else(|| "?".to_owned(), |span| format!("bytes {span:?}")),
            message: error.message().to_owned(),
        })?;

        let mut events = Vec::with_capacity(raw.events.len());
        for (index, event) in raw.events.into_iter().enumerate() {
            let entry = Entry(format!("events[{index}] ({})", event.id));
            if events.iter().any(|known: &Event| known.id == event.id) {
                return Err(entry.error("id", "is used by an earlier event"));
            }
            events.push(validate_event(&entry, event)?);
        }

        let mut discounts: Vec<DiscountCode> = Vec::with_capacity(raw.discounts.len());
        for (index, discount) in raw.discounts.into_iter().enumerate() {
            let entry = Entry(format!("discounts[{index}] ({})", discount.code.trim()));
            let discount = validate_discount(&entry, discount, &events)?;
            if discounts.iter().any(|known| known.code == discount.code) {
                return Err(entry.error("code", "is used by an earlier discount code"));
            }
            discounts.push(discount);
        }

        Ok(Self {
            version: raw.version,
            events,
            discounts,
        })
    }
}

fn validate_event(entry: &Entry, raw: RawEvent) -> Result<Event, CatalogError> {
    if raw.id.trim().is_empty() || raw.id.trim() != raw.id {
        return Err(entry.error("id", "must be non-empty without surrounding spaces"));
    }
    if raw.name.trim().is_empty() {
        return Err(entry.error("name", "must not be empty"));
    }
    let currency =
        Currency::parse(&raw.currency).map_err(|message| entry.error("currency", message))?;
    if raw.days.is_empty() {
        return Err(entry.error("days", "an event needs at least one day"));
    }

    let mut days: Vec<Day> = Vec::with_capacity(raw.days.len());
    for (index, day) in raw.days.into_iter().enumerate() {
        let field = |name: &str| format!("days[{index}].{name}");
        let date = parse_date(&day.date).map_err(|message| entry.error(field("date"), message))?;
        if days.iter().any(|known| known.date == date) {
            return Err(entry.error(field("date"), "is listed twice"));
        }
        if day.label.trim().is_empty() {
            return Err(entry.error(field("label"), "must not be empty"));
        }
        let price = currency
            .parse_amount(&day.price)
            .map_err(|message| entry.error(field("price"), message))?;
        days.push(Day {
            date,
            label: day.label.trim().to_owned(),
            price,
        });
    }
    days.sort_by_key(|day| day.date);

    let full_event_price = raw
        .full_event_price
        .map(|text| currency.parse_amount(&text))
        .transpose()
        .map_err(|message| entry.error("full_event_price", message))?;
    let tax_rate = Rate::from_fraction(&raw.tax_rate)
        .map_err(|message| entry.error("tax_rate", format!("{message}; write 0.10 for 10 %")))?;
    if raw.tax_title.trim().is_empty() {
        return Err(entry.error("tax_title", "must not be empty"));
    }

    Ok(Event {
        id: raw.id,
        name: raw.name.trim().to_owned(),
        currency,
        days,
        full_event_price,
        tax_rate,
        tax_title: raw.tax_title.trim().to_owned(),
    })
}

fn validate_discount(
    entry: &Entry,
    raw: RawDiscount,
    events: &[Event],
) -> Result<DiscountCode, CatalogError> {
    let code = DiscountCode::normalize(&raw.code);
    if code.is_empty() {
        return Err(entry.error("code", "must not be empty"));
    }

    let amount = match (raw.percent_off, raw.amount_off) {
        (Some(percent), None) => {
            if raw.currency.is_some() {
                return Err(entry.error("currency", "only applies to amount_off"));
            }
            let rate = Rate::from_percent(&percent)
                .map_err(|message| entry.error("percent_off", message))?;
            if rate.is_zero() {
                return Err(entry.error("percent_off", "must be more than 0"));
            }
            DiscountAmount::Percent(rate)
        }
        (None, Some(amount)) => {
            let currency_text = raw
                .currency
                .ok_or_else(|| entry.error("currency", "is required with amount_off"))?;
            let currency = Currency::parse(&currency_text)
                .map_err(|message| entry.error("currency", message))?;
            let minor = currency
                .parse_amount(&amount)
                .map_err(|message| entry.error("amount_off", message))?;
            if minor == 0 {
                return Err(entry.error("amount_off", "must be more than 0"));
            }
            DiscountAmount::Fixed { currency, minor }
        }
        _ => {
            return Err(entry.error(
                "percent_off",
                "set exactly one of percent_off and amount_off",
            ))
        }
    };

    if let Some(ids) = &raw.events {
        if ids.is_empty() {
            return Err(entry.error("events", "leave it out to apply the code to every event"));
        }
        for (index, id) in ids.iter().enumerate() {
            if !events.iter().any(|event| &event.id == id) {
                return Err(entry.error(
                    format!("events[{index}]"),
                    format!("no event has id `{id}`"),
                ));
            }
        }
    }

    let starts_at = parse_time(entry, "starts_at", raw.starts_at)?;
    let ends_at = parse_time(entry, "ends_at", raw.ends_at)?;
    if let (Some(start), Some(end)) = (starts_at, ends_at) {
        if start >= end {
            return Err(entry.error("ends_at", "must be later than starts_at"));
        }
    }

    Ok(DiscountCode {
        code,
        amount,
        events: raw.events,
        starts_at,
        ends_at,
        active: raw.active,
    })
}

fn parse_time(
    entry: &Entry,
    field: &str,
    text: Option<String>,
) -> Result<Option<OffsetDateTime>, CatalogError> {
    text.map(|text| {
        OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
            entry.error(
                field,
                format!("`{text}` is not an RFC 3339 time such as 2027-03-01T00:00:00Z"),
            )
        })
    })
    .transpose()
}

/// Parses a calendar date written as `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .map_err(|_| format!("`{text}` is not a date in the form YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"
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
price = "19.99"
"#;

    fn error_for(extra: &str) -> CatalogError {
        Catalog::from_toml(&format!("{EVENT}{extra}")).expect_err("the entry must be rejected")
    }

    #[test]
    fn minimal_catalog_loads() {
        let catalog = Catalog::from_toml(EVENT).unwrap();
        assert_eq!(catalog.event("race").unwrap().days[0].price, 1999);
    }

    #[test]
    fn bad_price_names_entry_and_field() {
        let error = Catalog::from_toml(&EVENT.replace("19.99", "19.999")).unwrap_err();
        assert_eq!(error.entry, "events[0] (race)");
        assert_eq!(error.field, "days[0].price");
    }

    #[test]
    fn bad_tax_rate_names_field() {
        let error = Catalog::from_toml(&EVENT.replace("\"0.10\"", "\"10\"")).unwrap_err();
        assert_eq!(error.field, "tax_rate");
    }

    #[test]
    fn discount_needs_one_amount() {
        let error = error_for("[[discounts]]\ncode = \"X\"\nactive = true\n");
        assert_eq!(error.entry, "discounts[0] (X)");
        assert_eq!(error.field, "percent_off");
    }

    #[test]
    fn discount_unknown_event_is_named() {
        let error = error_for(
            "[[discounts]]\ncode = \"X\"\npercent_off = \"5\"\nevents = [\"nope\"]\nactive = true\n",
        );
        assert_eq!(error.field, "events[0]");
        assert!(error.message.contains("nope"));
    }

    #[test]
    fn duplicate_code_differs_only_in_case() {
        let error = error_for(
            "[[discounts]]\ncode = \"X\"\npercent_off = \"5\"\nactive = true\n\
             [[discounts]]\ncode = \" x \"\npercent_off = \"5\"\nactive = true\n",
        );
        assert_eq!(error.entry, "discounts[1] (x)");
        assert_eq!(error.field, "code");
    }

    #[test]
    fn fixed_discount_needs_currency() {
        let error =
            error_for("[[discounts]]\ncode = \"X\"\namount_off = \"5.00\"\nactive = true\n");
        assert_eq!(error.field, "currency");
    }

    #[test]
    fn window_must_be_ordered() {
        let error = error_for(
            "[[discounts]]\ncode = \"X\"\npercent_off = \"5\"\nactive = true\n\
             starts_at = \"2027-01-02T00:00:00Z\"\nends_at = \"2027-01-01T00:00:00Z\"\n",
        );
        assert_eq!(error.field, "ends_at");
    }

    #[test]
    fn unknown_key_is_rejected() {
        let error = Catalog::from_toml(&EVENT.replace("tax_title", "tax_name")).unwrap_err();
        assert_eq!(error.entry, "file");
        assert!(error.message.contains("tax_name"), "{}", error.message);
    }
}
