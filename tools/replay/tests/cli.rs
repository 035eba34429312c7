//! The `replay` binary's arguments, settings, messages and exit codes. These runs stop
//! before any network call: every endpoint points at a closed port on 127.0.0.1, and the
//! environment is cleared so that no real account can be reached.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A port that nothing listens on in these tests (the discard service's number).
const CLOSED_ENDPOINT: &str = "http://127.0.0.1:9";
const SECRET_MARKER: &str = "sk_test_marker_must_not_be_printed";

/// An empty working directory, so that no developer's `.env` is loaded. It is removed on
/// drop.
struct WorkDirectory(PathBuf);

impl WorkDirectory {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("replay-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for WorkDirectory {
    fn drop(&mut self) {
        // A leftover directory in the temporary folder is harmless.
        drop(std::fs::remove_dir_all(&self.0));
    }
}

/// Builds a run of the binary in `directory` with only the given variables, plus those that
/// keep the AWS SDK away from the instance metadata address.
fn replay_in(directory: &WorkDirectory, variables: &[(&str, &str)], arguments: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_replay"));
    command
        .args(arguments)
        .current_dir(&directory.0)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", CLOSED_ENDPOINT);
    for (name, value) in variables {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// Settings with which every dependency can be built.
fn complete_settings() -> Vec<(&'static str, &'static str)> {
    vec![
        ("TABLE_NAME", "replay-cli"),
        ("SHOPIFY_SHOP", CLOSED_ENDPOINT),
        ("SHOPIFY_ACCESS_TOKEN", "shpat_test_only"),
        ("STRIPE_SECRET_KEY", SECRET_MARKER),
        ("STRIPE_API_BASE", CLOSED_ENDPOINT),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_commands_and_exit_codes() {
    let output = replay_in(&WorkDirectory::new(), &[], &["--help"]);

    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in [
        "list",
        "payment",
        "free",
        "--json",
        "Exit codes",
        "TABLE_NAME",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected} is missing from:\n{stdout}"
        );
    }
}

#[test]
fn invalid_arguments_exit_with_one() {
    let directory = WorkDirectory::new();
    let cases: [&[&str]; 4] = [
        &["rerun"],
        &["list", "--limit", "0"],
        &["list", "--limit", "ten"],
        &["payment"],
    ];

    for arguments in cases {
        let output = replay_in(&directory, &[], arguments);
        assert_eq!(output.status.code(), Some(1), "{arguments:?}");
        assert!(!output.stderr.is_empty(), "{arguments:?}");
    }
}

#[test]
fn missing_table_name_is_named() {
    let output = replay_in(&WorkDirectory::new(), &[], &["list"]);

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: setting TABLE_NAME"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn invalid_registration_id_is_rejected() {
    let output = replay_in(
        &WorkDirectory::new(),
        &complete_settings(),
        &["free", "not-a-uuid"],
    );

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("invalid registration id \"not-a-uuid\""),
        "{stderr}"
    );
}

#[test]
fn json_errors_go_to_standard_output() {
    let output = replay_in(
        &WorkDirectory::new(),
        &complete_settings(),
        &["free", "not-a-uuid", "--json"],
    );

    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", text(&output.stdout)));
    assert_eq!(json["outcome"], "error");
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("invalid registration id"),
        "{json}"
    );
}

#[test]
fn payment_errors_hide_stripe_key() {
    let output = replay_in(
        &WorkDirectory::new(),
        &complete_settings(),
        &["payment", "pi_1/../cancel"],
    );

    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid PaymentIntent id"), "{stderr}");
    assert!(!stdout.contains(SECRET_MARKER), "{stdout}");
    assert!(!stderr.contains(SECRET_MARKER), "{stderr}");
}

#[test]
fn missing_stripe_key_is_named() {
    let settings: Vec<_> = complete_settings()
        .into_iter()
        .filter(|(name, _)| *name != "STRIPE_SECRET_KEY")
        .collect();

    let output = replay_in(&WorkDirectory::new(), &settings, &["payment", "pi_1"]);

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("STRIPE_SECRET_KEY"), "{stderr}");
}

#[test]
fn dotenv_file_is_loaded() {
    let directory = WorkDirectory::new();
    std::fs::write(directory.0.join(".env"), "LIVEMODE=sometimes\n").unwrap();
    let registration_id = uuid::Uuid::new_v4().to_string();

    let output = replay_in(
        &directory,
        &complete_settings(),
        &["free", &registration_id],
    );

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("setting LIVEMODE"), "{stderr}");
}
