//! The business's events and discount codes, loaded from `catalog.toml`.
//!
//! The catalog is compiled into every function and validated once at cold start, so a bad
//! entry stops the function from starting instead of mispricing a registration.

mod load;

pub(crate) use load::parse_date;
pub use load::CatalogError;

use crate::discount::DiscountCode;
use crate::money::Currency;
use crate::rate::Rate;
use time::Date;

/// The catalog file bundled with the functions.
pub const BUNDLED_CATALOG: &str = include_str!("../../catalog.toml");

/// One bookable day of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// The calendar date, which is also the day's identifier in requests (`2027-04-17`).
    pub date: Date,
    /// A label shown to buyers and staff, such as `Saturday: qualifying heats`.
    pub label: String,
    /// Price for one participant, in minor units of the event's currency.
    pub price: i64,
}

/// An event that takes registrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub currency: Currency,
    /// Days in date order; never empty.
    pub days: Vec<Day>,
    /// Price for one participant who books every day, when the event offers one.
    pub full_event_price: Option<i64>,
    pub tax_rate: Rate,
    /// The tax's name on quotes and orders, such as `Sales tax`.
    pub tax_title: String,
}

impl Event {
    /// Finds a day by its date.
    pub fn day(&self, date: Date) -> Option<&Day> {
        self.days.iter().find(|day| day.date == date)
    }
}

/// The validated catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The `version` number at the top of the file, reported by the health route.
    pub version: u32,
    events: Vec<Event>,
    discounts: Vec<DiscountCode>,
}

impl Catalog {
    /// Loads and validates the catalog compiled into the binary.
    pub fn bundled() -> Result<Self, CatalogError> {
        Self::from_toml(BUNDLED_CATALOG)
    }

    /// Finds an event by its id.
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|event| event.id == id)
    }

    /// Returns all events, in file order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Finds a discount code as a buyer typed it: surrounding spaces and case are ignored.
    pub fn discount(&self, typed: &str) -> Option<&DiscountCode> {
        let wanted = DiscountCode::normalize(typed);
        self.discounts.iter().find(|code| code.code == wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_is_valid() {
        let catalog = Catalog::bundled().expect("the bundled catalog must load");
        assert!(!catalog.events().is_empty());
    }

    #[test]
    fn discount_lookup_ignores_case_and_spaces() {
        let catalog = Catalog::bundled().unwrap();
        let exact = catalog.discount("EARLY10").map(|code| code.code.clone());
        assert_eq!(exact.as_deref(), Some("EARLY10"));
        assert_eq!(
            catalog.discount("  early10 ").map(|c| &c.code),
            exact.as_ref()
        );
        assert!(catalog.discount("NOPE").is_none());
    }
}
