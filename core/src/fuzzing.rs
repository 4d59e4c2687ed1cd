//! Entry points of the fuzz targets (`fuzz/`), kept in the crate so that the
//! regression inputs in `tests/fuzz_regressions/` run through exactly the same
//! code in `cargo test`. Each takes arbitrary bytes and must never panic; each
//! returns what it decided (the verdicts, or why the input was refused), so
//! that a regression input can be held to its expected outcome.

use crate::read::{read_documents, read_event, Trigger};
use crate::report::{write_json, write_table};
use crate::verdict::{evaluate, Compliance, Evaluation, KnownPrefixLists};
use crate::{evaluate_document, Parameters};
use chrono::{TimeZone, Utc};
use serde_json::Value;

/// What an entry point decided: each evaluated resource's id and verdict, or
/// why the input was refused.
pub type Outcome = Result<Vec<(String, Compliance)>, String>;

/// An annotation PutEvaluations accepts: 1 to 256 characters and UTF-16 units.
fn assert_annotation_fits(e: &Evaluation) {
    assert!(e.annotation.as_ref().is_none_or(|a| {
        (1..=256).contains(&a.chars().count()) && a.encode_utf16().count() <= 256
    }));
}

/// Decodes bytes as a Config Lambda event (or, when the first byte is 0x01, the
/// rest as the text of its double-encoded `invokingEvent`) and evaluates what
/// it holds.
pub fn decode_and_evaluate_event(data: &[u8]) -> Outcome {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let event = match data.split_first() {
        Some((1, text)) => {
            let text = String::from_utf8_lossy(text).into_owned();
            serde_json::to_vec(&serde_json::json!({ "invokingEvent": text, "ruleParameters": "{}", "resultToken": "TESTMODE" }))
                .expect("a JSON value serializes")
        }
        _ => data.to_vec(),
    };
    let config_event = read_event(&event).map_err(|e| e.to_string())?;
    let parameters =
        Parameters::from_json_text(&config_event.rule_parameters).map_err(|e| e.to_string())?;
    let fallback = config_event.notification_time.unwrap_or(now);
    let resource = match config_event.trigger {
        Trigger::Change(resource) => Some(*resource),
        Trigger::Oversized(summary) => summary.not_applicable_resource(),
        Trigger::Scheduled | Trigger::NotDetective(_) => None,
    };
    Ok(resource
        .map(|resource| {
            let e = evaluate(
                &resource,
                &parameters,
                &KnownPrefixLists::new(),
                fallback,
                now,
            );
            assert_annotation_fits(&e);
            (e.compliance_resource_id, e.compliance_type)
        })
        .into_iter()
        .collect())
}

/// Reads bytes as the CLI does, evaluates every document and renders both
/// output formats. The same bytes are also read as `evaluate --network`
/// reads a file, and every group its interfaces list gets its exposure on
/// both families: neither may panic.
pub fn read_and_evaluate_input(data: &[u8]) -> Outcome {
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    let mut network = crate::exposure::Network::default();
    if crate::read::read_network(data, &mut network).is_ok() {
        for interface in &network.interfaces {
            for group in &interface.groups {
                for family in [crate::cidr::Family::Ipv4, crate::cidr::Family::Ipv6] {
                    let _ = crate::exposure::exposure(
                        group,
                        Some(interface.vpc_id.as_str()),
                        family,
                        &network,
                    );
                }
            }
        }
    }
    let mut verdicts = Vec::new();
    for document in read_documents(data).map_err(|e| e.to_string())? {
        let parameters = match &document.rule_parameters {
            Some(text) => Parameters::from_json_text(text).map_err(|e| e.to_string())?,
            None => Parameters::default(),
        };
        let evaluations = evaluate_document(&document, &parameters, &KnownPrefixLists::new(), now);
        evaluations.iter().for_each(assert_annotation_fits);
        let mut json = Vec::new();
        write_json(&mut json, &evaluations).expect("writes to memory");
        assert!(serde_json::from_slice::<Value>(&json).is_ok());
        write_table(&mut Vec::new(), &evaluations, None, true).expect("writes to memory");
        verdicts.extend(
            evaluations
                .into_iter()
                .map(|e| (e.compliance_resource_id, e.compliance_type)),
        );
    }
    Ok(verdicts)
}

/// What a template check decided: each result's resource and outcome, or
/// why the input was refused.
pub type TemplateOutcome = Result<Vec<(String, crate::templates::Outcome)>, String>;

/// Reads bytes as `check` reads a file (a CloudFormation template, JSON or
/// YAML, or a Terraform plan), checks it with one template parameter given,
/// and renders SARIF. Every result must point at a line of the input and
/// carry an annotation Config would accept.
pub fn read_and_check_template(data: &[u8]) -> TemplateOutcome {
    use crate::templates::{
        cloudformation, read_document, sarif, terraform, CheckOptions, Document,
    };
    let options = CheckOptions {
        parameters: Parameters::default(),
        template_parameters: [("Cidr".to_string(), "0.0.0.0/0".to_string())]
            .into_iter()
            .collect(),
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).expect("a date"),
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    };
    let results = match read_document(data).map_err(|e| e.to_string())? {
        Document::Template(root) => {
            cloudformation::check_template(&root, &options)
                .map_err(|e| e.to_string())?
                .results
        }
        Document::Plan(root) => {
            terraform::check_plan(&root, &options).map_err(|e| e.to_string())?
        }
        Document::Manifest(_) => return Ok(Vec::new()),
    };
    // An upper bound: a line may end in \n, \r\n or a lone \r.
    let lines = u32::try_from(data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() + 1)
        .unwrap_or(u32::MAX);
    for result in &results {
        assert!(
            (1..=lines).contains(&result.line),
            "line {} of {lines}",
            result.line
        );
        assert!(result.related_lines.iter().all(|l| (1..=lines).contains(l)));
        assert!(result.annotation.as_ref().is_none_or(|a| {
            (1..=256).contains(&a.chars().count()) && a.encode_utf16().count() <= 256
        }));
    }
    let located: Vec<sarif::Located> = results
        .iter()
        .map(|result| sarif::Located { uri: "t", result })
        .collect();
    assert!(serde_json::to_vec(&sarif::to_sarif(&located, "0")).is_ok());
    Ok(results
        .into_iter()
        .map(|r| (r.resource, r.outcome))
        .collect())
}
