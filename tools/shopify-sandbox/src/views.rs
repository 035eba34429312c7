//! Output objects (`Order`, `Customer`, `Shop`…) built from the store's records.

use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::money::{currency_exponent, format_amount};
use crate::objects::{cursor, Field, Object};
use crate::store::{array_at, decimal_from_json, str_at, Customer, Order, Store};
use crate::totals::MoneyPair;

/// Shop settings that `shop { … }` returns.
#[derive(Debug, Clone)]
pub struct ShopInfo {
    pub name: String,
    pub email: String,
    pub myshopify_domain: String,
    pub currency: String,
}

pub fn shop_object(shop: &ShopInfo) -> Object {
    Object::new("Shop")
        .with_leaf("id", "gid://shopify/Shop/1")
        .with_leaf("name", shop.name.as_str())
        .with_leaf("email", shop.email.as_str())
        .with_leaf("myshopifyDomain", shop.myshopify_domain.as_str())
        .with_leaf("currencyCode", shop.currency.as_str())
        .with_leaf("ianaTimezone", "Etc/UTC")
}

pub fn order_object(order: &Order, store: &Store) -> Object {
    let input = &order.input;
    let totals = &order.totals;
    let money = |amount: MoneyPair| Field::Object(money_bag(order, amount));
    let customer = order
        .customer_id
        .and_then(|id| store.customer(id))
        .map(customer_object);
    let discount_code = discount_code(input);
    let outstanding = MoneyPair {
        shop: (totals.total.shop - totals.received.shop).max(Decimal::ZERO),
        presentment: (totals.total.presentment - totals.received.presentment).max(Decimal::ZERO),
    };

    Object::new("Order")
        .with_leaf("id", order.gid())
        .with_leaf("legacyResourceId", order.id.to_string())
        .with_leaf("name", order.name.as_str())
        .with("sourceIdentifier", string_field(input, "sourceIdentifier"))
        .with("sourceName", string_field(input, "sourceName"))
        .with("email", Field::leaf(order.email.clone()))
        .with("phone", string_field(input, "phone"))
        .with("note", string_field(input, "note"))
        .with("poNumber", string_field(input, "poNumber"))
        .with_leaf(
            "test",
            input.get("test").and_then(Value::as_bool) == Some(true),
        )
        .with_leaf(
            "tags",
            input
                .get("tags")
                .cloned()
                .unwrap_or_else(|| Value::Array(vec![])),
        )
        .with_leaf(
            "taxesIncluded",
            input.get("taxesIncluded").and_then(Value::as_bool) == Some(true),
        )
        .with_leaf("createdAt", timestamp(order.created_at))
        .with_leaf("updatedAt", timestamp(order.created_at))
        .with_leaf("processedAt", timestamp(order.processed_at))
        .with_leaf("closed", false)
        .with("cancelledAt", Field::null())
        .with_leaf("currencyCode", order.currency.as_str())
        .with_leaf(
            "presentmentCurrencyCode",
            order.presentment_currency.as_str(),
        )
        .with_leaf("displayFinancialStatus", order.financial_status.as_str())
        .with_leaf("displayFulfillmentStatus", "UNFULFILLED")
        .with("customer", Field::optional(customer))
        .with(
            "customAttributes",
            attributes(array_at(input, "customAttributes"), "key", "value"),
        )
        .with("discountCode", Field::leaf(discount_code.clone()))
        .with_leaf(
            "discountCodes",
            discount_code.into_iter().collect::<Vec<_>>(),
        )
        .with("subtotalPriceSet", money(totals.subtotal))
        .with("totalDiscountsSet", money(totals.discounts))
        .with("totalShippingPriceSet", money(totals.shipping))
        .with("totalTaxSet", money(totals.tax))
        .with("currentTotalTaxSet", money(totals.tax))
        .with("totalPriceSet", money(totals.total))
        .with("currentTotalPriceSet", money(totals.total))
        .with("totalReceivedSet", money(totals.received))
        .with("totalOutstandingSet", money(outstanding))
        .with(
            "taxLines",
            tax_lines(order, array_at(input, "taxLines"), base_for_order(order)),
        )
        .with("lineItems", line_items(order))
        .with("shippingLines", shipping_lines(order))
        .with("transactions", transactions(order))
}

pub fn customer_object(customer: &Customer) -> Object {
    let display_name = match (&customer.first_name, &customer.last_name) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (Some(name), None) | (None, Some(name)) => name.clone(),
        (None, None) => customer
            .email
            .clone()
            .or_else(|| customer.phone.clone())
            .unwrap_or_default(),
    };
    let email_address = customer.email.as_ref().map(|email| {
        Object::new("CustomerEmailAddress")
            .with_leaf("emailAddress", email.as_str())
            .with_leaf("validFormat", true)
    });
    let phone_number = customer
        .phone
        .as_ref()
        .map(|phone| Object::new("CustomerPhoneNumber").with_leaf("phoneNumber", phone.as_str()));

    Object::new("Customer")
        .with_leaf("id", customer.gid())
        .with_leaf("legacyResourceId", customer.id.to_string())
        .with("email", Field::leaf(customer.email.clone()))
        .with("phone", Field::leaf(customer.phone.clone()))
        .with("firstName", Field::leaf(customer.first_name.clone()))
        .with("lastName", Field::leaf(customer.last_name.clone()))
        .with_leaf("displayName", display_name)
        .with("note", Field::leaf(customer.note.clone()))
        .with_leaf("tags", customer.tags.clone())
        .with_leaf("createdAt", timestamp(customer.created_at))
        .with_leaf("updatedAt", timestamp(customer.updated_at))
        .with_leaf("state", "DISABLED")
        .with("defaultEmailAddress", Field::optional(email_address))
        .with("defaultPhoneNumber", Field::optional(phone_number))
}

/// Adds `numberOfOrders`, which needs the store.
pub fn customer_object_with_orders(customer: &Customer, store: &Store) -> Object {
    let count = store
        .orders
        .iter()
        .filter(|order| order.customer_id == Some(customer.id))
        .count();
    customer_object(customer).with_leaf("numberOfOrders", count.to_string())
}

fn money_bag(order: &Order, amount: MoneyPair) -> Object {
    money_bag_in(amount, &order.currency, &order.presentment_currency)
}

fn money_bag_in(amount: MoneyPair, currency: &str, presentment_currency: &str) -> Object {
    let money = |value: Decimal, code: &str| {
        Object::new("MoneyV2")
            .with_leaf("amount", format_amount(value))
            .with_leaf("currencyCode", code)
    };
    Object::new("MoneyBag")
        .with("shopMoney", Field::Object(money(amount.shop, currency)))
        .with(
            "presentmentMoney",
            Field::Object(money(amount.presentment, presentment_currency)),
        )
}

/// Reads a `MoneyBagInput` that the store already checked.
fn input_money(money_bag: Option<&Value>) -> MoneyPair {
    let amount = |money: Option<&Value>| decimal_from_json(money.and_then(|m| m.get("amount")));
    let Some(money_bag) = money_bag.filter(|v| !v.is_null()) else {
        return MoneyPair::default();
    };
    let shop = amount(money_bag.get("shopMoney")).unwrap_or_default();
    let presentment = amount(money_bag.get("presentmentMoney")).unwrap_or(shop);
    MoneyPair { shop, presentment }
}

fn line_items(order: &Order) -> Field {
    let items = array_at(&order.input, "lineItems")
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let id = line_item_id(order, index);
            let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
            let unit_price = input_money(item.get("priceSet"));
            let line_total = MoneyPair {
                shop: unit_price.shop * Decimal::from(quantity),
                presentment: unit_price.presentment * Decimal::from(quantity),
            };
            let title = str_at(item, "title").unwrap_or_default();
            let name = match str_at(item, "variantTitle") {
                Some(variant) => format!("{title} - {variant}"),
                None => title.to_owned(),
            };
            let object = Object::new("LineItem")
                .with_leaf("id", format!("gid://shopify/LineItem/{id}"))
                .with_leaf("title", title)
                .with_leaf("name", name)
                .with_leaf("quantity", quantity)
                .with_leaf("currentQuantity", quantity)
                .with("sku", string_field(item, "sku"))
                .with("variantTitle", string_field(item, "variantTitle"))
                .with("vendor", string_field(item, "vendor"))
                .with_leaf(
                    "requiresShipping",
                    item.get("requiresShipping").and_then(Value::as_bool) == Some(true),
                )
                .with_leaf(
                    "taxable",
                    item.get("taxable").and_then(Value::as_bool) != Some(false),
                )
                .with_leaf(
                    "isGiftCard",
                    item.get("giftCard").and_then(Value::as_bool) == Some(true),
                )
                .with(
                    "customAttributes",
                    attributes(array_at(item, "properties"), "name", "value"),
                )
                .with(
                    "originalUnitPriceSet",
                    Field::Object(money_bag(order, unit_price)),
                )
                .with(
                    "originalTotalSet",
                    Field::Object(money_bag(order, line_total)),
                )
                .with(
                    "taxLines",
                    tax_lines(order, array_at(item, "taxLines"), line_total),
                );
            (cursor("LineItem", id), object)
        })
        .collect();
    Field::Connection(items)
}

fn shipping_lines(order: &Order) -> Field {
    let lines = array_at(&order.input, "shippingLines")
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let id = line_item_id(order, index);
            let price = input_money(line.get("priceSet"));
            let object = Object::new("ShippingLine")
                .with_leaf("id", format!("gid://shopify/ShippingLine/{id}"))
                .with_leaf("title", str_at(line, "title").unwrap_or_default())
                .with("code", string_field(line, "code"))
                .with("source", string_field(line, "source"))
                .with_leaf("custom", true)
                .with_leaf("isRemoved", false)
                .with("originalPriceSet", Field::Object(money_bag(order, price)))
                .with("discountedPriceSet", Field::Object(money_bag(order, price)))
                .with(
                    "taxLines",
                    tax_lines(order, array_at(line, "taxLines"), price),
                );
            (cursor("ShippingLine", id), object)
        })
        .collect();
    Field::Connection(lines)
}

/// Returns a unique numeric id for the `index`-th line of an order.
fn line_item_id(order: &Order, index: usize) -> u64 {
    order.id * 1000 + index as u64 + 1
}

fn base_for_order(order: &Order) -> MoneyPair {
    MoneyPair {
        shop: order.totals.subtotal.shop - order.totals.discounts.shop,
        presentment: order.totals.subtotal.presentment - order.totals.discounts.presentment,
    }
}

fn tax_lines(order: &Order, lines: &[Value], base: MoneyPair) -> Field {
    let objects = lines
        .iter()
        .map(|line| {
            let rate = decimal_from_json(line.get("rate")).unwrap_or_default();
            let price = match line.get("priceSet").filter(|v| !v.is_null()) {
                Some(price_set) => input_money(Some(price_set)),
                None => MoneyPair {
                    shop: base.shop * rate,
                    presentment: base.presentment * rate,
                },
            };
            Field::Object(
                Object::new("TaxLine")
                    .with_leaf("title", str_at(line, "title").unwrap_or_default())
                    .with_leaf("rate", rate.to_f64().unwrap_or_default())
                    .with_leaf(
                        "ratePercentage",
                        (rate * Decimal::ONE_HUNDRED).to_f64().unwrap_or_default(),
                    )
                    .with_leaf(
                        "channelLiable",
                        line.get("channelLiable").and_then(Value::as_bool) == Some(true),
                    )
                    .with("source", Field::null())
                    .with(
                        "priceSet",
                        Field::Object(money_bag(order, round(order, price))),
                    ),
            )
        })
        .collect();
    Field::List(objects)
}

/// Rounds to the minor unit of each currency, as the store does for the totals.
fn round(order: &Order, amount: MoneyPair) -> MoneyPair {
    let round = |value: Decimal, currency: &str| {
        value.round_dp_with_strategy(
            currency_exponent(currency),
            RoundingStrategy::MidpointAwayFromZero,
        )
    };
    MoneyPair {
        shop: round(amount.shop, &order.currency),
        presentment: round(amount.presentment, &order.presentment_currency),
    }
}

fn transactions(order: &Order) -> Field {
    let objects = array_at(&order.input, "transactions")
        .iter()
        .enumerate()
        .map(|(index, transaction)| {
            let id = line_item_id(order, index);
            let processed_at = str_at(transaction, "processedAt")
                .map(str::to_owned)
                .unwrap_or_else(|| timestamp(order.processed_at));
            Field::Object(
                Object::new("OrderTransaction")
                    .with_leaf("id", format!("gid://shopify/OrderTransaction/{id}"))
                    .with_leaf("kind", str_at(transaction, "kind").unwrap_or("SALE"))
                    .with_leaf("status", str_at(transaction, "status").unwrap_or("SUCCESS"))
                    .with("gateway", string_field(transaction, "gateway"))
                    .with(
                        "authorizationCode",
                        string_field(transaction, "authorizationCode"),
                    )
                    .with_leaf(
                        "test",
                        transaction.get("test").and_then(Value::as_bool) == Some(true),
                    )
                    .with_leaf("processedAt", processed_at)
                    .with_leaf("createdAt", timestamp(order.created_at))
                    .with(
                        "amountSet",
                        Field::Object(money_bag(order, input_money(transaction.get("amountSet")))),
                    ),
            )
        })
        .collect();
    Field::List(objects)
}

fn discount_code(input: &Value) -> Option<String> {
    let code = input.get("discountCode").filter(|v| !v.is_null())?;
    [
        "itemFixedDiscountCode",
        "itemPercentageDiscountCode",
        "freeShippingDiscountCode",
    ]
    .iter()
    .find_map(|kind| {
        code.get(kind)
            .and_then(|attributes| str_at(attributes, "code"))
    })
    .map(str::to_owned)
}

/// Maps `{key, value}` or `{name, value}` inputs to `Attribute` objects.
fn attributes(inputs: &[Value], key_name: &str, value_name: &str) -> Field {
    Field::List(
        inputs
            .iter()
            .map(|input| {
                Field::Object(
                    Object::new("Attribute")
                        .with_leaf("key", str_at(input, key_name).unwrap_or_default())
                        .with("value", string_field(input, value_name)),
                )
            })
            .collect(),
    )
}

fn string_field(value: &Value, key: &str) -> Field {
    Field::leaf(str_at(value, key).map(str::to_owned))
}

pub fn timestamp(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .expect("an OffsetDateTime always formats as RFC 3339")
}
