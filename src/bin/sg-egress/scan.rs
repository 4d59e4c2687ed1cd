//! `sg-egress scan`: a live account (one region, several, or every enabled
//! one) or every account and region of an AWS Config aggregator.

use crate::args::{ScanArgs, SortKey};
use crate::options::parse_parameters_option;
use crate::{CliError, Produced};
use sg_egress_core::report::Place;
use sg_egress_core::verdict::Compliance;
use sg_egress_rule::handler::sweep::list_left_out;
use std::io::Write;

/// What `scan`'s options ask for.
fn scan_scope(args: &ScanArgs) -> Result<sg_egress_rule::handler::scan::Scope, CliError> {
    use sg_egress_rule::handler::scan::Scope;
    Ok(match (&args.aggregator, &args.regions) {
        (Some(name), _) => Scope::Aggregator {
            name: name.clone(),
            region: args.region.clone(),
        },
        (None, Some(list)) if list.trim().eq_ignore_ascii_case("all") => Scope::AllRegions,
        (None, Some(list)) => {
            let regions: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(bad) = regions.iter().find(|r| {
                !r.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            }) {
                return Err(CliError(format!(
                    "--regions: {bad:?} is not a region name (e.g. us-east-1,eu-west-1, or all)"
                )));
            }
            if regions.is_empty() {
                return Err(CliError(
                    "--regions: no region given (e.g. us-east-1,eu-west-1, or all)".to_string(),
                ));
            }
            Scope::Regions(regions)
        }
        (None, None) => Scope::Region(args.region.clone()),
    })
}

pub fn scan(args: &ScanArgs, stderr: &mut dyn Write) -> Result<Produced, CliError> {
    use std::io::IsTerminal;
    let parameters = parse_parameters_option(&args.common.parameters)?.unwrap_or_default();
    let scope = scan_scope(args)?;
    let spans_places = !matches!(scope, sg_egress_rule::handler::scan::Scope::Region(_));
    let progress = std::io::stderr().is_terminal();
    let scanned = sg_egress_rule::handler::scan::run(
        scope,
        args.profile.clone(),
        &parameters,
        stderr,
        progress,
    )
    .map_err(CliError)?;
    let incomplete = (!scanned.left_out.is_empty()).then(|| {
        format!(
            "{} groups could not be evaluated: {}",
            scanned.left_out.len(),
            list_left_out(&scanned.left_out)
        )
    });
    let mut rows = scanned.rows;
    if args.sort == Some(SortKey::Exposure) {
        // Open groups first, the most exposed first; the order is otherwise kept.
        rows.sort_by_key(|r| {
            (
                r.evaluation.compliance_type != Compliance::NonCompliant,
                r.exposure.as_ref().map_or(u8::MAX, |e| e.rank()),
            )
        });
    }
    let places = (spans_places || rows.iter().any(|r| r.exposure.is_some())).then(|| {
        rows.iter()
            .map(|r| Place {
                account: r.account.clone().filter(|_| spans_places),
                region: r.region.clone().filter(|_| spans_places),
                reach: r.exposure.as_ref().map(|e| e.class().to_string()),
            })
            .collect()
    });
    Ok(Produced {
        evaluations: rows.into_iter().map(|r| r.evaluation).collect(),
        places,
        notes: scanned.notes,
        incomplete,
    })
}
