//! Evaluations: a resource's judgement in the exact shape of PutEvaluations.

use super::judgement::judge;
use super::wording::fit_annotation;
use crate::model::{ItemStatus, KnownPrefixLists, Resource, SECURITY_GROUP_TYPE};
use crate::params::Parameters;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::fmt;

/// A PutEvaluations `ComplianceType` (never `INSUFFICIENT_DATA`, which
/// PutEvaluations rejects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    Compliant,
    NonCompliant,
    NotApplicable,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl fmt::Display for Compliance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One evaluation in the exact shape of the PutEvaluations `Evaluations` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Evaluation {
    pub compliance_resource_type: std::borrow::Cow<'static, str>,
    pub compliance_resource_id: String,
    pub compliance_type: Compliance,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
    #[serde(serialize_with = "iso8601")]
    pub ordering_timestamp: DateTime<Utc>,
}

fn iso8601<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Evaluates one resource. `fallback_time` is the `OrderingTimestamp` when the
/// resource carries no capture time (the notification's time, or now); `now`
/// decides whether dated exemptions still hold.
pub fn evaluate(
    resource: &Resource,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    fallback_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Evaluation {
    evaluate_with_network(resource, parameters, prefix_lists, None, fallback_time, now)
}

/// [`evaluate`], with what is known of the network around the group: a
/// NON_COMPLIANT group's exposure is then applied as `ExposureMode` says
/// (SPEC_EXPOSURE §3).
pub fn evaluate_with_network(
    resource: &Resource,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    network: Option<&crate::exposure::Network>,
    fallback_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Evaluation {
    let (compliance, annotation) = decide(resource, parameters, prefix_lists, network, now);
    Evaluation {
        compliance_resource_type: resource.resource_type.clone(),
        compliance_resource_id: resource.resource_id.clone(),
        compliance_type: compliance,
        annotation,
        ordering_timestamp: resource.captured_at.unwrap_or(fallback_time),
    }
}

fn decide(
    resource: &Resource,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    network: Option<&crate::exposure::Network>,
    now: DateTime<Utc>,
) -> (Compliance, Option<String>) {
    let not_applicable = |why: String| (Compliance::NotApplicable, fit_annotation(&why));
    if resource.resource_type != SECURITY_GROUP_TYPE {
        return not_applicable(format!(
            "{} is not evaluated by this rule (only {SECURITY_GROUP_TYPE})",
            resource.resource_type
        ));
    }
    if let ItemStatus::Gone(status) = &resource.status {
        return not_applicable(format!("Configuration item status is {status}"));
    }
    if resource.event_left_scope {
        return not_applicable("The resource left the rule's scope".to_string());
    }
    match &resource.group {
        Some(group) => {
            let mut verdict = judge(group, parameters, prefix_lists, now.date_naive());
            if let Some(network) = network {
                verdict = crate::exposure::apply(verdict, group, network, parameters.exposure_mode);
            }
            (verdict.compliance, verdict.annotation)
        }
        None => not_applicable("The configuration item holds no configuration".to_string()),
    }
}
