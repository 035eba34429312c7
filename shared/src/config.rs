//! Reading typed settings from the environment at cold start.

use std::str::FromStr;

/// A setting that is missing or cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {message}")]
pub struct ConfigError {
    pub name: String,
    pub message: String,
}

/// Reads a setting that must be present and non-empty.
pub fn required(name: &str) -> Result<String, ConfigError> {
    optional(name).ok_or_else(|| ConfigError {
        name: name.to_owned(),
        message: "is not set; set it in the function's environment or in .env for local runs"
            .to_owned(),
    })
}

/// Reads a setting that may be absent; an empty value counts as absent.
pub fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Reads and parses a setting, falling back to `default` when it is absent.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|error: T::Err| ConfigError {
            name: name.to_owned(),
            message: format!("`{text}` is invalid: {error}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_or_reports_the_setting() {
        // A name no other test uses, because tests share the process environment.
        std::env::set_var("CONFIG_TEST_TTL_DAYS", "ninety");
        let error = parse_or::<u32>("CONFIG_TEST_TTL_DAYS", 90).unwrap_err();
        assert_eq!(error.name, "CONFIG_TEST_TTL_DAYS");
        assert!(error.message.contains("ninety"));
        assert_eq!(parse_or::<u32>("CONFIG_TEST_UNSET", 90), Ok(90));
    }
}
