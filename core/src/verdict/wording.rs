//! How a verdict is worded: the annotation, within PutEvaluations' limit.

use super::finding::Finding;

/// The longest annotation PutEvaluations accepts: 256 characters, counted
/// as AWS counts them, in UTF-16 code units (SPEC §3). Both counts are kept
/// within it.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// Cuts `text` so that it holds at most 256 characters and at most 256
/// UTF-16 code units (a character outside the Basic Multilingual Plane, such
/// as an emoji, is two), ending in `…` (one of each) when cut; never splits
/// a character.
pub fn fit_annotation(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let fits =
        |chars: usize, units: usize| chars <= MAX_ANNOTATION_CHARS && units <= MAX_ANNOTATION_CHARS;
    if fits(text.chars().count(), text.encode_utf16().count()) {
        return Some(text.to_string());
    }
    let (mut chars, mut units) = (1, 1); // the `…`
    let mut cut = String::new();
    for c in text.chars() {
        if !fits(chars + 1, units + c.len_utf16()) {
            break;
        }
        chars += 1;
        units += c.len_utf16();
        cut.push(c);
    }
    cut.push('…');
    Some(cut)
}

pub(super) fn join_findings(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
