use super::*;
use crate::catalog::Catalog;
use phonenumber::country;
use proptest::prelude::*;
use serde_json::{json, Value};

const CATALOG: &str = r#"
version = 1
[[events]]
id = "relay"
name = "Harbour Relay"
currency = "USD"
tax_rate = "0.10"
tax_title = "Sales tax"
[[events.days]]
date = "2027-05-08"
label = "Saturday"
price = "40.00"
[[events.days]]
date = "2027-05-09"
label = "Sunday"
price = "40.00"
"#;

fn catalog() -> Catalog {
    Catalog::from_toml(CATALOG).unwrap()
}

fn request() -> RegistrationRequest {
    RegistrationRequest {
        registration_id: None,
        event_id: Some("relay".to_owned()),
        days: Some(vec!["2027-05-08".to_owned()]),
        quantity: Some(1),
        first_name: Some("Ada".to_owned()),
        last_name: Some("Lovelace".to_owned()),
        email: Some("ada@example.org".to_owned()),
        phone: Some("(202) 555-0143".to_owned()),
        discount_code: None,
        fields: serde_json::Map::new(),
    }
}

fn check(request: RegistrationRequest) -> Result<Registration, FieldError> {
    validate(request, &catalog(), &FormLimits::default(), country::US)
}

fn check_with(
    request: RegistrationRequest,
    limits: &FormLimits,
) -> Result<Registration, FieldError> {
    validate(request, &catalog(), limits, country::US)
}

fn with_fields(value: Value) -> RegistrationRequest {
    let Value::Object(fields) = value else {
        panic!("extra fields must be a JSON object");
    };
    RegistrationRequest {
        fields,
        ..request()
    }
}

fn error_field(result: Result<Registration, FieldError>) -> String {
    result.expect_err("the request must be rejected").field
}

// ---- whole form ----

#[test]
fn valid_form_accepted() {
    let registration = check(request()).unwrap();
    assert_eq!(registration.event_id, "relay");
    assert_eq!(registration.days, ["2027-05-08"]);
    assert_eq!(registration.participants, 1);
    assert_eq!(registration.first_name, "Ada");
    assert_eq!(registration.last_name, "Lovelace");
    assert_eq!(registration.email.as_str(), "ada@example.org");
    assert_eq!(registration.phone.e164, "+12025550143");
    assert_eq!(registration.discount_code, None);
    assert!(registration.fields.is_empty());
}

#[test]
fn form_deserialises_from_json() {
    let body = json!({
        "event_id": "relay",
        "days": ["2027-05-09"],
        "quantity": 2,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.org",
        "phone": "+1 202 555 0143",
        "fields": {"club": "Harbour Runners"}
    });
    let request: RegistrationRequest = serde_json::from_value(body).unwrap();
    let registration = check(request).unwrap();
    assert_eq!(registration.participants, 2);
    assert_eq!(registration.fields[0].name, "club");
    assert_eq!(registration.fields[0].value, "Harbour Runners");
}

// ---- required fields ----

#[test]
fn required_missing_rejected() {
    type Clear = fn(&mut RegistrationRequest);
    let cases: [(&str, Clear); 7] = [
        ("event_id", |r| r.event_id = None),
        ("days", |r| r.days = None),
        ("quantity", |r| r.quantity = None),
        ("first_name", |r| r.first_name = None),
        ("last_name", |r| r.last_name = None),
        ("email", |r| r.email = None),
        ("phone", |r| r.phone = None),
    ];
    for (field, clear) in cases {
        let mut request = request();
        clear(&mut request);
        let error = check(request).expect_err(field);
        assert_eq!(error.field, field, "missing {field}");
        assert!(
            error.message.starts_with("is required; "),
            "missing {field}: {}",
            error.message
        );
    }
}

#[test]
fn required_blank_rejected() {
    type Blank = fn(&mut RegistrationRequest);
    let cases: [(&str, Blank); 5] = [
        ("event_id", |r| r.event_id = Some("  ".to_owned())),
        ("first_name", |r| r.first_name = Some(" \t ".to_owned())),
        ("last_name", |r| r.last_name = Some(String::new())),
        ("email", |r| r.email = Some("   ".to_owned())),
        ("phone", |r| r.phone = Some(" ".to_owned())),
    ];
    for (field, blank) in cases {
        let mut request = request();
        blank(&mut request);
        let error = check(request).expect_err(field);
        assert_eq!(error.field, field, "blank {field}");
        assert!(
            error.message.starts_with("is required; "),
            "blank {field}: {}",
            error.message
        );
    }
}

#[test]
fn required_message_says_what_to_enter() {
    let error = check(RegistrationRequest {
        first_name: None,
        ..request()
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "first_name: is required; enter the participant's first name"
    );
}

// ---- event, days and quantity (checked by Basket) ----

#[test]
fn event_unknown_rejected() {
    let result = check(RegistrationRequest {
        event_id: Some("marathon".to_owned()),
        ..request()
    });
    assert_eq!(error_field(result), "event_id");
}

#[test]
fn event_id_trimmed() {
    let registration = check(RegistrationRequest {
        event_id: Some(" relay ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.event_id, "relay");
}

#[test]
fn days_empty_rejected() {
    let result = check(RegistrationRequest {
        days: Some(Vec::new()),
        ..request()
    });
    assert_eq!(error_field(result), "days");
}

#[test]
fn days_unknown_date_named_by_index() {
    let result = check(RegistrationRequest {
        days: Some(vec!["2027-05-08".to_owned(), "2027-05-10".to_owned()]),
        ..request()
    });
    assert_eq!(error_field(result), "days[1]");
}

#[test]
fn days_malformed_date_rejected() {
    let result = check(RegistrationRequest {
        days: Some(vec!["next Saturday".to_owned()]),
        ..request()
    });
    assert_eq!(error_field(result), "days[0]");
}

#[test]
fn days_returned_in_date_order() {
    let registration = check(RegistrationRequest {
        days: Some(vec!["2027-05-09".to_owned(), "2027-05-08".to_owned()]),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.days, ["2027-05-08", "2027-05-09"]);
}

#[test]
fn quantity_zero_rejected() {
    let result = check(RegistrationRequest {
        quantity: Some(0),
        ..request()
    });
    assert_eq!(error_field(result), "quantity");
}

#[test]
fn quantity_above_maximum_rejected() {
    let result = check(RegistrationRequest {
        quantity: Some(crate::pricing::MAX_PARTICIPANTS + 1),
        ..request()
    });
    assert_eq!(error_field(result), "quantity");
}

// ---- names ----

#[test]
fn names_trimmed() {
    let registration = check(RegistrationRequest {
        first_name: Some("  Ada ".to_owned()),
        last_name: Some("\tKing-Lovelace ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.first_name, "Ada");
    assert_eq!(registration.last_name, "King-Lovelace");
}

#[test]
fn name_at_maximum_accepted() {
    // Multi-byte characters: the limit counts characters, not bytes.
    let name = "Ж".repeat(MAX_PERSON_NAME_CHARS);
    let registration = check(RegistrationRequest {
        first_name: Some(name.clone()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.first_name, name);
}

#[test]
fn name_too_long_rejected() {
    let error = check(RegistrationRequest {
        last_name: Some("a".repeat(MAX_PERSON_NAME_CHARS + 1)),
        ..request()
    })
    .unwrap_err();
    assert_eq!(error.field, "last_name");
    assert!(
        error
            .message
            .contains(&format!("maximum is {MAX_PERSON_NAME_CHARS}")),
        "{}",
        error.message
    );
}

#[test]
fn name_with_line_break_rejected() {
    let result = check(RegistrationRequest {
        first_name: Some("Ada\nLovelace".to_owned()),
        ..request()
    });
    assert_eq!(error_field(result), "first_name");
}

// ---- e-mail ----

#[test]
fn email_trimmed_and_lowercased() {
    let registration = check(RegistrationRequest {
        email: Some(" Guest@Example.ORG ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.email.as_str(), "guest@example.org");
}

#[test]
fn email_double_at_rejected() {
    let error = check(RegistrationRequest {
        email: Some("guest@@example.org".to_owned()),
        ..request()
    })
    .unwrap_err();
    assert_eq!(error.field, "email");
    assert!(
        !error.to_string().contains("guest"),
        "the message must not repeat the address: {error}"
    );
}

#[test]
fn email_invalid_forms_rejected() {
    for typed in [
        "guest",
        "guest@",
        "@example.org",
        "guest@localhost",
        "Guest <guest@example.org>",
        "guest@[127.0.0.1]",
        "guest@exa mple.org",
        "guest@example..org",
    ] {
        let result = Email::parse(typed);
        assert!(result.is_err(), "{typed:?} must be rejected");
    }
}

#[test]
fn email_too_long_rejected() {
    let domain = format!("{}.org", "d".repeat(60));
    let domains = [domain.as_str(); 4].join(".");
    let typed = format!("guest@{domains}");
    assert!(typed.len() > MAX_EMAIL_CHARS);
    let error = Email::parse(&typed).unwrap_err();
    assert!(error.contains(&MAX_EMAIL_CHARS.to_string()), "{error}");
}

// ---- phone ----

#[test]
fn phone_national_us_to_e164() {
    let phone = Phone::parse("(202) 555-0143", country::US).unwrap();
    assert_eq!(phone.e164, "+12025550143");
}

#[test]
fn phone_raw_kept_as_typed() {
    let registration = check(RegistrationRequest {
        phone: Some(" (202) 555-0143 ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.phone.raw, " (202) 555-0143 ");
    assert_eq!(registration.phone.e164, "+12025550143");
}

#[test]
fn phone_country_code_overrides_region() {
    let phone = Phone::parse("+44 20 7946 0958", country::US).unwrap();
    assert_eq!(phone.e164, "+442079460958");
}

#[test]
fn phone_default_region_applied() {
    let phone = Phone::parse("020 7946 0958", country::GB).unwrap();
    assert_eq!(phone.e164, "+442079460958");
}

#[test]
fn phone_extension_only_in_raw() {
    let phone = Phone::parse("202-555-0143 ext. 12", country::US).unwrap();
    assert_eq!(phone.e164, "+12025550143");
    assert_eq!(phone.raw, "202-555-0143 ext. 12");
}

#[test]
fn phone_invalid_number_rejected() {
    // Well formed, but no US area code starts with 0 or 1.
    let error = check(RegistrationRequest {
        phone: Some("(012) 555-0143".to_owned()),
        ..request()
    })
    .unwrap_err();
    assert_eq!(error.field, "phone");
    assert!(
        !error.message.contains("555"),
        "the message must not repeat the number: {}",
        error.message
    );
}

#[test]
fn phone_not_a_number_rejected() {
    for typed in [
        "call me",
        "12",
        "+999 1234 5678",
        "+1 202 555 0143 0143 0143",
    ] {
        let result = Phone::parse(typed, country::US);
        assert!(result.is_err(), "{typed:?} must be rejected");
    }
}

#[test]
fn phone_too_long_rejected() {
    let typed = format!("+1 202 555 0143{}", " ".repeat(MAX_PHONE_CHARS));
    let typed = format!("{typed}x");
    let error = Phone::parse(&typed, country::US).unwrap_err();
    assert!(error.contains(&MAX_PHONE_CHARS.to_string()), "{error}");
}

// ---- registration id ----

#[test]
fn registration_id_kept() {
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let registration = check(RegistrationRequest {
        registration_id: Some(id.to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.registration_id.to_string(), id);
}

#[test]
fn registration_id_created_when_absent() {
    let first = check(request()).unwrap().registration_id;
    let second = check(request()).unwrap().registration_id;
    assert_eq!(first.get_version_num(), 4);
    assert_ne!(first, second);
}

#[test]
fn registration_id_invalid_rejected() {
    for typed in ["order-17", "", "67e55044-10b1-426f-9247"] {
        let result = check(RegistrationRequest {
            registration_id: Some(typed.to_owned()),
            ..request()
        });
        assert_eq!(error_field(result), "registration_id", "{typed:?}");
    }
}

#[test]
fn registration_id_nil_rejected() {
    let result = check(RegistrationRequest {
        registration_id: Some(Uuid::nil().to_string()),
        ..request()
    });
    assert_eq!(error_field(result), "registration_id");
}

// ---- discount code ----

#[test]
fn discount_code_normalised() {
    let registration = check(RegistrationRequest {
        discount_code: Some("  early10 ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.discount_code.as_deref(), Some("EARLY10"));
}

#[test]
fn discount_code_blank_is_none() {
    let registration = check(RegistrationRequest {
        discount_code: Some("   ".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.discount_code, None);
}

#[test]
fn discount_code_unknown_not_checked_here() {
    let registration = check(RegistrationRequest {
        discount_code: Some("NO-SUCH-CODE".to_owned()),
        ..request()
    })
    .unwrap();
    assert_eq!(registration.discount_code.as_deref(), Some("NO-SUCH-CODE"));
}

// ---- extra fields ----

#[test]
fn fields_keep_order() {
    let registration = check(with_fields(json!({
        "zeta": "1",
        "alpha": "2",
        "mid": "3"
    })))
    .unwrap();
    let names: Vec<&str> = registration
        .fields
        .iter()
        .map(|field| field.name.as_str())
        .collect();
    assert_eq!(names, ["zeta", "alpha", "mid"]);
}

#[test]
fn fields_values_become_text() {
    let registration = check(with_fields(json!({
        "text": "  spaced out  ",
        "integer": 42,
        "decimal": 1.5,
        "yes": true,
        "no": false,
        "nothing": null,
        "list": ["A", "B"],
        "mixed list": ["A", 2, true, null],
        "empty list": []
    })))
    .unwrap();
    let values: Vec<(&str, &str)> = registration
        .fields
        .iter()
        .map(|field| (field.name.as_str(), field.value.as_str()))
        .collect();
    assert_eq!(values[0], ("text", "  spaced out  "));
    assert_eq!(values[1], ("integer", "42"));
    assert_eq!(values[2], ("decimal", "1.5"));
    assert_eq!(values[3], ("yes", "true"));
    assert_eq!(values[4], ("no", "false"));
    assert_eq!(values[5], ("nothing", ""));
    assert_eq!(values[6], ("list", "A, B"));
    assert_eq!(values[7], ("mixed list", "A, 2, true"));
    assert_eq!(values[8], ("empty list", ""));
}

#[test]
fn fields_object_rejected() {
    let result = check(with_fields(json!({"address": {"city": "Oslo"}})));
    assert_eq!(error_field(result), "fields.address");
}

#[test]
fn fields_nested_list_rejected() {
    let result = check(with_fields(json!({"sizes": ["M", ["L"]]})));
    assert_eq!(error_field(result), "fields.sizes");
}

#[test]
fn fields_list_with_object_rejected() {
    let result = check(with_fields(json!({"sizes": ["M", {"size": "L"}]})));
    assert_eq!(error_field(result), "fields.sizes");
}

#[test]
fn fields_names_trimmed() {
    let registration = check(with_fields(json!({"  club  ": "Harbour Runners"}))).unwrap();
    assert_eq!(registration.fields[0].name, "club");
}

#[test]
fn fields_blank_name_rejected() {
    let error = check(with_fields(json!({"club": "x", "   ": "y"}))).unwrap_err();
    assert_eq!(error.field, "fields");
    assert!(error.message.contains("number 2"), "{}", error.message);
}

#[test]
fn fields_duplicate_after_trim_rejected() {
    let result = check(with_fields(json!({"club": "x", " club ": "y"})));
    assert_eq!(error_field(result), "fields.club");
}

#[test]
fn fields_typed_field_names_allowed() {
    let registration = check(with_fields(json!({
        "email": "second@example.org",
        "first_name": "Grace"
    })))
    .unwrap();
    assert_eq!(registration.fields.len(), 2);
    assert_eq!(registration.email.as_str(), "ada@example.org");
    assert_eq!(registration.first_name, "Ada");
}

#[test]
fn fields_name_control_character_rejected() {
    let result = check(with_fields(json!({"club\nname": "x"})));
    assert_eq!(error_field(result), "fields.club\nname");
}

#[test]
fn fields_count_limit() {
    let limits = FormLimits {
        max_fields: 3,
        ..FormLimits::default()
    };
    let accepted = check_with(with_fields(json!({"a": 1, "b": 2, "c": 3})), &limits);
    assert!(accepted.is_ok(), "{accepted:?}");

    let error = check_with(
        with_fields(json!({"a": 1, "b": 2, "c": 3, "d": 4})),
        &limits,
    )
    .unwrap_err();
    assert_eq!(error.field, "fields");
    assert!(error.message.contains("maximum is 3"), "{}", error.message);
}

#[test]
fn fields_name_length_limit() {
    let limits = FormLimits {
        max_name_chars: 5,
        ..FormLimits::default()
    };
    // Five Cyrillic letters are ten bytes but five characters.
    let accepted = check_with(with_fields(json!({"клубы": "x"})), &limits);
    assert!(accepted.is_ok(), "{accepted:?}");

    let error = check_with(with_fields(json!({"clubs2": "x"})), &limits).unwrap_err();
    assert_eq!(error.field, "fields.clubs2");
    assert!(error.message.contains("maximum is 5"), "{}", error.message);
}

#[test]
fn fields_value_length_limit() {
    let limits = FormLimits {
        max_value_chars: 4,
        ..FormLimits::default()
    };
    // Four emoji are sixteen bytes but four characters.
    let accepted = check_with(with_fields(json!({"mood": "😀😀😀😀"})), &limits);
    assert!(accepted.is_ok(), "{accepted:?}");

    let error = check_with(with_fields(json!({"mood": "abcde"})), &limits).unwrap_err();
    assert_eq!(error.field, "fields.mood");
    assert!(error.message.contains("maximum is 4"), "{}", error.message);
}

#[test]
fn fields_joined_list_counts_toward_limit() {
    let limits = FormLimits {
        max_value_chars: 4,
        ..FormLimits::default()
    };
    // `["AB", "CD"]` becomes `AB, CD`: six characters.
    let result = check_with(with_fields(json!({"sizes": ["AB", "CD"]})), &limits);
    assert_eq!(error_field(result), "fields.sizes");
}

#[test]
fn large_multiscript_form_accepted() {
    let mut fields = serde_json::Map::new();
    // Latin, Cyrillic, CJK and emoji, with 4-byte characters, 1,200 characters in all.
    let comment: String = "Fast course! Быстрая трасса! 速いコース！🏃‍♀️🌊"
        .chars()
        .cycle()
        .take(1_200)
        .collect();
    let long_name = "n".repeat(45);
    fields.insert("comment".to_owned(), Value::String(comment.clone()));
    fields.insert(long_name.clone(), json!("x"));
    fields.insert("sizes".to_owned(), json!(["A", "B"]));
    for index in 3..60 {
        fields.insert(format!("extra {index}"), json!(index));
    }
    assert_eq!(fields.len(), 60);

    let registration = check(RegistrationRequest {
        fields,
        ..request()
    })
    .unwrap();

    assert_eq!(registration.fields.len(), 60);
    assert_eq!(registration.fields[0].name, "comment");
    assert_eq!(registration.fields[0].value, comment);
    assert_eq!(registration.fields[0].value.chars().count(), 1_200);
    assert_eq!(registration.fields[1].name, long_name);
    assert_eq!(registration.fields[2].value, "A, B");
    assert_eq!(registration.fields[59].name, "extra 59");
    assert_eq!(registration.fields[59].value, "59");
}

#[test]
fn phone_and_email_examples() {
    let phone = Phone::parse("(202) 555-0143", country::US).unwrap();
    assert_eq!(phone.e164, "+12025550143");

    let email = Email::parse(" Guest@Example.ORG ").unwrap();
    assert_eq!(email.as_str(), "guest@example.org");

    let result = check(RegistrationRequest {
        email: Some("guest@@example.org".to_owned()),
        ..request()
    });
    assert_eq!(error_field(result), "email");
}

// ---- robustness ----

proptest! {
    #[test]
    fn phone_parse_never_panics(typed in "\\PC{0,40}") {
        let _ = Phone::parse(&typed, country::US);
    }

    #[test]
    fn phone_digits_parse_never_panics(typed in "[+0-9 ()./x-]{0,30}") {
        let _ = Phone::parse(&typed, country::DE);
    }

    #[test]
    fn email_parse_never_panics(typed in "\\PC{0,80}") {
        let _ = Email::parse(&typed);
    }
}
