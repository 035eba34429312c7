use super::*;
use crate::orders::ledger_dynamo::MAX_REASON_CHARS;
use time::macros::datetime;

const NOW: i64 = 1_800_000_000;
const TTL: i64 = 3_600;

fn names(update: &DayUpdate) -> Vec<(&str, &str)> {
    let mut names: Vec<_> = update
        .names
        .iter()
        .map(|(placeholder, name)| (placeholder.as_str(), name.as_str()))
        .collect();
    names.sort_unstable();
    names
}

fn value<'a>(update: &'a DayUpdate, placeholder: &str) -> &'a AttributeValue {
    update
        .values
        .get(placeholder)
        .unwrap_or_else(|| panic!("no value for {placeholder}: {:?}", update.values))
}

#[test]
fn utc_date_splits_at_midnight() {
    let last_second = datetime!(2027-03-01 23:59:59 UTC).unix_timestamp();
    let midnight = datetime!(2027-03-02 00:00:00 UTC).unix_timestamp();

    assert_eq!(utc_date(last_second).as_deref(), Some("2027-03-01"));
    assert_eq!(utc_date(midnight).as_deref(), Some("2027-03-02"));
}

#[test]
fn utc_date_out_of_range() {
    assert_eq!(utc_date(i64::MAX), None);
    assert_eq!(utc_date(i64::MIN), None);
}

#[test]
fn update_adds_each_counter() {
    let mut tally = Tally::default();
    tally.add(Counter::DiscountValid);
    tally.add_many(Counter::ShopifyRetries, 3);

    let update = DayUpdate::new(&tally, "2027-01-31", NOW, TTL);

    assert_eq!(
        update.expression,
        "SET #date = :date, #expires_at = :expires_at \
         ADD #discount_valid :discount_valid, #shopify_retries :shopify_retries"
    );
    assert_eq!(
        names(&update),
        [
            ("#date", "date"),
            ("#discount_valid", "discount_valid"),
            ("#expires_at", "expires_at"),
            ("#shopify_retries", "shopify_retries"),
        ]
    );
    assert_eq!(update.values.len(), 4);
    assert_eq!(value(&update, ":date"), &string("2027-01-31"));
    assert_eq!(value(&update, ":expires_at"), &number(NOW + TTL));
    assert_eq!(value(&update, ":discount_valid"), &number(1));
    assert_eq!(value(&update, ":shopify_retries"), &number(3));
}

#[test]
fn update_sets_last_order_and_failure() {
    let tally = Tally {
        last_order_at: Some(NOW - 5),
        last_failure: Some((NOW - 2, "shopify: HTTP 503".to_owned())),
        ..Tally::default()
    };

    let update = DayUpdate::new(&tally, "2027-01-31", NOW, TTL);

    // Without a counter that moved, the expression has no ADD clause.
    assert_eq!(
        update.expression,
        "SET #date = :date, #expires_at = :expires_at, #last_order_at = :last_order_at, \
         #last_failure_at = :last_failure_at, #last_failure_reason = :last_failure_reason"
    );
    assert_eq!(update.names.len(), 5);
    assert_eq!(value(&update, ":last_order_at"), &number(NOW - 5));
    assert_eq!(value(&update, ":last_failure_at"), &number(NOW - 2));
    assert_eq!(
        value(&update, ":last_failure_reason"),
        &string("shopify: HTTP 503")
    );
}

#[test]
fn update_truncates_failure_reason() {
    let tally = Tally {
        last_failure: Some((NOW, "é".repeat(MAX_REASON_CHARS + 40))),
        ..Tally::default()
    };

    let update = DayUpdate::new(&tally, "2027-01-31", NOW, TTL);

    let AttributeValue::S(reason) = value(&update, ":last_failure_reason") else {
        panic!("the reason is not a string");
    };
    assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
}

#[test]
fn update_saturates_expiry() {
    let mut tally = Tally::default();
    tally.add(Counter::OrdersCreated);

    let update = DayUpdate::new(&tally, "2027-01-31", i64::MAX - 1, TTL);

    assert_eq!(value(&update, ":expires_at"), &number(i64::MAX));
}

#[test]
fn update_names_every_counter() {
    let mut tally = Tally::default();
    for counter in Counter::ALL {
        tally.add(counter);
    }

    let update = DayUpdate::new(&tally, "2027-01-31", NOW, TTL);

    for counter in Counter::ALL {
        let placeholder = format!("#{}", counter.name());
        assert_eq!(
            update.names.get(&placeholder).map(String::as_str),
            Some(counter.name())
        );
        assert!(
            update
                .expression
                .contains(&format!("{placeholder} :{}", counter.name())),
            "{}",
            update.expression
        );
    }
    assert_eq!(update.expression.matches(" ADD ").count(), 1);
}

#[test]
fn check_date_accepts_calendar_days() {
    assert!(check_date("2027-01-31").is_ok());
    assert!(check_date("2028-02-29").is_ok());
}

#[test]
fn check_date_rejects_other_text() {
    for date in [
        "2027-02-30",
        "2027-1-31",
        "today",
        "",
        "2027-01-31T00:00:00Z",
    ] {
        let error = check_date(date).unwrap_err();
        assert!(error.0.contains("YYYY-MM-DD"), "{date}: {error}");
    }
}

#[test]
fn empty_day_counts_zero() {
    let day = empty_day("2027-01-31");

    assert_eq!(day.date, "2027-01-31");
    assert_eq!(day.counts.len(), Counter::ALL.len());
    assert!(day.counts.iter().all(|(_, count)| *count == 0));
    assert_eq!(day.last_order_at, None);
    assert_eq!(day.last_failure_reason, None);
}

#[test]
fn decode_day_defaults_missing_counters() {
    let item = Item::from([
        ("orders_created".to_owned(), number(4)),
        (LAST_ORDER_AT.to_owned(), number(NOW)),
        (LAST_FAILURE_AT.to_owned(), number(NOW - 1)),
        (LAST_FAILURE_REASON.to_owned(), string("shopify: HTTP 503")),
    ]);

    let day = decode_day(&item, "2027-01-31").unwrap();

    assert_eq!(day.count(Counter::OrdersCreated), 4);
    assert_eq!(day.count(Counter::OrdersFailed), 0);
    assert_eq!(day.counts.len(), Counter::ALL.len());
    assert_eq!(day.last_order_at, Some(NOW));
    assert_eq!(day.last_failure_at, Some(NOW - 1));
    assert_eq!(
        day.last_failure_reason.as_deref(),
        Some("shopify: HTTP 503")
    );
}

#[test]
fn decode_day_rejects_bad_attributes() {
    let negative = Item::from([("orders_created".to_owned(), number(-1))]);
    let error = decode_day(&negative, "2027-01-31").unwrap_err();
    assert!(error.0.contains("`orders_created`"), "{error}");
    assert!(error.0.contains("2027-01-31"), "{error}");

    let text = Item::from([(LAST_ORDER_AT.to_owned(), string("yesterday"))]);
    let error = decode_day(&text, "2027-01-31").unwrap_err();
    assert!(error.0.contains("type N"), "{error}");
}
