//! How evaluations are shown: the PutEvaluations JSON, or a table for
//! people. Both write to any writer, so that a large run streams its output
//! instead of building it whole.

use crate::verdict::{Compliance, Evaluation};
use std::io::{self, Write};

/// Where a group lives, when a run spans several accounts or regions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub account: Option<String>,
    pub region: Option<String>,
    /// The exposure class of an open group (SPEC_EXPOSURE), when known.
    pub reach: Option<String>,
}

/// A JSON array in the exact shape of PutEvaluations' `Evaluations`: one
/// evaluation a line.
pub fn write_json(out: &mut dyn Write, evaluations: &[Evaluation]) -> io::Result<()> {
    out.write_all(b"[")?;
    for (i, e) in evaluations.iter().enumerate() {
        out.write_all(if i == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, e)?;
    }
    out.write_all(if evaluations.is_empty() {
        b"]\n"
    } else {
        b"\n]\n"
    })
}

/// One line a resource: its verdict and the reason; with `places`, its
/// account and region first (when any is known) and the exposure class of
/// open groups (when any is known). `color` marks the verdicts for a terminal.
pub fn write_table(
    out: &mut dyn Write,
    evaluations: &[Evaluation],
    places: Option<&[Place]>,
    color: bool,
) -> io::Result<()> {
    let width = evaluations
        .iter()
        .map(|e| e.compliance_resource_id.chars().count())
        .max()
        .unwrap_or(0)
        .max("RESOURCE".len());
    let places = places.unwrap_or_default();
    let located = places
        .iter()
        .any(|p| p.account.is_some() || p.region.is_some());
    let reached = places.iter().any(|p| p.reach.is_some());
    if located {
        write!(out, "{:<12}  {:<14}  ", "ACCOUNT", "REGION")?;
    }
    write!(out, "{:<width$}  {:<14}  ", "RESOURCE", "VERDICT")?;
    if reached {
        write!(out, "{:<9}  ", "REACH")?;
    }
    writeln!(out, "REASON")?;
    for (i, e) in evaluations.iter().enumerate() {
        let place = places.get(i);
        if located {
            let account = place.and_then(|p| p.account.as_deref()).unwrap_or("-");
            let region = place.and_then(|p| p.region.as_deref()).unwrap_or("-");
            write!(out, "{account:<12}  {region:<14}  ")?;
        }
        let verdict = format!("{:<14}", e.compliance_type.as_str());
        let verdict = match (color, e.compliance_type) {
            (false, _) => verdict,
            (true, Compliance::NonCompliant) => format!("\x1b[31m{verdict}\x1b[0m"),
            (true, Compliance::Compliant) => format!("\x1b[32m{verdict}\x1b[0m"),
            (true, Compliance::NotApplicable) => format!("\x1b[2m{verdict}\x1b[0m"),
        };
        write!(out, "{:<width$}  {verdict}  ", e.compliance_resource_id)?;
        if reached {
            let reach = place.and_then(|p| p.reach.as_deref()).unwrap_or("-");
            write!(out, "{reach:<9}  ")?;
        }
        let reason = e.annotation.as_deref().unwrap_or("-");
        writeln!(out, "{reason}")?;
    }
    Ok(())
}
