//! In-memory orders and customers, and the business rules of `orderCreate`.
//!
//! Inputs arrive already validated and coerced against the schema, so this module only
//! applies the rules that Shopify checks beyond the schema and that matter to the product.

use std::str::FromStr as _;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::money::format_amount;
use crate::totals::{
    check_transactions_total, compute_totals, financial_status, Currencies, MoneyPair, Totals,
};

/// The first order number; Shopify stores start at 1001 too, so orders are named `#1001`…
const FIRST_ORDER_NUMBER: u64 = 1001;

#[derive(Debug)]
pub struct Store {
    pub orders: Vec<Order>,
    pub customers: Vec<Customer>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

/// A created order: the input as received plus what the sandbox derived from it.
#[derive(Debug, Clone)]
pub struct Order {
    /// Numeric part of the GID `gid://shopify/Order/<id>`, starting at 1.
    pub id: u64,
    pub name: String,
    /// The `order` argument as the client sent it, without schema defaults.
    pub received_input: Value,
    /// The `options` argument as the client sent it (`null` when absent).
    pub received_options: Value,
    /// The `order` argument after coercion, with schema defaults filled in.
    pub input: Value,
    pub customer_id: Option<u64>,
    pub email: Option<String>,
    pub created_at: OffsetDateTime,
    pub processed_at: OffsetDateTime,
    pub currency: String,
    pub presentment_currency: String,
    pub totals: Totals,
    pub financial_status: String,
}

#[derive(Debug, Clone)]
pub struct Customer {
    /// Numeric part of the GID `gid://shopify/Customer/<id>`, starting at 1.
    pub id: u64,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Customer {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Customer/{}", self.id)
    }
}

impl Order {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Order/{}", self.id)
    }
}

/// Prints a `MoneyBag` output object.
pub fn money_bag_json(amount: MoneyPair, currency: &str, presentment_currency: &str) -> Value {
    json!({
        "shopMoney": {"amount": format_amount(amount.shop), "currencyCode": currency},
        "presentmentMoney": {
            "amount": format_amount(amount.presentment),
            "currencyCode": presentment_currency,
        },
    })
}

/// An `OrderCreateUserError`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserError {
    pub field: Vec<String>,
    pub message: String,
    pub code: Option<&'static str>,
}

impl UserError {
    pub fn invalid(field: &[&str], message: impl Into<String>) -> Self {
        Self {
            field: field.iter().map(|segment| (*segment).to_owned()).collect(),
            message: message.into(),
            code: Some("INVALID"),
        }
    }

    pub fn at(field: Vec<String>, message: impl Into<String>, code: &'static str) -> Self {
        Self {
            field,
            message: message.into(),
            code: Some(code),
        }
    }

    /// Returns the user error for an unusable phone number: "Phone is invalid", `INVALID`.
    pub fn invalid_phone(field: &[&str]) -> Self {
        Self::invalid(field, "Phone is invalid")
    }
}

/// Everything `orderCreate` needs besides the store.
pub struct CreateOrder<'a> {
    /// The coerced `order` argument.
    pub input: &'a Value,
    pub received_input: Value,
    pub received_options: Value,
    pub shop_currency: &'a str,
    pub require_transactions_match_total: bool,
    pub now: OffsetDateTime,
}

impl Store {
    pub fn new() -> Self {
        Self {
            orders: Vec::new(),
            customers: Vec::new(),
        }
    }

    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.iter().find(|order| order.id == id)
    }

    pub fn customer(&self, id: u64) -> Option<&Customer> {
        self.customers.iter().find(|customer| customer.id == id)
    }

    /// Runs `orderCreate`: checks the input, links or creates the customer and stores the
    /// order. Returns the new order's id, or every user error found (and then changes
    /// nothing).
    pub fn create_order(&mut self, request: CreateOrder<'_>) -> Result<u64, Vec<UserError>> {
        let input = request.input;
        let mut errors = Vec::new();

        let currency = str_at(input, "currency")
            .unwrap_or(request.shop_currency)
            .to_owned();
        let presentment_currency = str_at(input, "presentmentCurrency")
            .unwrap_or(&currency)
            .to_owned();
        let currencies = Currencies {
            shop: &currency,
            presentment: &presentment_currency,
        };

        check_contact(input, &mut errors);
        let customer_plan = self.plan_customer(input, &mut errors);
        let totals = compute_totals(input, currencies, &mut errors);
        let processed_at = check_processed_at(input, request.now, &mut errors);

        if let Some(totals) = &totals {
            if request.require_transactions_match_total {
                check_transactions_total(totals, &currency, &mut errors);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let totals = totals.expect("totals exist when there are no user errors");

        let customer_id = customer_plan.map(|plan| self.apply_customer(plan, request.now));
        let email = customer_id
            .and_then(|id| self.customer(id))
            .and_then(|customer| customer.email.clone())
            .or_else(|| str_at(input, "email").map(str::to_owned));

        let id = self.orders.last().map_or(1, |order| order.id + 1);
        let number = FIRST_ORDER_NUMBER + id - 1;
        let name = str_at(input, "name")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#{number}"));
        let financial_status = financial_status(input, &totals);

        self.orders.push(Order {
            id,
            name,
            received_input: request.received_input,
            received_options: request.received_options,
            input: input.clone(),
            customer_id,
            email,
            created_at: request.now,
            processed_at: processed_at.unwrap_or(request.now),
            currency,
            presentment_currency,
            totals,
            financial_status,
        });
        Ok(id)
    }

    /// Decides which customer the order gets, without changing the store yet, so that an
    /// order rejected for another reason leaves the customers untouched.
    fn plan_customer(&self, input: &Value, errors: &mut Vec<UserError>) -> Option<CustomerPlan> {
        let customer = input.get("customer").filter(|value| !value.is_null());
        let customer_id = str_at(input, "customerId");

        if customer.is_some() && customer_id.is_some() {
            errors.push(UserError::at(
                vec!["order".into(), "customerId".into()],
                "Give either customer or customerId, not both",
                "REDUNDANT_CUSTOMER_FIELDS",
            ));
            return None;
        }
        if let Some(gid) = customer_id {
            return self
                .find_by_gid(gid, &["order", "customerId"], errors)
                .map(CustomerPlan::Existing);
        }
        let customer = customer?;

        if let Some(associate) = customer.get("toAssociate").filter(|v| !v.is_null()) {
            return self.plan_association(associate, errors);
        }
        let upsert = customer.get("toUpsert").filter(|v| !v.is_null())?;
        self.plan_upsert(input, upsert, errors)
    }

    fn plan_association(
        &self,
        associate: &Value,
        errors: &mut Vec<UserError>,
    ) -> Option<CustomerPlan> {
        const FIELD: [&str; 3] = ["order", "customer", "toAssociate"];
        if let Some(gid) = str_at(associate, "id") {
            return self
                .find_by_gid(gid, &[&FIELD[..], &["id"]].concat(), errors)
                .map(CustomerPlan::Existing);
        }
        if let Some(email) = str_at(associate, "email") {
            let found = self.find_by_email(email);
            if found.is_none() {
                errors.push(UserError::invalid(
                    &[&FIELD[..], &["email"]].concat(),
                    format!("No customer has the email {email}"),
                ));
            }
            return found.map(CustomerPlan::Existing);
        }
        errors.push(UserError::invalid(
            &FIELD,
            "Give the customer's id or email",
        ));
        None
    }

    fn plan_upsert(
        &self,
        order: &Value,
        upsert: &Value,
        errors: &mut Vec<UserError>,
    ) -> Option<CustomerPlan> {
        const FIELD: [&str; 3] = ["order", "customer", "toUpsert"];
        let field = |name: &'static str| [&FIELD[..], &[name]].concat();

        // The customer's own e-mail takes precedence over the order's, as Shopify documents
        // for `OrderCreateUpsertCustomerAttributesInput.email`.
        let email = str_at(upsert, "email").or_else(|| str_at(order, "email"));
        if let Some(email) = str_at(upsert, "email") {
            if !email_is_valid(email) {
                errors.push(UserError::invalid(&field("email"), "Email is invalid"));
            }
        }
        let phone = str_at(upsert, "phone");
        if let Some(phone) = phone {
            if !phone_is_valid(phone) {
                errors.push(UserError::invalid_phone(&field("phone")));
            }
        }

        let existing = match str_at(upsert, "id") {
            Some(gid) => Some(self.find_by_gid(gid, &field("id"), errors)?),
            None => email.and_then(|email| self.find_by_email(email)),
        };

        // The schema's description of `phone` says Shopify rejects a number that another
        // customer already has. The message below is the sandbox's wording.
        if let Some(phone) = phone {
            let owner = self
                .customers
                .iter()
                .find(|c| c.phone.as_deref() == Some(phone));
            if let Some(owner) = owner {
                if Some(owner.id) != existing {
                    errors.push(UserError::invalid(
                        &field("phone"),
                        "Phone has already been taken",
                    ));
                }
            }
        }

        let attributes = CustomerAttributes {
            email: email.map(str::to_owned),
            first_name: str_at(upsert, "firstName").map(str::to_owned),
            last_name: str_at(upsert, "lastName").map(str::to_owned),
            phone: phone.map(str::to_owned),
            note: str_at(upsert, "note").map(str::to_owned),
            tags: string_list(upsert.get("tags")),
        };
        Some(match existing {
            Some(id) => CustomerPlan::Update(id, attributes),
            None => CustomerPlan::Create(attributes),
        })
    }

    fn find_by_gid(&self, gid: &str, field: &[&str], errors: &mut Vec<UserError>) -> Option<u64> {
        let found = parse_gid(gid, "Customer").filter(|id| self.customer(*id).is_some());
        if found.is_none() {
            errors.push(UserError::invalid(
                field,
                format!("Customer {gid} does not exist"),
            ));
        }
        found
    }

    fn find_by_email(&self, email: &str) -> Option<u64> {
        self.customers
            .iter()
            .find(|customer| {
                customer
                    .email
                    .as_deref()
                    .is_some_and(|known| known.eq_ignore_ascii_case(email))
            })
            .map(|customer| customer.id)
    }

    fn apply_customer(&mut self, plan: CustomerPlan, now: OffsetDateTime) -> u64 {
        match plan {
            CustomerPlan::Existing(id) => id,
            CustomerPlan::Update(id, attributes) => {
                let customer = self
                    .customers
                    .iter_mut()
                    .find(|customer| customer.id == id)
                    .expect("planned customer exists");
                // Only the attributes given change; the stored e-mail keeps its case.
                customer.email = customer.email.take().or(attributes.email);
                update(&mut customer.first_name, attributes.first_name);
                update(&mut customer.last_name, attributes.last_name);
                update(&mut customer.phone, attributes.phone);
                update(&mut customer.note, attributes.note);
                for tag in attributes.tags {
                    if !customer.tags.contains(&tag) {
                        customer.tags.push(tag);
                    }
                }
                customer.updated_at = now;
                id
            }
            CustomerPlan::Create(attributes) => {
                let id = self.customers.last().map_or(1, |customer| customer.id + 1);
                self.customers.push(Customer {
                    id,
                    email: attributes.email,
                    first_name: attributes.first_name,
                    last_name: attributes.last_name,
                    phone: attributes.phone,
                    note: attributes.note,
                    tags: attributes.tags,
                    created_at: now,
                    updated_at: now,
                });
                id
            }
        }
    }
}

enum CustomerPlan {
    Existing(u64),
    Update(u64, CustomerAttributes),
    Create(CustomerAttributes),
}

struct CustomerAttributes {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    note: Option<String>,
    tags: Vec<String>,
}

fn update(slot: &mut Option<String>, value: Option<String>) {
    if value.is_some() {
        *slot = value;
    }
}

/// Checks the e-mail and phone given on the order itself.
fn check_contact(input: &Value, errors: &mut Vec<UserError>) {
    if let Some(email) = str_at(input, "email") {
        if !email_is_valid(email) {
            errors.push(UserError::invalid(&["order", "email"], "Email is invalid"));
        }
    }
    if let Some(phone) = str_at(input, "phone") {
        if !phone_is_valid(phone) {
            errors.push(UserError::invalid_phone(&["order", "phone"]));
        }
    }
}

/// Accepts only a valid number written in E.164 form (`+` and 8 to 15 digits).
///
/// Shopify also accepts national forms such as `(613) 555-1212` when it can infer the
/// country. The sandbox is stricter on purpose, because the product always sends E.164.
pub fn phone_is_valid(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    match phonenumber::parse(None, phone) {
        Ok(number) => {
            number.is_valid() && number.format().mode(phonenumber::Mode::E164).to_string() == phone
        }
        Err(_) => false,
    }
}

/// Checks the shape `local@domain.tld` without spaces.
fn email_is_valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

fn check_processed_at(
    input: &Value,
    now: OffsetDateTime,
    errors: &mut Vec<UserError>,
) -> Option<OffsetDateTime> {
    let text = str_at(input, "processedAt")?;
    match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(processed_at) if processed_at <= now + time::Duration::minutes(1) => Some(processed_at),
        Ok(_) => {
            errors.push(UserError::at(
                vec!["order".into(), "processedAt".into()],
                "Processed at must not be in the future",
                "PROCESSED_AT_INVALID",
            ));
            None
        }
        Err(_) => {
            errors.push(UserError::at(
                vec!["order".into(), "processedAt".into()],
                format!("Processed at {text} is not an RFC 3339 date-time"),
                "PROCESSED_AT_INVALID",
            ));
            None
        }
    }
}

/// Reads a `Decimal` scalar, which clients send as a string or a JSON number.
pub fn decimal_from_json(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(text) => Decimal::from_str(text).ok(),
        Value::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        _ => None,
    }
}

/// Reads the numeric id of a GID such as `gid://shopify/Customer/7`.
pub fn parse_gid(gid: &str, type_name: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?
        .strip_prefix(type_name)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

pub fn str_at<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

pub fn array_at<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_check_accepts_only_valid_e164() {
        assert!(phone_is_valid("+14155552671"));
        assert!(phone_is_valid("+447911123456"));
        assert!(!phone_is_valid("4155552671"), "no leading +");
        assert!(!phone_is_valid("+1 415 555 2671"), "spaces");
        assert!(!phone_is_valid("+1415555267"), "too short for +1");
        assert!(!phone_is_valid("+999123456789"), "unknown country code");
    }

    #[test]
    fn email_check_needs_domain_with_dot() {
        assert!(email_is_valid("ann@example.com"));
        assert!(!email_is_valid("ann@localhost"));
        assert!(!email_is_valid("ann example@example.com"));
        assert!(!email_is_valid("@example.com"));
    }

    #[test]
    fn gid_parsing_checks_type() {
        assert_eq!(parse_gid("gid://shopify/Customer/7", "Customer"), Some(7));
        assert_eq!(parse_gid("gid://shopify/Order/7", "Customer"), None);
        assert_eq!(parse_gid("gid://shopify/Customer/x", "Customer"), None);
    }
}
