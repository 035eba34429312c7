//! DynamoDB attribute builders, item readers and SDK error conversion shared by the
//! registration store, the order ledger, the failure log and the daily metrics.
//!
//! Every reader takes a `subject`, such as `PaymentIntent pi_1`, and names it in its
//! errors, so the error of a failed read points to the malformed record.

use super::keys::{ItemKey, PARTITION_KEY, SORT_KEY};
use super::StoreError;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::str::FromStr;

/// A DynamoDB item: attribute names mapped to their values.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Builds a string (S) attribute value.
pub(crate) fn string(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

/// Builds a number (N) attribute value.
pub(crate) fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Builds the `pk` and `sk` attributes of `key`.
pub(crate) fn key_attributes(key: &ItemKey) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), string(&key.pk)),
        (SORT_KEY.to_owned(), string(key.sk)),
    ])
}

/// Reads the string attribute `name`, which must be present.
pub(crate) fn required_string<'a>(
    item: &'a Item,
    name: &str,
    subject: &str,
) -> Result<&'a str, StoreError> {
    optional_str(item, name, subject)?.ok_or_else(|| missing_attribute(name, subject))
}

/// Reads the string attribute `name`, or returns `None` when it is absent.
pub(crate) fn optional_string(
    item: &Item,
    name: &str,
    subject: &str,
) -> Result<Option<String>, StoreError> {
    Ok(optional_str(item, name, subject)?.map(str::to_owned))
}

fn optional_str<'a>(
    item: &'a Item,
    name: &str,
    subject: &str,
) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(text)) => Ok(Some(text)),
        Some(_) => Err(wrong_type(name, "S", subject)),
        None => Ok(None),
    }
}

/// Reads the number attribute `name` as a `T`, which must be present.
pub(crate) fn required_number<T: FromStr>(
    item: &Item,
    name: &str,
    subject: &str,
) -> Result<T, StoreError> {
    optional_number(item, name, subject)?.ok_or_else(|| missing_attribute(name, subject))
}

/// Reads the number attribute `name` as a `T`, or returns `None` when it is absent. A value
/// that does not parse as a `T`, such as a fraction or a number out of range, is an error.
pub(crate) fn optional_number<T: FromStr>(
    item: &Item,
    name: &str,
    subject: &str,
) -> Result<Option<T>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| invalid_number(name, text, subject)),
        Some(_) => Err(wrong_type(name, "N", subject)),
        None => Ok(None),
    }
}

/// Reads the boolean (BOOL) attribute `name`, which must be present.
pub(crate) fn required_bool(item: &Item, name: &str, subject: &str) -> Result<bool, StoreError> {
    match item.get(name) {
        Some(AttributeValue::Bool(value)) => Ok(*value),
        Some(_) => Err(wrong_type(name, "BOOL", subject)),
        None => Err(missing_attribute(name, subject)),
    }
}

/// Builds the error for an item of `subject` that lacks the attribute `name`.
pub(crate) fn missing_attribute(name: &str, subject: &str) -> StoreError {
    StoreError(format!("the item of {subject} has no attribute `{name}`"))
}

fn wrong_type(name: &str, expected: &str, subject: &str) -> StoreError {
    StoreError(format!(
        "attribute `{name}` of {subject} is not of DynamoDB type {expected}"
    ))
}

fn invalid_number(name: &str, text: &str, subject: &str) -> StoreError {
    StoreError(format!(
        "attribute `{name}` of {subject} is `{text}`, not a whole number in range"
    ))
}

/// Converts an SDK error into a [`StoreError`] that names the operation, the subject and
/// the error code or kind from [`error_kind`].
pub(crate) fn sdk_error<E>(operation: &str, subject: &str, error: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    StoreError(format!(
        "DynamoDB {operation} for {subject} failed: {}",
        error_kind(&error)
    ))
}

/// Describes an SDK error by its error code or kind. A service error's message is left
/// out because it can quote request values, such as a failure reason or personal data.
pub(crate) fn error_kind<E>(error: &SdkError<E>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(_) => error.code().unwrap_or("unknown service error").to_owned(),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            DisplayErrorContext(error).to_string()
        }
        _ => "the response could not be read".to_owned(),
    }
}
