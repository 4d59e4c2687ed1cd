//! The rule's `InputParameters`, parsed once into a typed struct.
//!
//! A misconfigured rule must fail loudly rather than send wrong evaluations, so
//! every unknown name, wrong type or malformed value is an error that names the
//! parameter.

use serde_json::Value;
use std::collections::BTreeSet;

/// Default tag key whose presence exempts a group.
pub const DEFAULT_EXEMPT_TAG_KEY: &str = "sg-egress-exempt";

/// The names the rule accepts, exactly as written (case matters).
pub const PARAMETER_NAMES: [&str; 8] = [
    "CheckIpv6",
    "ExemptGroupIds",
    "ExemptVpcIds",
    "ExemptTagKey",
    "IgnoreUnusedGroups",
    "ResolvePrefixLists",
    "ExecutionRoleName",
    "ExposureMode",
];

/// A parameter that cannot be used; the invocation fails and nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule parameter {name}: {message}")]
pub struct ParameterError {
    pub name: String,
    pub message: String,
}

fn error(name: &str, message: impl Into<String>) -> ParameterError {
    ParameterError {
        name: name.to_string(),
        message: message.into(),
    }
}

/// The rule's parameters, with their defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    pub check_ipv6: bool,
    pub exempt_group_ids: BTreeSet<String>,
    pub exempt_vpc_ids: BTreeSet<String>,
    /// `None` when set to the empty string: no tag exempts a group.
    pub exempt_tag_key: Option<String>,
    pub ignore_unused_groups: bool,
    pub resolve_prefix_lists: bool,
    pub execution_role_name: Option<String>,
    /// `ExposureMode`: what effective exposure changes (SPEC_EXPOSURE §3).
    pub exposure_mode: ExposureMode,
}

/// What effective exposure changes (SPEC_EXPOSURE §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExposureMode {
    /// The verdict is unchanged; a NON_COMPLIANT group's annotation ends
    /// with its exposure.
    #[default]
    Annotate,
    /// Nothing is read or said about exposure.
    Off,
    /// As `Annotate`, and a group open only on families whose exposure is
    /// ISOLATED is COMPLIANT.
    RelaxIsolated,
}

impl Default for Parameters {
    fn default() -> Self {
        Parameters {
            check_ipv6: true,
            exempt_group_ids: BTreeSet::new(),
            exempt_vpc_ids: BTreeSet::new(),
            exempt_tag_key: Some(DEFAULT_EXEMPT_TAG_KEY.to_string()),
            ignore_unused_groups: false,
            resolve_prefix_lists: true,
            execution_role_name: None,
            exposure_mode: ExposureMode::Annotate,
        }
    }
}

impl Parameters {
    /// Parses the `ruleParameters` string of a Config event (JSON text of an
    /// object). An empty string means no parameters.
    pub fn from_json_text(text: &str) -> Result<Parameters, ParameterError> {
        if text.trim().is_empty() {
            return Ok(Parameters::default());
        }
        let value: Value = serde_json::from_str(text)
            .map_err(|e| error("(ruleParameters)", format!("not valid JSON: {e}")))?;
        Parameters::from_value(&value)
    }

    /// Parses parameters given as a JSON object, or as a string holding one.
    pub fn from_value(value: &Value) -> Result<Parameters, ParameterError> {
        let object = match value {
            Value::Null => return Ok(Parameters::default()),
            Value::String(text) => return Parameters::from_json_text(text),
            Value::Object(object) => object,
            other => {
                return Err(error(
                    "(ruleParameters)",
                    format!(
                        "expected a JSON object of parameters, found {}",
                        type_name(other)
                    ),
                ))
            }
        };
        let mut parameters = Parameters::default();
        for (name, value) in object {
            match name.as_str() {
                "CheckIpv6" => parameters.check_ipv6 = boolean(name, value)?,
                "ExemptGroupIds" => parameters.exempt_group_ids = id_list(name, value, "sg-")?,
                "ExemptVpcIds" => parameters.exempt_vpc_ids = id_list(name, value, "vpc-")?,
                "ExemptTagKey" => parameters.exempt_tag_key = tag_key(name, value)?,
                "IgnoreUnusedGroups" => parameters.ignore_unused_groups = boolean(name, value)?,
                "ResolvePrefixLists" => parameters.resolve_prefix_lists = boolean(name, value)?,
                "ExecutionRoleName" => parameters.execution_role_name = role_name(name, value)?,
                "ExposureMode" => parameters.exposure_mode = exposure_mode(name, value)?,
                unknown => {
                    let hint = PARAMETER_NAMES
                        .iter()
                        .find(|known| known.eq_ignore_ascii_case(unknown))
                        .map(|known| format!(" (did you mean {known}? names are case-sensitive)"))
                        .unwrap_or_default();
                    return Err(error(
                        unknown,
                        format!(
                            "unknown parameter{hint}; known parameters are {}",
                            PARAMETER_NAMES.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(parameters)
    }
}

/// `annotate` (the default), `off` or `relax-isolated`, any case.
fn exposure_mode(name: &str, value: &Value) -> Result<ExposureMode, ParameterError> {
    let text = string(name, value)?;
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "annotate" => Ok(ExposureMode::Annotate),
        "off" => Ok(ExposureMode::Off),
        "relax-isolated" => Ok(ExposureMode::RelaxIsolated),
        _ => Err(error(
            name,
            format!("expected annotate, off or relax-isolated, found {text:?}"),
        )),
    }
}

/// Human name of a JSON value's type, for messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn string<'a>(name: &str, value: &'a Value) -> Result<&'a str, ParameterError> {
    value.as_str().ok_or_else(|| {
        error(
            name,
            format!("expected a string, found {}", type_name(value)),
        )
    })
}

fn boolean(name: &str, value: &Value) -> Result<bool, ParameterError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        Value::String(s) => Err(error(name, format!("expected true or false, found {s:?}"))),
        other => Err(error(
            name,
            format!("expected true or false, found {}", type_name(other)),
        )),
    }
}

/// A comma-separated list of resource ids with the given prefix
/// (`sg-0123456789abcdef0`); white space around each id and empty entries are ignored.
fn id_list(name: &str, value: &Value, prefix: &str) -> Result<BTreeSet<String>, ParameterError> {
    let text = string(name, value)?;
    let mut ids = BTreeSet::new();
    for id in text.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let hex = id.strip_prefix(prefix).unwrap_or("");
        let well_formed = (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(error(
                name,
                format!("{id:?} is not a valid id (expected {prefix} followed by 8 or 17 lowercase hex digits)"),
            ));
        }
        ids.insert(id.to_string());
    }
    Ok(ids)
}

fn tag_key(name: &str, value: &Value) -> Result<Option<String>, ParameterError> {
    let key = string(name, value)?;
    if key.is_empty() {
        return Ok(None);
    }
    if key.chars().count() > 128 {
        return Err(error(name, "a tag key is at most 128 characters"));
    }
    if key.starts_with("aws:") {
        return Err(error(
            name,
            format!("{key:?} is reserved by AWS (the aws: prefix cannot be set on a tag)"),
        ));
    }
    Ok(Some(key.to_string()))
}

fn role_name(name: &str, value: &Value) -> Result<Option<String>, ParameterError> {
    let role = string(name, value)?.trim();
    if role.is_empty() {
        return Ok(None);
    }
    let valid_chars = role
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if role.len() > 64 || !valid_chars {
        return Err(error(
            name,
            format!("{role:?} is not an IAM role name (1 to 64 of letters, digits and +=,.@_-; give the name, not the ARN)"),
        ));
    }
    Ok(Some(role.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let p = Parameters::from_json_text("{}").unwrap();
        assert_eq!(p, Parameters::default());
        assert!(p.check_ipv6);
        assert!(p.resolve_prefix_lists);
        assert!(!p.ignore_unused_groups);
        assert_eq!(p.exempt_tag_key.as_deref(), Some("sg-egress-exempt"));
        assert_eq!(
            Parameters::from_json_text("").unwrap(),
            Parameters::default()
        );
    }

    #[test]
    fn booleans_as_json_or_strings_any_case() {
        for (value, expected) in [
            (json!(true), true),
            (json!(false), false),
            (json!("TRUE"), true),
            (json!("False"), false),
            (json!(" true "), true),
        ] {
            let p = Parameters::from_value(&json!({ "CheckIpv6": value })).unwrap();
            assert_eq!(p.check_ipv6, expected);
        }
    }

    #[test]
    fn id_lists_trim_and_validate() {
        let p = Parameters::from_value(&json!({
            "ExemptGroupIds": " sg-0123456789abcdef0 , sg-12345678,",
            "ExemptVpcIds": "vpc-0a1b2c3d"
        }))
        .unwrap();
        assert!(p.exempt_group_ids.contains("sg-0123456789abcdef0"));
        assert!(p.exempt_group_ids.contains("sg-12345678"));
        assert!(p.exempt_vpc_ids.contains("vpc-0a1b2c3d"));
        let e = Parameters::from_value(&json!({ "ExemptGroupIds": "sg-123,vpc-12345678" }))
            .unwrap_err();
        assert_eq!(e.name, "ExemptGroupIds");
        assert!(e.message.contains("\"sg-123\""), "{e}");
        let e = Parameters::from_value(&json!({ "ExemptVpcIds": "sg-12345678" })).unwrap_err();
        assert_eq!(e.name, "ExemptVpcIds");
    }

    #[test]
    fn unknown_names_wrong_types_and_bad_values_name_the_parameter() {
        let cases = [
            (
                json!({ "checkIpv6": "true" }),
                "checkIpv6",
                "did you mean CheckIpv6",
            ),
            (json!({ "Foo": "1" }), "Foo", "unknown parameter"),
            (
                json!({ "CheckIpv6": "yes" }),
                "CheckIpv6",
                "expected true or false",
            ),
            (json!({ "CheckIpv6": 1 }), "CheckIpv6", "found a number"),
            (
                json!({ "IgnoreUnusedGroups": null }),
                "IgnoreUnusedGroups",
                "found null",
            ),
            (
                json!({ "ExemptGroupIds": ["sg-12345678"] }),
                "ExemptGroupIds",
                "expected a string",
            ),
            (
                json!({ "ExemptTagKey": "aws:thing" }),
                "ExemptTagKey",
                "reserved",
            ),
            (
                json!({ "ExecutionRoleName": "arn:aws:iam::123456789012:role/x" }),
                "ExecutionRoleName",
                "not an IAM role name",
            ),
            (
                json!({ "ResolvePrefixLists": {} }),
                "ResolvePrefixLists",
                "found an object",
            ),
        ];
        for (value, name, fragment) in cases {
            let e = Parameters::from_value(&value).unwrap_err();
            assert_eq!(e.name, name, "{value}");
            assert!(
                e.to_string().contains(fragment),
                "{e} should contain {fragment}"
            );
            assert!(
                e.to_string()
                    .starts_with(&format!("rule parameter {name}:")),
                "{e}"
            );
        }
    }

    #[test]
    fn parameters_text_that_is_not_json() {
        let e = Parameters::from_json_text("{\"CheckIpv6\": ").unwrap_err();
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let e = Parameters::from_value(&json!([1])).unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
    }

    #[test]
    fn empty_tag_key_disables_tag_exemptions_and_empty_role_is_unset() {
        let p = Parameters::from_value(&json!({ "ExemptTagKey": "", "ExecutionRoleName": "" }))
            .unwrap();
        assert_eq!(p.exempt_tag_key, None);
        assert_eq!(p.execution_role_name, None);
        let p =
            Parameters::from_value(&json!({ "ExecutionRoleName": "sg-egress-member" })).unwrap();
        assert_eq!(p.execution_role_name.as_deref(), Some("sg-egress-member"));
    }
}
