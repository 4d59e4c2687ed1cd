//! The decision of `sg-egress-rule`, and nothing else: which EC2 security
//! groups let instances send all traffic, all TCP ports or all UDP ports to
//! the whole IPv4 or IPv6 internet. Pure: no I/O, no clock, no AWS; every
//! input arrives as bytes or values, the time as an argument.
//!
//! - [`read`] reads every input shape (Config events and items, EC2
//!   output) into the normalized [`model`];
//! - [`coverage`] and [`cidr`] do the interval arithmetic;
//! - [`verdict`] decides, given [`params`] and the time;
//! - [`remediation`] plans which rules to revoke;
//! - [`report`] shows evaluations as JSON or a table.

pub mod cidr;
pub mod coverage;
pub mod exposure;
pub mod fuzzing;
pub mod hook;
pub mod model;
pub mod params;
pub mod read;
pub mod remediation;
pub mod report;
pub mod templates;
pub mod verdict;

pub use model::{EgressPermission, Protocol, Resource, SecurityGroup};
pub use params::{ParameterError, Parameters};
pub use read::{read_documents, Document, ReadError};
pub use verdict::{evaluate, judge, Compliance, Evaluation, KnownPrefixLists, Verdict};

use chrono::{DateTime, Utc};

/// Evaluates every resource of a document, in input order. Resources without
/// a capture time of their own take the notification's time, else `now`.
pub fn evaluate_document(
    document: &read::Document,
    parameters: &Parameters,
    prefix_lists: &KnownPrefixLists,
    now: DateTime<Utc>,
) -> Vec<Evaluation> {
    let fallback = document.notification_time.unwrap_or(now);
    document
        .resources
        .iter()
        .map(|resource| evaluate(resource, parameters, prefix_lists, fallback, now))
        .collect()
}
