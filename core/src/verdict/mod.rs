//! The decision: a normalized group, the rule's parameters and "now" in, a
//! compliance type and an annotation out. Pure: the clock is an argument.
//! What a finding is ([`finding`]), how a group is judged ([`judgement`],
//! with [`exemption`]s), how a verdict is worded ([`wording`]) and the shape
//! it is sent in ([`evaluation`]) each live in their own place.

pub mod evaluation;
pub mod exemption;
pub mod finding;
pub mod judgement;
pub mod wording;

pub use crate::model::KnownPrefixLists;
pub use evaluation::{evaluate, evaluate_with_network, Compliance, Evaluation};
pub use finding::{find_openings, malformed_cidrs, Finding, Opening};
pub use judgement::{judge, Verdict};
pub use wording::{fit_annotation, MAX_ANNOTATION_CHARS};
