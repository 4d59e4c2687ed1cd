//! Entry points of the fuzz targets (`fuzz/`), kept in the crate so that the
//! regression inputs in `tests/fuzz_regressions/` run through exactly the same
//! code in `cargo test`. Each takes arbitrary bytes and must never panic.

use crate::cli::{read_documents, render, OutputFormat};
use crate::event::{ConfigEvent, Trigger};
use crate::json::Node;
use crate::verdict::{evaluate, KnownPrefixLists};
use crate::{evaluate_document, Parameters};
use chrono::{TimeZone, Utc};
use serde_json::Value;

/// Decodes bytes as a Config Lambda event (or, when the first byte is 0x01, the
/// rest as the text of its double-encoded `invokingEvent`) and evaluates what
/// it holds.
/// Returns whether it decoded.
pub fn decode_and_evaluate_event(data: &[u8]) -> bool {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let event: Value = if data.first() == Some(&1) {
        let text = String::from_utf8_lossy(&data[1..]).into_owned();
        serde_json::json!({ "invokingEvent": text, "ruleParameters": "{}", "resultToken": "TESTMODE" })
    } else {
        match serde_json::from_slice(data) {
            Ok(v) => v,
            Err(_) => return false,
        }
    };
    let Ok(config_event) = ConfigEvent::parse(&Node::root(&event, "event")) else {
        return false;
    };
    let Ok(parameters) = Parameters::from_json_text(&config_event.rule_parameters) else {
        return false;
    };
    let fallback = config_event.notification_time.unwrap_or(now);
    match config_event.trigger {
        Trigger::Change(resource) => {
            let e = evaluate(
                &resource,
                &parameters,
                &KnownPrefixLists::new(),
                fallback,
                now,
            );
            assert!(e
                .annotation
                .as_ref()
                .is_none_or(|a| (1..=256).contains(&a.chars().count())));
        }
        Trigger::Oversized(summary) => {
            if let Some(resource) = summary.not_applicable_resource() {
                evaluate(
                    &resource,
                    &parameters,
                    &KnownPrefixLists::new(),
                    fallback,
                    now,
                );
            }
        }
        Trigger::Scheduled | Trigger::NotDetective(_) => {}
    }
    true
}

/// Reads bytes as the CLI does, evaluates every document and renders both
/// output formats. Returns whether it read.
pub fn read_and_evaluate_input(data: &[u8]) -> bool {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let Ok(documents) = read_documents(data) else {
        return false;
    };
    for document in documents {
        let parameters = match &document.rule_parameters {
            Some(text) => match Parameters::from_json_text(text) {
                Ok(p) => p,
                Err(_) => continue,
            },
            None => Parameters::default(),
        };
        let evaluations = evaluate_document(&document, &parameters, &KnownPrefixLists::new(), now);
        for e in &evaluations {
            assert!(e
                .annotation
                .as_ref()
                .is_none_or(|a| (1..=256).contains(&a.chars().count())));
        }
        let json = render(&evaluations, OutputFormat::Json, false);
        assert!(serde_json::from_str::<Value>(&json).is_ok());
        render(&evaluations, OutputFormat::Table, true);
    }
    true
}
