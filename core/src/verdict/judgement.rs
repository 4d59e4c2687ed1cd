//! The judgement of one group: its findings, its exemption, and the
//! compliance type and annotation they make.

use super::evaluation::Compliance;
use super::exemption::{exemption, Exemption};
use super::finding::{find_openings, malformed_cidrs, Finding};
use super::wording::{fit_annotation, join_findings};
use crate::model::{KnownPrefixLists, SecurityGroup, Usage};
use crate::params::Parameters;
use chrono::NaiveDate;

/// The outcome for one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub compliance: Compliance,
    pub annotation: Option<String>,
    /// What is open, whether or not an exemption applies.
    pub findings: Vec<Finding>,
}

/// Judges one group.
pub fn judge(
    group: &SecurityGroup,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    today: NaiveDate,
) -> Verdict {
    if parameters.ignore_unused_groups && group.usage == Usage::Unused {
        return Verdict {
            compliance: Compliance::NotApplicable,
            annotation: fit_annotation(
                "Not attached to any network interface (IgnoreUnusedGroups is true)",
            ),
            findings: Vec::new(),
        };
    }
    let findings = find_openings(group, parameters.check_ipv6, prefix_lists);
    let malformed = malformed_cidrs(group);
    let malformed_note = match malformed.as_slice() {
        [] => String::new(),
        [one] => format!("ignored malformed CIDR {one:?}"),
        many => format!(
            "ignored malformed CIDRs {}",
            many.iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let with_note = |text: String| {
        let parts: Vec<&str> = [text.as_str(), malformed_note.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        fit_annotation(&parts.join("; "))
    };
    if findings.is_empty() {
        return Verdict {
            compliance: Compliance::Compliant,
            annotation: with_note(String::new()),
            findings,
        };
    }
    let open = join_findings(&findings);
    let (compliance, text) = match exemption(group, parameters, today) {
        Exemption::Holds(why) => (Compliance::Compliant, format!("Exempt: {why} ({open})")),
        Exemption::None => (Compliance::NonCompliant, open),
        Exemption::Expired { through, tag } => (
            Compliance::NonCompliant,
            format!("Exemption held through {through}, now expired: {open} ({tag})"),
        ),
        Exemption::InvalidDate(tag) => (
            Compliance::NonCompliant,
            format!(
                "{open}; exemption not applied, {tag} does not start with a valid YYYY-MM-DD date"
            ),
        ),
    };
    Verdict {
        compliance,
        annotation: with_note(text),
        findings,
    }
}
