use super::*;
use std::collections::HashMap;
use std::path::PathBuf;

const STRIPE_KEY: &str = "sk_test_fake_key";
const WEBHOOK_SECRET: &str = "whsec_test_fake_one";
const ROLLED_WEBHOOK_SECRET: &str = "whsec_test_fake_two";
const HEALTH_KEY: &str = "health_test_fake_key";

fn store_from(variables: &[(&str, &str)]) -> EnvSecretStore {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    EnvSecretStore::from_lookup(|name| variables.get(name).cloned())
}

#[tokio::test]
async fn env_store_reads_every_variable() {
    let webhook_list = format!(" {WEBHOOK_SECRET} ,, {ROLLED_WEBHOOK_SECRET},");
    let store = store_from(&[
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_WEBHOOK_SECRETS", &webhook_list),
        ("SHOPIFY_ACCESS_TOKEN", "shpat_test_fake_token"),
        ("SHOPIFY_CLIENT_ID", "test_client_id"),
        ("SHOPIFY_CLIENT_SECRET", "test_fake_client_secret"),
        ("HEALTH_API_KEY", HEALTH_KEY),
    ]);
    let secrets = store.secrets().await.unwrap();
    assert_eq!(secrets.stripe_secret_key.as_deref(), Some(STRIPE_KEY));
    assert_eq!(
        secrets.stripe_webhook_secrets,
        [WEBHOOK_SECRET, ROLLED_WEBHOOK_SECRET]
    );
    assert_eq!(
        secrets.shopify_access_token.as_deref(),
        Some("shpat_test_fake_token")
    );
    assert_eq!(secrets.shopify_client_id.as_deref(), Some("test_client_id"));
    assert_eq!(
        secrets.shopify_client_secret.as_deref(),
        Some("test_fake_client_secret")
    );
    assert_eq!(secrets.health_api_key.as_deref(), Some(HEALTH_KEY));
}

#[tokio::test]
async fn env_store_treats_unset_and_blank_as_absent() {
    let store = store_from(&[
        ("STRIPE_SECRET_KEY", "   "),
        ("STRIPE_WEBHOOK_SECRETS", " , "),
    ]);
    let secrets = store.secrets().await.unwrap();
    assert_eq!(secrets.stripe_secret_key, None);
    assert!(secrets.stripe_webhook_secrets.is_empty());
    assert_eq!(secrets.shopify_access_token, None);
    assert_eq!(secrets.health_api_key, None);
}

#[tokio::test]
async fn env_store_reload_returns_none() {
    let store = store_from(&[("STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET)]);
    assert!(store.reload().await.unwrap().is_none());
}

#[tokio::test]
async fn env_store_debug_is_redacted() {
    let store = store_from(&[
        ("STRIPE_SECRET_KEY", STRIPE_KEY),
        ("STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        ("HEALTH_API_KEY", HEALTH_KEY),
    ]);
    let debug = format!("{store:?}");
    for value in [STRIPE_KEY, WEBHOOK_SECRET, HEALTH_KEY] {
        assert!(!debug.contains(value), "{debug} contains {value}");
    }
    assert!(debug.contains("[redacted]"), "{debug}");
}

/// A dotenv file in the temporary directory, removed on drop.
struct TempDotenv(PathBuf);

impl TempDotenv {
    fn new(contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("dotenv-test-{}", uuid::Uuid::new_v4()));
        std::fs::write(&path, contents).expect("write the dotenv file");
        Self(path)
    }
}

impl Drop for TempDotenv {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Returns a variable name that no other test uses, because tests share the process
/// environment.
fn unique_variable(label: &str) -> String {
    format!("DOTENV_TEST_{label}_{}", uuid::Uuid::new_v4().simple()).to_uppercase()
}

#[test]
fn dotenv_sets_unset_variables_only() {
    let new_variable = unique_variable("NEW");
    let set_variable = unique_variable("SET");
    std::env::set_var(&set_variable, "from the environment");
    let file = TempDotenv::new(&format!(
        "# local settings\n{new_variable}=from_file\n{set_variable}=from_file\n"
    ));

    assert!(load_dotenv_file(&file.0).unwrap());
    assert_eq!(std::env::var(&new_variable).as_deref(), Ok("from_file"));
    assert_eq!(
        std::env::var(&set_variable).as_deref(),
        Ok("from the environment")
    );
}

#[test]
fn dotenv_missing_file_is_not_an_error() {
    let path = std::env::temp_dir().join(format!("dotenv-missing-{}", uuid::Uuid::new_v4()));
    assert!(!load_dotenv_file(&path).unwrap());
}

#[test]
fn dotenv_malformed_line_hides_value() {
    let variable = unique_variable("BAD");
    let file = TempDotenv::new(&format!("{variable}=\"{STRIPE_KEY}\" trailing\n"));
    let error = load_dotenv_file(&file.0).unwrap_err();
    assert!(error.0.contains("contains a malformed line"), "{error}");
    assert!(!error.0.contains(STRIPE_KEY), "{error}");
    assert!(std::env::var(&variable).is_err());
}
