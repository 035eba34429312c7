use super::*;

/// Current Unix time in every case.
const NOW: i64 = 1_700_000_000;
const TOLERANCE: i64 = DEFAULT_TOLERANCE_SECONDS;
const SECRET: &str = "whsec_test_secret";
const ROLLED_SECRET: &str = "whsec_test_secret_rolled_key";

/// 51 bytes: two-space indent, `\n` line ends, no trailing newline.
const BODY: &[u8] = b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
/// `BODY` followed by one `\n`.
const BODY_WITH_NEWLINE: &[u8] =
    b"{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}\n";
/// `BODY` with the last letter of the event id in upper case.
const BODY_CHANGED: &[u8] = b"{\n  \"id\": \"evt_test_webhooK\",\n  \"object\": \"event\"\n}";

// Lowercase hex HMAC-SHA256 of "{t}.{body}", computed independently of this module.
/// `SECRET`, t = 1700000000, `BODY`.
const SIG_NOW: &str = "4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150";
/// `SECRET`, t = 1699999985, `BODY`.
const SIG_AGE_15: &str = "863601b9d49fc793147c9ce6edb3a24a79c181ebfc398a35cee56c357d862729";
/// `SECRET`, t = 1699999700, `BODY`.
const SIG_AGE_300: &str = "c4a6381e4e047fc6df72b8469e73152bdaf5c87c7c81f847415c6ecde47b8190";
/// `SECRET`, t = 1699999699, `BODY`.
const SIG_AGE_301: &str = "7fe80edc955ab876f09b7e4f44300802d1f24b49b823bf67cf1ed519b17dac19";
/// `SECRET`, t = 1700000300, `BODY`.
const SIG_FUTURE_300: &str = "a58f0a32adf54369a341a33be4b6e7ba586760d49549ce2154625bb05397e43d";
/// `SECRET`, t = 1700000301, `BODY`.
const SIG_FUTURE_301: &str = "a197fe4cf0d48ceeb5118b3a7de8d5d61b8e8367b8ee94a532901ad81d5f90e3";
/// `SECRET`, t = 12345, `BODY`.
const SIG_OLD: &str = "2672d138c9a412830f3bfe2ecc5bfb3277cf6f5b49d0119d77dd6cb64da1257e";
/// `ROLLED_SECRET`, t = 1700000000, `BODY`.
const SIG_ROLLED: &str = "dc80d0334b78e0dbbc3d5352c151a428b746163b94ad381096bb293b9e650f1e";
/// `SECRET`, t = 1700000000, empty body.
const SIG_EMPTY_BODY: &str = "316b9ab98c15bfa039d243f3196acee619cf29749a91a634e6a8154e2f7b6727";
/// `SECRET`, t = 1700000000, `BODY_WITH_NEWLINE`.
const SIG_NEWLINE: &str = "d3c4aa0a1a511b40677c569aa6fe7b4be56341c01e8cb0a8a41f84d64daf520b";

fn secret(value: &str) -> WebhookSecret {
    WebhookSecret::new(value).unwrap()
}

/// One row of the verification table.
struct Case {
    name: &'static str,
    header: Option<String>,
    body: &'static [u8],
    secrets: Vec<WebhookSecret>,
    tolerance_seconds: i64,
    expected: Result<(), SignatureError>,
}

impl Case {
    /// Creates a case with `SECRET`, `BODY` and the default tolerance that expects acceptance.
    fn new(name: &'static str, header: &str) -> Self {
        Self {
            name,
            header: Some(header.to_owned()),
            body: BODY,
            secrets: vec![secret(SECRET)],
            tolerance_seconds: TOLERANCE,
            expected: Ok(()),
        }
    }

    fn absent_header(mut self) -> Self {
        self.header = None;
        self
    }

    fn body(mut self, body: &'static [u8]) -> Self {
        self.body = body;
        self
    }

    fn secrets(mut self, values: &[&str]) -> Self {
        self.secrets = values.iter().map(|value| secret(value)).collect();
        self
    }

    fn tolerance(mut self, seconds: i64) -> Self {
        self.tolerance_seconds = seconds;
        self
    }

    fn rejects(mut self, error: SignatureError) -> Self {
        self.expected = Err(error);
        self
    }

    fn run(&self) -> Result<(), SignatureError> {
        verify(
            self.header.as_deref(),
            self.body,
            &self.secrets,
            NOW,
            self.tolerance_seconds,
        )
    }
}

fn outside_tolerance(age_seconds: i64) -> SignatureError {
    SignatureError::TimestampOutsideTolerance {
        age_seconds,
        tolerance_seconds: TOLERANCE,
    }
}

fn malformed(reason: MalformedHeaderReason) -> SignatureError {
    SignatureError::MalformedHeader(reason)
}

fn cases() -> Vec<Case> {
    use MalformedHeaderReason::*;
    use SignatureError::*;

    let header_now = format!("t=1700000000,v1={SIG_NOW}");
    let not_json_body: &[u8] = b"this is not valid JSON";
    vec![
        Case::new("V1 valid signature", &header_now),
        Case::new("V2 valid with tolerance 10", &header_now).tolerance(10),
        Case::new(
            "V3 body with trailing newline",
            &format!("t=1700000000,v1={SIG_NEWLINE}"),
        )
        .body(BODY_WITH_NEWLINE),
        Case::new(
            "V4 signature of other body",
            &format!("t=1700000000,v1={SIG_NEWLINE}"),
        )
        .rejects(NoMatchingSignature),
        Case::new("V5 secret with trailing space", &header_now)
            .secrets(&["whsec_test_secret "])
            .rejects(NoMatchingSignature),
        Case::new(
            "V6 signature of other secret",
            &format!("t=1700000000,v1={SIG_ROLLED}"),
        )
        .rejects(NoMatchingSignature),
        Case::new("V7 body changed by one letter", &header_now)
            .body(BODY_CHANGED)
            .rejects(NoMatchingSignature),
        Case::new("V8 non-hex signature", "t=1700000000,v1=bad_signature")
            .rejects(NoMatchingSignature),
        Case::new("V9 short hex signature", "t=1700000000,v1=6465616462656566")
            .rejects(NoMatchingSignature),
        Case::new(
            "V10 age 15 with tolerance 10",
            &format!("t=1699999985,v1={SIG_AGE_15}"),
        )
        .tolerance(10)
        .rejects(TimestampOutsideTolerance {
            age_seconds: 15,
            tolerance_seconds: 10,
        }),
        Case::new(
            "V11 age 15 with tolerance 20",
            &format!("t=1699999985,v1={SIG_AGE_15}"),
        )
        .tolerance(20),
        Case::new(
            "V12 age exactly 300",
            &format!("t=1699999700,v1={SIG_AGE_300}"),
        ),
        Case::new("V13 age 301", &format!("t=1699999699,v1={SIG_AGE_301}"))
            .rejects(outside_tolerance(301)),
        Case::new("V14 very old timestamp", &format!("t=12345,v1={SIG_OLD}"))
            .rejects(outside_tolerance(NOW - 12345)),
        Case::new(
            "V15 300 s in the future",
            &format!("t=1700000300,v1={SIG_FUTURE_300}"),
        ),
        Case::new(
            "V16 301 s in the future",
            &format!("t=1700000301,v1={SIG_FUTURE_301}"),
        )
        .rejects(outside_tolerance(-301)),
        Case::new(
            "V17 valid then invalid v1",
            &format!("t=1700000000,v1={SIG_NOW},v1=bad_signature"),
        ),
        Case::new(
            "V18 invalid then valid v1",
            &format!("t=1700000000,v1=bad_signature,v1={SIG_NOW}"),
        ),
        Case::new(
            "V19 two v1, first secret",
            &format!("t=1700000000,v1={SIG_NOW},v1={SIG_ROLLED}"),
        ),
        Case::new(
            "V20 two v1, rolled secret",
            &format!("t=1700000000,v1={SIG_NOW},v1={SIG_ROLLED}"),
        )
        .secrets(&[ROLLED_SECRET]),
        Case::new(
            "V21 two secrets, rolled signature",
            &format!("t=1700000000,v1={SIG_ROLLED}"),
        )
        .secrets(&[SECRET, ROLLED_SECRET]),
        Case::new("V22 only v0", &format!("t=1700000000,v0={SIG_NOW}")).rejects(NoV1Signature),
        Case::new(
            "V23 v1 and v0",
            &format!("t=1700000000,v1={SIG_NOW},v0={SIG_NOW}"),
        ),
        Case::new("V24 not a signature header", "i'm not a signature header")
            .rejects(malformed(ItemWithoutEquals)),
        Case::new("V25 empty header", "").rejects(MissingHeader),
        Case::new("V25 absent header", "")
            .absent_header()
            .rejects(MissingHeader),
        Case::new("V25 whitespace header", "  \t ").rejects(MissingHeader),
        Case::new(
            "V26 empty body, valid signature",
            &format!("t=1700000000,v1={SIG_EMPTY_BODY}"),
        )
        .body(b"")
        .rejects(EmptyBody),
        Case::new("V26 empty body, absent header", "")
            .absent_header()
            .body(b"")
            .rejects(EmptyBody),
        Case::new("V27 item without equals", "v1,t=1").rejects(malformed(ItemWithoutEquals)),
        Case::new("V28 non-integer timestamp", &format!("t=abc,v1={SIG_NOW}"))
            .rejects(malformed(InvalidTimestamp)),
        Case::new("V28 empty timestamp", &format!("t=,v1={SIG_NOW}"))
            .rejects(malformed(InvalidTimestamp)),
        Case::new("V29 no timestamp", &format!("v1={SIG_NOW}"))
            .rejects(malformed(MissingTimestamp)),
        Case::new(
            "V30 duplicate timestamp",
            &format!("t=1700000000,t=1699999000,v1={SIG_NOW}"),
        )
        .rejects(malformed(DuplicateTimestamp)),
        Case::new(
            "V31 space after comma",
            &format!("t=1700000000, v1={SIG_NOW}"),
        ),
        Case::new(
            "V32 upper-case signature",
            &format!("t=1700000000,v1={}", SIG_NOW.to_ascii_uppercase()),
        ),
        Case::new(
            "V33 timestamp after signature",
            &format!("v1={SIG_NOW},t=1700000000"),
        ),
        Case::new(
            "V34 body that is not JSON",
            &sign(NOW, not_json_body, &secret(SECRET)),
        )
        .body(not_json_body),
        Case::new("trailing comma", &format!("{header_now},"))
            .rejects(malformed(ItemWithoutEquals)),
        Case::new("no secrets configured", &header_now)
            .secrets(&[])
            .rejects(NoMatchingSignature),
        Case::new("valid signature, negative tolerance", &header_now).tolerance(-5),
        Case::new(
            "timestamp at i64 minimum",
            &sign(i64::MIN, BODY, &secret(SECRET)),
        )
        .rejects(outside_tolerance(i64::MAX)),
        Case::new(
            "timestamp at i64 maximum",
            &sign(i64::MAX, BODY, &secret(SECRET)),
        )
        .rejects(outside_tolerance(NOW - i64::MAX)),
    ]
}

#[test]
fn verify_vector_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let actual = case.run();
        if actual != case.expected {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.expected, actual
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn verify_accepts_longer_fixed_vector() {
    let header = "t=1533204620,\
        v1=d7373bc68f4bd320b253cd7461f87af6e1cdf1b4d7db1614d8d1d746972d2d0a,\
        v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef";
    let body = concat!(
        r#"{"account":"acct_123","api_version":"2017-05-25","created":1533204620,"#,
        r#""data":{"object":{"amount":1000,"currency":"usd","customer":"cus_123","#,
        r#""date":1533204620,"description":"Test Invoice Item","discountable":false,"#,
        r#""id":"ii_123","invoice":"in_123","livemode":false,"metadata":{},"#,
        r#""object":"invoiceitem","period":{"end":1533204620,"start":1533204620},"#,
        r#""proration":false,"quantity":3,"quantity_decimal":"0"}},"id":"evt_123","#,
        r#""livemode":false,"object":"event","pending_webhooks":1,"#,
        r#""request":{"id":"req_123","idempotency_key":"idempotency-key-123"},"#,
        r#""type":"invoiceitem.created"}"#,
    );
    let result = verify(
        Some(header),
        body.as_bytes(),
        &[secret("secret")],
        1_533_204_620,
        TOLERANCE,
    );
    assert_eq!(result, Ok(()));
}

#[test]
fn sign_reproduces_known_signatures() {
    let main = secret(SECRET);
    let rolled = secret(ROLLED_SECRET);
    let rows: [(&str, i64, &[u8], &WebhookSecret, &str); 10] = [
        ("now", NOW, BODY, &main, SIG_NOW),
        ("age 15", 1_699_999_985, BODY, &main, SIG_AGE_15),
        ("age 300", 1_699_999_700, BODY, &main, SIG_AGE_300),
        ("age 301", 1_699_999_699, BODY, &main, SIG_AGE_301),
        ("future 300", 1_700_000_300, BODY, &main, SIG_FUTURE_300),
        ("future 301", 1_700_000_301, BODY, &main, SIG_FUTURE_301),
        ("old", 12_345, BODY, &main, SIG_OLD),
        ("rolled secret", NOW, BODY, &rolled, SIG_ROLLED),
        ("empty body", NOW, b"", &main, SIG_EMPTY_BODY),
        (
            "trailing newline",
            NOW,
            BODY_WITH_NEWLINE,
            &main,
            SIG_NEWLINE,
        ),
    ];
    for (name, timestamp, body, key, signature) in rows {
        assert_eq!(
            sign(timestamp, body, key),
            format!("t={timestamp},v1={signature}"),
            "{name}"
        );
    }
}

#[test]
fn signed_payload_uses_timestamp_text_as_sent() {
    // A leading zero leaves the integer unchanged but changes the signed bytes.
    let header = format!("t=01700000000,v1={SIG_NOW}");
    let result = verify(Some(&header), BODY, &[secret(SECRET)], NOW, TOLERANCE);
    assert_eq!(result, Err(SignatureError::NoMatchingSignature));
}

#[test]
fn empty_secret_is_rejected() {
    assert_eq!(WebhookSecret::new("").unwrap_err(), EmptyWebhookSecret);
}

#[test]
fn secret_debug_and_display_are_redacted() {
    let key = secret(SECRET);
    assert_eq!(format!("{key:?}"), "[redacted]");
    assert_eq!(format!("{key}"), "[redacted]");
    assert_eq!(format!("{:?}", vec![key.clone()]), "[[redacted]]");
    assert!(!format!("{:#?}", Some(key)).contains(SECRET));
}

#[test]
fn errors_never_show_secret_or_signature() {
    let errors: Vec<SignatureError> = cases().iter().filter_map(|case| case.run().err()).collect();
    assert!(!errors.is_empty());

    let forbidden = [
        SECRET,
        ROLLED_SECRET,
        "test_secret",
        SIG_NOW,
        SIG_ROLLED,
        "evt_test_webhook",
    ];
    for error in &errors {
        for text in [format!("{error:?}"), error.to_string()] {
            for value in forbidden {
                assert!(
                    !text.contains(value),
                    "error output {text:?} contains {value:?}"
                );
            }
        }
    }
}
