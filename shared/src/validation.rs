//! The error type for input that fails validation.

/// Input that failed validation: which field, and what the caller should change.
///
/// `field` uses the request's own JSON names with indexes, such as `days[1]` or
/// `fields.club`, so the website can put the message next to the right input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
