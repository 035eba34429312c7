use super::*;
use crate::discount::find_applicable;
use proptest::prelude::*;
use time::macros::datetime;

const CATALOG: &str = r#"
version = 1
[[events]]
id = "two-day"
name = "Two Day"
currency = "USD"
full_event_price = "249.00"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-06-12"
label = "Saturday"
price = "149.00"
[[events.days]]
date = "2027-06-13"
label = "Sunday"
price = "149.00"

[[events]]
id = "cheap-full"
name = "Cheap Full"
currency = "USD"
full_event_price = "50.00"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-01-01"
label = "One"
price = "10.00"
[[events.days]]
date = "2027-01-02"
label = "Two"
price = "10.00"

[[events]]
id = "prices"
name = "Prices"
currency = "USD"
tax_rate = "0"
tax_title = "Tax"
[[events.days]]
date = "2027-01-01"
label = "A"
price = "19.99"
[[events.days]]
date = "2027-01-02"
label = "B"
price = "8.20"
[[events.days]]
date = "2027-01-03"
label = "C"
price = "17.99"
[[events.days]]
date = "2027-01-04"
label = "D"
price = "4.35"

[[events]]
id = "yen"
name = "Yen"
currency = "JPY"
tax_rate = "0.10"
tax_title = "Consumption tax"
[[events.days]]
date = "2027-01-01"
label = "Day"
price = "5000"

[[discounts]]
code = "TEN"
percent_off = "10"
active = true
[[discounts]]
code = "FREE100"
percent_off = "100"
active = true
[[discounts]]
code = "BIG"
amount_off = "1000.00"
currency = "USD"
active = true
[[discounts]]
code = "THIRD"
percent_off = "33.3333"
active = true
"#;

fn catalog() -> Catalog {
    Catalog::from_toml(CATALOG).unwrap()
}

fn price(
    catalog: &Catalog,
    event: &str,
    days: &[&str],
    quantity: u32,
    code: Option<&str>,
) -> Quote {
    let days: Vec<String> = days.iter().map(|day| day.to_string()).collect();
    let basket = Basket::new(catalog, event, &days, quantity).unwrap();
    let now = datetime!(2027-01-01 00:00 UTC);
    let discount = code.map(|code| find_applicable(catalog, code, basket.event, now).unwrap());
    quote(&basket, discount).unwrap()
}

#[test]
fn last_verified_order_is_reproduced() {
    let catalog = catalog();
    let quote = price(&catalog, "two-day", &["2027-06-12", "2027-06-13"], 1, None);
    assert_eq!(quote.subtotal, 24900);
    assert_eq!(quote.tax, 2490);
    assert_eq!(quote.total, 27390);
    assert_eq!(quote.lines.len(), 1);
    assert_eq!(quote.lines[0].days, ["2027-06-12", "2027-06-13"]);
}

#[test]
fn single_day_is_priced_per_day() {
    let catalog = catalog();
    let quote = price(&catalog, "two-day", &["2027-06-13"], 2, None);
    assert_eq!(quote.lines.len(), 1);
    assert_eq!(quote.lines[0].unit_price, 14900);
    assert_eq!(quote.subtotal, 29800);
    assert_eq!(quote.tax, 2980);
}

#[test]
fn full_price_only_when_lower() {
    let catalog = catalog();
    let quote = price(
        &catalog,
        "cheap-full",
        &["2027-01-02", "2027-01-01"],
        1,
        None,
    );
    assert_eq!(quote.subtotal, 2000);
    assert_eq!(quote.lines.len(), 2);
    assert_eq!(quote.lines[0].days, ["2027-01-01"]);
}

#[test]
fn decimal_prices_become_exact_cents() {
    let catalog = catalog();
    for (day, cents) in [
        ("2027-01-01", 1999),
        ("2027-01-02", 820),
        ("2027-01-03", 1799),
        ("2027-01-04", 435),
    ] {
        assert_eq!(
            price(&catalog, "prices", &[day], 1, None).total,
            cents,
            "day {day}"
        );
    }
    assert_eq!(
        price(&catalog, "yen", &["2027-01-01"], 1, None).subtotal,
        5000
    );
    assert_eq!(price(&catalog, "yen", &["2027-01-01"], 1, None).tax, 500);
}

#[test]
fn discount_applies_before_tax() {
    let catalog = catalog();
    let quote = price(
        &catalog,
        "two-day",
        &["2027-06-12", "2027-06-13"],
        1,
        Some("ten"),
    );
    assert_eq!(quote.discount_amount(), 2490);
    assert_eq!(quote.tax, 2241);
    assert_eq!(quote.total, 24900 - 2490 + 2241);
}

#[test]
fn full_discount_gives_zero_total() {
    let catalog = catalog();
    let quote = price(&catalog, "two-day", &["2027-06-12"], 1, Some("FREE100"));
    assert_eq!(quote.discount_amount(), 14900);
    assert_eq!(quote.tax, 0);
    assert_eq!(quote.total, 0);
}

#[test]
fn fixed_discount_capped_at_subtotal() {
    let catalog = catalog();
    let quote = price(&catalog, "prices", &["2027-01-01"], 1, Some("BIG"));
    assert_eq!(quote.discount_amount(), 1999);
    assert_eq!(quote.total, 0);
}

#[test]
fn basket_errors_name_the_field() {
    let catalog = catalog();
    let days = |list: &[&str]| list.iter().map(|day| day.to_string()).collect::<Vec<_>>();
    let error = |event: &str, list: &[&str], quantity| {
        Basket::new(&catalog, event, &days(list), quantity)
            .unwrap_err()
            .field
    };

    assert_eq!(error("nope", &["2027-06-12"], 1), "event_id");
    assert_eq!(error("two-day", &[], 1), "days");
    assert_eq!(error("two-day", &["2027-06-12", "Saturday"], 1), "days[1]");
    assert_eq!(error("two-day", &["2027-06-14"], 1), "days[0]");
    assert_eq!(
        error("two-day", &["2027-06-12", "2027-06-12"], 1),
        "days[1]"
    );
    assert_eq!(error("two-day", &["2027-06-12"], 0), "quantity");
    assert_eq!(
        error("two-day", &["2027-06-12"], MAX_PARTICIPANTS + 1),
        "quantity"
    );
}

#[test]
fn fingerprint_follows_the_charge() {
    let catalog = catalog();
    let plain = price(&catalog, "two-day", &["2027-06-12"], 1, None);
    let again = price(&catalog, "two-day", &["2027-06-12"], 1, None);
    let discounted = price(&catalog, "two-day", &["2027-06-12"], 1, Some("TEN"));
    assert_eq!(plain.fingerprint(), again.fingerprint());
    assert_ne!(plain.fingerprint(), discounted.fingerprint());
}

/// Day prices in cents, an optional full-event price, a tax rate and a percentage, both in
/// parts per million.
fn arbitrary_catalog() -> impl Strategy<Value = (Vec<u32>, Option<u32>, u32, u32)> {
    (
        prop::collection::vec(0_u32..1_000_000, 1..5),
        prop::option::of(0_u32..2_000_000),
        0_u32..=1_000_000,
        0_u32..=1_000_000,
    )
}

fn catalog_text(
    prices: &[u32],
    full: Option<u32>,
    tax_ppm: u32,
    percent_ppm: u32,
    fixed: u32,
) -> String {
    let cents = |value: u32| format!("{}.{:02}", value / 100, value % 100);
    let mut text = format!(
        "version = 1\n[[events]]\nid = \"e\"\nname = \"E\"\ncurrency = \"USD\"\ntax_rate = \"{}.{:06}\"\ntax_title = \"T\"\n",
        tax_ppm / 1_000_000,
        tax_ppm % 1_000_000
    );
    if let Some(full) = full {
        text += &format!("full_event_price = \"{}\"\n", cents(full));
    }
    for (index, price) in prices.iter().enumerate() {
        text += &format!(
            "[[events.days]]\ndate = \"2027-01-{:02}\"\nlabel = \"D\"\nprice = \"{}\"\n",
            index + 1,
            cents(*price)
        );
    }
    text += &format!(
        "[[discounts]]\ncode = \"Pct\"\npercent_off = \"{}.{:04}\"\nactive = true\n",
        percent_ppm / 10_000,
        percent_ppm % 10_000
    );
    text += &format!(
        "[[discounts]]\ncode = \"FIX\"\namount_off = \"{}\"\ncurrency = \"USD\"\nactive = true\n",
        cents(fixed.max(1))
    );
    text
}

proptest! {
    #[test]
    fn quote_invariants_hold(
        (prices, full, tax_ppm, percent_ppm) in arbitrary_catalog(),
        fixed in 1_u32..5_000_000,
        quantity in 1_u32..=MAX_PARTICIPANTS,
        mask in 1_u32..16,
        use_code in 0_u8..3,
        code_spaces in "[ ]{0,3}",
        upper in any::<bool>(),
    ) {
        prop_assume!(percent_ppm > 0);
        let catalog = Catalog::from_toml(&catalog_text(&prices, full, tax_ppm, percent_ppm, fixed)).unwrap();
        let event = catalog.event("e").unwrap();
        let days: Vec<String> = event.days.iter().enumerate()
            .filter(|(index, _)| mask & (1 << index) != 0)
            .map(|(_, day)| day.date.to_string())
            .collect();
        prop_assume!(!days.is_empty());
        let basket = Basket::new(&catalog, "e", &days, quantity).unwrap();
        let now = datetime!(2027-01-01 00:00 UTC);
        let code = match use_code { 0 => None, 1 => Some("pct"), _ => Some("fix") };
        let discount = code.map(|code| find_applicable(&catalog, code, event, now).unwrap());
        let quote = quote(&basket, discount).unwrap();

        prop_assert!(quote.total >= 0);
        prop_assert!(quote.discount_amount() >= 0);
        prop_assert!(quote.discount_amount() <= quote.subtotal);
        let taxable = i128::from(quote.subtotal - quote.discount_amount());
        let exact = taxable * i128::from(tax_ppm);
        // The rounded tax is within half a minor unit of the exact product.
        prop_assert!((i128::from(quote.tax) * 1_000_000 - exact).abs() * 2 <= 1_000_000);
        prop_assert_eq!(quote.total, quote.subtotal - quote.discount_amount() + quote.tax);
        let line_sum: i64 = quote.lines.iter().map(|line| line.amount).sum();
        prop_assert_eq!(line_sum, quote.subtotal);

        if let Some(code) = code {
            let typed = format!("{code_spaces}{}{code_spaces}", if upper { code.to_uppercase() } else { code.to_owned() });
            let again = find_applicable(&catalog, &typed, event, now).unwrap();
            prop_assert_eq!(super::quote(&basket, Some(again)).unwrap(), quote);
        }
    }
}
