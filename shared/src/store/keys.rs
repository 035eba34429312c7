//! Key layout of the single DynamoDB table that every store writes to.
//!
//! The table has a string partition key `pk`, a string sort key `sk` and a TTL attribute
//! `expires_at` (a number of Unix seconds). An item's kind is the prefix of `pk` together
//! with `sk`:
//!
//! | item                     | `pk`                          | `sk`           |
//! | ------------------------ | ----------------------------- | -------------- |
//! | registration             | `REGISTRATION#<uuid>`         | `REGISTRATION` |
//! | PaymentIntent link       | `PAYMENT_INTENT#<pi id>`      | `REGISTRATION` |
//! | order record             | `PAYMENT_INTENT#<pi id>`      | `ORDER`        |
//! | order failure            | `FAILURE`                     | `<pi id>`      |
//! | daily metrics            | `METRICS#<YYYY-MM-DD>`        | `DAY`          |

use uuid::Uuid;

/// Name of the partition key attribute (type S).
pub const PARTITION_KEY: &str = "pk";
/// Name of the sort key attribute (type S).
pub const SORT_KEY: &str = "sk";
/// Name of the TTL attribute (type N, Unix seconds). DynamoDB deletes an item some time
/// after this moment, so a read may still return an expired item.
pub const EXPIRES_AT: &str = "expires_at";

/// Sort key values, one per kind of item under a partition.
pub mod sort_key {
    /// The registration record, or the link from a PaymentIntent to it.
    pub const REGISTRATION: &str = "REGISTRATION";
    /// The order-ledger record of a PaymentIntent.
    pub const ORDER: &str = "ORDER";
    /// The metrics of one UTC day.
    pub const DAY: &str = "DAY";
}

/// Partition key of every order failure. Its sort key is the PaymentIntent id, so all
/// failures share one partition and are listed with a `Query` instead of a `Scan`.
pub const FAILURE_PARTITION: &str = "FAILURE";

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub pk: String,
    pub sk: &'static str,
}

impl ItemKey {
    /// Key of the registration record with id `registration_id`.
    pub fn registration(registration_id: &Uuid) -> Self {
        Self {
            pk: format!("REGISTRATION#{registration_id}"),
            sk: sort_key::REGISTRATION,
        }
    }

    /// Key of the item that links PaymentIntent `payment_intent_id` to its registration.
    pub fn payment_intent_link(payment_intent_id: &str) -> Self {
        Self {
            pk: format!("PAYMENT_INTENT#{payment_intent_id}"),
            sk: sort_key::REGISTRATION,
        }
    }

    /// Key of the order-ledger record of PaymentIntent `payment_intent_id`.
    pub fn order(payment_intent_id: &str) -> Self {
        Self {
            pk: format!("PAYMENT_INTENT#{payment_intent_id}"),
            sk: sort_key::ORDER,
        }
    }

    /// Key of the metrics item of the UTC day `date`, written as `YYYY-MM-DD`.
    pub fn metrics_day(date: &str) -> Self {
        Self {
            pk: format!("METRICS#{date}"),
            sk: sort_key::DAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_key_format() {
        let id = Uuid::parse_str("6f1c1a5e-5b0e-4c57-9a39-0f5e3f0b9d11").unwrap();
        let key = ItemKey::registration(&id);
        assert_eq!(key.pk, "REGISTRATION#6f1c1a5e-5b0e-4c57-9a39-0f5e3f0b9d11");
        assert_eq!(key.sk, "REGISTRATION");
    }

    #[test]
    fn payment_intent_link_key_format() {
        let key = ItemKey::payment_intent_link("pi_123");
        assert_eq!(key.pk, "PAYMENT_INTENT#pi_123");
        assert_eq!(key.sk, "REGISTRATION");
    }

    #[test]
    fn order_key_format() {
        let key = ItemKey::order("pi_123");
        assert_eq!(key.pk, "PAYMENT_INTENT#pi_123");
        assert_eq!(key.sk, "ORDER");
    }

    #[test]
    fn metrics_day_key_format() {
        let key = ItemKey::metrics_day("2027-01-31");
        assert_eq!(key.pk, "METRICS#2027-01-31");
        assert_eq!(key.sk, "DAY");
    }
}
