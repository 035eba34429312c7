//! [`RegistrationStore`] on the DynamoDB table described in [`super::keys`].
//!
//! Registration item attributes: `fingerprint` (S), `payment` (S), `payment_intent_id`
//! (S, only once a PaymentIntent is linked), `record` (S, the [`StoredRegistration`] as
//! JSON), `created_at` (N) and `expires_at` (N).
//!
//! Link item attributes: `registration_id` (S), `record` (S, JSON with
//! `payment_intent_id` set), `replaced` (BOOL) and `expires_at` (N).

use super::attributes::{
    key_attributes, number, optional_string, required_bool, required_string, sdk_error, Item,
};
use super::keys::{ItemKey, EXPIRES_AT, PARTITION_KEY};
use super::{
    expiry, CheckoutSlot, LinkedRegistration, Payment, RegistrationStore, StoreError,
    StoredRegistration,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use std::collections::HashMap;
use uuid::Uuid;

const FINGERPRINT: &str = "fingerprint";
const PAYMENT: &str = "payment";
const PAYMENT_INTENT_ID: &str = "payment_intent_id";
const RECORD: &str = "record";
const CREATED_AT: &str = "created_at";
const REGISTRATION_ID: &str = "registration_id";
const REPLACED: &str = "replaced";

/// Registrations and PaymentIntent links stored in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoRegistrationStore {
    client: Client,
    table: String,
}

impl DynamoRegistrationStore {
    /// Creates a store on table `table` that sends its requests through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates a store on table `table` with the region, credentials and endpoint of
    /// `config`, as loaded by `setup::aws_config` in a Lambda function.
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// Creates a store for a local DynamoDB emulator such as moto at `endpoint_url`
    /// (for example `http://127.0.0.1:5055`).
    ///
    /// Uses region `us-east-1` and fixed fake credentials, and reads no AWS settings from
    /// the environment, so its requests never carry real credentials.
    pub fn local(endpoint_url: &str, table: impl Into<String>) -> Self {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(crate::setup::aws_http_client())
            .endpoint_url(endpoint_url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "local-emulator",
            ))
            .build();
        Self::new(Client::from_conf(config), table)
    }

    /// Returns the client that sends the store's requests.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Reads the item under `key` with a strongly consistent GetItem. `None` means no item
    /// exists.
    async fn read_item(&self, key: &ItemKey, subject: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| sdk_error("GetItem", subject, error))?;
        Ok(output.item)
    }

    /// Writes the link item of `payment_intent_id` with `replaced = true`.
    async fn put_replaced_link(
        &self,
        record: &StoredRegistration,
        payment_intent_id: &str,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        let link = LinkWrite::new(record, payment_intent_id, ttl_seconds, LinkState::Replaced)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::payment_intent_link(
                payment_intent_id,
            ))))
            .update_expression(link.update_expression)
            .set_expression_attribute_names(Some(link.names))
            .set_expression_attribute_values(Some(link.values))
            .send()
            .await
            .map_err(|error| {
                sdk_error(
                    "UpdateItem",
                    &payment_intent_subject(payment_intent_id),
                    error,
                )
            })?;
        Ok(())
    }
}

#[async_trait]
impl RegistrationStore for DynamoRegistrationStore {
    async fn begin_checkout(
        &self,
        record: &StoredRegistration,
        ttl_seconds: i64,
    ) -> Result<CheckoutSlot, StoreError> {
        let registration_id = record.registration.registration_id;
        let subject = registration_subject(&registration_id);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(registration_item(record, ttl_seconds)?))
            .condition_expression("attribute_not_exists(#pk) OR #fingerprint <> :fingerprint")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#fingerprint", FINGERPRINT)
            .expression_attribute_values(
                ":fingerprint",
                AttributeValue::S(record.fingerprint.clone()),
            )
            // The old item of a changed basket names the PaymentIntent to cancel.
            .return_values(ReturnValue::AllOld)
            // A double submit learns the existing PaymentIntent without a second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;

        match result {
            Ok(output) => {
                let replaced = match output.attributes() {
                    Some(old) => optional_string(old, PAYMENT_INTENT_ID, &subject)?,
                    None => None,
                };
                Ok(CheckoutSlot::Written { replaced })
            }
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let payment_intent_id = match failed.item() {
                        Some(existing) => optional_string(existing, PAYMENT_INTENT_ID, &subject)?,
                        None => {
                            return Err(StoreError(format!(
                                "DynamoDB PutItem for {subject} failed its condition but \
                                 returned no existing item"
                            )))
                        }
                    };
                    Ok(CheckoutSlot::Existing { payment_intent_id })
                }
                _ => Err(sdk_error("PutItem", &subject, error)),
            },
        }
    }

    // One TransactWriteItems sets the registration's `payment_intent_id` (on condition
    // that its fingerprint still matches) and writes the link item together. With two
    // separate writes, a newer basket could replace the registration between them: its
    // `begin_checkout` would return this PaymentIntent as replaced and `mark_replaced`
    // would find no link item yet, so the link written afterwards would look current.
    // Inside the transaction, the registration names this PaymentIntent only once the
    // link exists. When the condition fails, the link is written on its own with
    // `replaced = true`.
    async fn link_payment_intent(
        &self,
        record: &StoredRegistration,
        payment_intent_id: &str,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        let registration_id = record.registration.registration_id;
        let subject = registration_subject(&registration_id);

        let set_payment_intent = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::registration(
                &registration_id,
            ))))
            .update_expression("SET #payment_intent_id = :payment_intent_id")
            .condition_expression("#fingerprint = :fingerprint")
            .expression_attribute_names("#payment_intent_id", PAYMENT_INTENT_ID)
            .expression_attribute_names("#fingerprint", FINGERPRINT)
            .expression_attribute_values(
                ":payment_intent_id",
                AttributeValue::S(payment_intent_id.to_owned()),
            )
            .expression_attribute_values(
                ":fingerprint",
                AttributeValue::S(record.fingerprint.clone()),
            )
            .build()
            .map_err(|error| build_error(&subject, error))?;

        let link = LinkWrite::new(record, payment_intent_id, ttl_seconds, LinkState::Current)?;
        let write_link = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::payment_intent_link(
                payment_intent_id,
            ))))
            .update_expression(link.update_expression)
            .set_expression_attribute_names(Some(link.names))
            .set_expression_attribute_values(Some(link.values))
            .build()
            .map_err(|error| build_error(&subject, error))?;

        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .update(set_payment_intent)
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().update(write_link).build())
            .send()
            .await;

        match result {
            Ok(_) => Ok(()),
            Err(error) => match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let codes: Vec<&str> = cancelled
                        .cancellation_reasons()
                        .iter()
                        .map(|reason| reason.code().unwrap_or("None"))
                        .collect();
                    // Reasons follow the order of the actions, and only the first action
                    // has a condition.
                    if codes.first() == Some(&"ConditionalCheckFailed") {
                        tracing::info!(
                            %registration_id,
                            payment_intent_id,
                            "a newer basket replaced the registration, so the PaymentIntent is \
                             linked as replaced"
                        );
                        self.put_replaced_link(record, payment_intent_id, ttl_seconds)
                            .await
                    } else {
                        Err(StoreError(format!(
                            "DynamoDB TransactWriteItems for {subject} was cancelled \
                             (reasons: {})",
                            codes.join(", ")
                        )))
                    }
                }
                _ => Err(sdk_error("TransactWriteItems", &subject, error)),
            },
        }
    }

    async fn mark_replaced(&self, payment_intent_id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&ItemKey::payment_intent_link(
                payment_intent_id,
            ))))
            .update_expression("SET #replaced = :replaced")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#replaced", REPLACED)
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_values(":replaced", AttributeValue::Bool(true))
            .send()
            .await;

        match result {
            Ok(_) => Ok(()),
            // No link item: the PaymentIntent was never linked, or its link expired.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(sdk_error(
                "UpdateItem",
                &payment_intent_subject(payment_intent_id),
                error,
            )),
        }
    }

    async fn registration_for_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<LinkedRegistration>, StoreError> {
        let subject = payment_intent_subject(payment_intent_id);
        let Some(item) = self
            .read_item(&ItemKey::payment_intent_link(payment_intent_id), &subject)
            .await?
        else {
            return Ok(None);
        };
        let record = decode_record(required_string(&item, RECORD, &subject)?, &subject)?;
        let replaced = required_bool(&item, REPLACED, &subject)?;
        Ok(Some(LinkedRegistration { record, replaced }))
    }

    async fn registration(
        &self,
        registration_id: &Uuid,
    ) -> Result<Option<StoredRegistration>, StoreError> {
        let subject = registration_subject(registration_id);
        let Some(item) = self
            .read_item(&ItemKey::registration(registration_id), &subject)
            .await?
        else {
            return Ok(None);
        };
        let mut record = decode_record(required_string(&item, RECORD, &subject)?, &subject)?;
        // `link_payment_intent` updates only the attribute, not the JSON record.
        record.payment_intent_id = optional_string(&item, PAYMENT_INTENT_ID, &subject)?;
        Ok(Some(record))
    }
}

/// Whether a link write may clear an earlier `replaced = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    /// The PaymentIntent pays for the current basket. A link that `mark_replaced` already
    /// flagged stays flagged.
    Current,
    /// A newer basket replaced the registration.
    Replaced,
}

/// The update expression and its placeholders that write a link item.
#[derive(Debug)]
struct LinkWrite {
    update_expression: String,
    names: HashMap<String, String>,
    values: Item,
}

impl LinkWrite {
    fn new(
        record: &StoredRegistration,
        payment_intent_id: &str,
        ttl_seconds: i64,
        state: LinkState,
    ) -> Result<Self, StoreError> {
        let registration_id = record.registration.registration_id;
        let mut linked = record.clone();
        linked.payment_intent_id = Some(payment_intent_id.to_owned());
        let json = encode_record(&linked, &registration_subject(&registration_id))?;

        let replaced = match state {
            LinkState::Current => "if_not_exists(#replaced, :replaced)",
            LinkState::Replaced => ":replaced",
        };
        let update_expression = format!(
            "SET #registration_id = :registration_id, #record = :record, \
             #expires_at = :expires_at, #replaced = {replaced}"
        );
        let names = HashMap::from([
            ("#registration_id".to_owned(), REGISTRATION_ID.to_owned()),
            ("#record".to_owned(), RECORD.to_owned()),
            ("#expires_at".to_owned(), EXPIRES_AT.to_owned()),
            ("#replaced".to_owned(), REPLACED.to_owned()),
        ]);
        let values = HashMap::from([
            (
                ":registration_id".to_owned(),
                AttributeValue::S(registration_id.to_string()),
            ),
            (":record".to_owned(), AttributeValue::S(json)),
            (
                ":expires_at".to_owned(),
                number(expiry(record.created_at, ttl_seconds)),
            ),
            (
                ":replaced".to_owned(),
                AttributeValue::Bool(state == LinkState::Replaced),
            ),
        ]);
        Ok(Self {
            update_expression,
            names,
            values,
        })
    }
}

/// Builds the full registration item that `begin_checkout` writes.
fn registration_item(record: &StoredRegistration, ttl_seconds: i64) -> Result<Item, StoreError> {
    let registration_id = record.registration.registration_id;
    let subject = registration_subject(&registration_id);
    let mut item = key_attributes(&ItemKey::registration(&registration_id));
    item.insert(
        FINGERPRINT.to_owned(),
        AttributeValue::S(record.fingerprint.clone()),
    );
    item.insert(
        PAYMENT.to_owned(),
        AttributeValue::S(payment_name(record.payment).to_owned()),
    );
    if let Some(payment_intent_id) = &record.payment_intent_id {
        item.insert(
            PAYMENT_INTENT_ID.to_owned(),
            AttributeValue::S(payment_intent_id.clone()),
        );
    }
    item.insert(
        RECORD.to_owned(),
        AttributeValue::S(encode_record(record, &subject)?),
    );
    item.insert(CREATED_AT.to_owned(), number(record.created_at));
    item.insert(
        EXPIRES_AT.to_owned(),
        number(expiry(record.created_at, ttl_seconds)),
    );
    Ok(item)
}

/// Returns the `payment` attribute value, the same text as the serde name of [`Payment`].
fn payment_name(payment: Payment) -> &'static str {
    match payment {
        Payment::Stripe => "stripe",
        Payment::Free => "free",
    }
}

fn registration_subject(registration_id: &Uuid) -> String {
    format!("registration {registration_id}")
}

fn payment_intent_subject(payment_intent_id: &str) -> String {
    format!("PaymentIntent {payment_intent_id}")
}

fn encode_record(record: &StoredRegistration, subject: &str) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|error| {
        StoreError(format!(
            "could not encode {subject} as JSON ({:?} error)",
            error.classify()
        ))
    })
}

/// Decodes the `record` attribute. The error gives only the position of the problem,
/// because serde's message can quote personal data from the record.
fn decode_record(json: &str, subject: &str) -> Result<StoredRegistration, StoreError> {
    serde_json::from_str(json).map_err(|error| {
        StoreError(format!(
            "attribute `{RECORD}` of {subject} is not a valid stored registration \
             ({:?} error at line {}, column {})",
            error.classify(),
            error.line(),
            error.column()
        ))
    })
}

fn build_error(subject: &str, error: BuildError) -> StoreError {
    StoreError(format!(
        "could not build the DynamoDB request for {subject}: {error}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{sample_record, CREATED_AT, TTL_SECONDS};

    fn string(item: &Item, name: &str) -> String {
        match item.get(name) {
            Some(AttributeValue::S(text)) => text.clone(),
            other => panic!("attribute {name} is not a string: {other:?}"),
        }
    }

    #[test]
    fn registration_item_attributes() {
        let record = sample_record(Uuid::new_v4(), 1);
        let id = record.registration.registration_id;

        let item = registration_item(&record, TTL_SECONDS).unwrap();

        assert_eq!(string(&item, "pk"), format!("REGISTRATION#{id}"));
        assert_eq!(string(&item, "sk"), "REGISTRATION");
        assert_eq!(string(&item, "fingerprint"), record.fingerprint);
        assert_eq!(string(&item, "payment"), "stripe");
        assert!(!item.contains_key("payment_intent_id"));
        assert_eq!(
            item.get("created_at"),
            Some(&AttributeValue::N(CREATED_AT.to_string()))
        );
        assert_eq!(
            item.get("expires_at"),
            Some(&AttributeValue::N((CREATED_AT + TTL_SECONDS).to_string()))
        );
        let decoded: StoredRegistration = serde_json::from_str(&string(&item, "record")).unwrap();
        assert_eq!(decoded, record);
    }

    #[test]
    fn payment_name_matches_serde() {
        for payment in [Payment::Stripe, Payment::Free] {
            let json = serde_json::to_value(payment).unwrap();
            assert_eq!(json.as_str(), Some(payment_name(payment)));
        }
    }

    #[test]
    fn current_link_keeps_earlier_flag() {
        let record = sample_record(Uuid::new_v4(), 1);

        let link = LinkWrite::new(&record, "pi_1", TTL_SECONDS, LinkState::Current).unwrap();

        assert!(link
            .update_expression
            .contains("#replaced = if_not_exists(#replaced, :replaced)"));
        assert_eq!(
            link.values.get(":replaced"),
            Some(&AttributeValue::Bool(false))
        );
        assert_eq!(
            link.values.get(":expires_at"),
            Some(&AttributeValue::N((CREATED_AT + TTL_SECONDS).to_string()))
        );
        let json = string(&link.values, ":record");
        let decoded: StoredRegistration = serde_json::from_str(&json).unwrap();
        assert_eq!(decoded.payment_intent_id.as_deref(), Some("pi_1"));
    }

    #[test]
    fn replaced_link_sets_flag() {
        let record = sample_record(Uuid::new_v4(), 1);

        let link = LinkWrite::new(&record, "pi_1", TTL_SECONDS, LinkState::Replaced).unwrap();

        assert!(link.update_expression.contains("#replaced = :replaced"));
        assert_eq!(
            link.values.get(":replaced"),
            Some(&AttributeValue::Bool(true))
        );
    }

    #[test]
    fn decode_error_omits_record_values() {
        let record = sample_record(Uuid::new_v4(), 1);
        let json = serde_json::to_string(&record).unwrap().replace(
            "\"participants\":1",
            "\"participants\":\"runner@example.com\"",
        );

        let error = decode_record(&json, "registration x").unwrap_err();

        assert!(error.0.contains("registration x"), "{error}");
        assert!(!error.0.contains("runner@example.com"), "{error}");
    }
}
