//! The options that carry data: `--parameters`, `--prefix-list`,
//! `--network-interfaces`.

use crate::CliError;
use serde_json::Value;
use sg_egress_core::model::GroupsInUse;
use sg_egress_core::read::read_network_interfaces;
use sg_egress_core::verdict::KnownPrefixLists;
use sg_egress_core::Parameters;
use std::path::PathBuf;

/// Reads `--parameters`: inline JSON or @FILE.
pub fn parse_parameters_option(option: &Option<String>) -> Result<Option<Parameters>, CliError> {
    let Some(text) = option else { return Ok(None) };
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError(format!("--parameters {text}: {e}")))?,
        None => text.clone(),
    };
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| CliError(format!("--parameters: not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(CliError(
            "--parameters: expected a JSON object such as {\"CheckIpv6\": \"false\"}".to_string(),
        ));
    }
    Ok(Some(
        Parameters::from_value(&value).map_err(|e| CliError(e.to_string()))?,
    ))
}

pub fn parse_prefix_lists(options: &[String]) -> Result<KnownPrefixLists, CliError> {
    let mut lists = KnownPrefixLists::new();
    for option in options {
        let (id, entries) = option.split_once('=').ok_or_else(|| {
            CliError(format!(
                "--prefix-list {option:?}: expected pl-ID=CIDR[,CIDR…] or pl-ID=@FILE"
            ))
        })?;
        if !id.starts_with("pl-") {
            return Err(CliError(format!(
                "--prefix-list {option:?}: {id:?} is not a prefix list id (pl-…)"
            )));
        }
        let cidrs: Vec<String> = match entries.strip_prefix('@') {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| CliError(format!("--prefix-list {id}: {path}: {e}")))?;
                let value: Value = serde_json::from_str(&text).map_err(|e| {
                    CliError(format!("--prefix-list {id}: {path}: not valid JSON: {e}"))
                })?;
                let entries = value
                    .get("Entries")
                    .and_then(Value::as_array)
                    .ok_or_else(|| CliError(format!("--prefix-list {id}: {path}: expected {{\"Entries\": [{{\"Cidr\": …}}]}}")))?;
                entries
                    .iter()
                    .map(|e| {
                        e.get("Cidr")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                            .ok_or_else(|| {
                                CliError(format!(
                                    "--prefix-list {id}: {path}: an entry has no Cidr string"
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()?
            }
            None => entries
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        };
        lists
            .insert(id, &cidrs)
            .map_err(|e| CliError(format!("--prefix-list: {e}")))?;
    }
    Ok(lists)
}

/// `--network FILE…`: the network around the groups, with the prefix
/// lists `--prefix-list` gave (route destinations may name them).
pub fn parse_network(
    files: &[PathBuf],
    prefix_lists: &sg_egress_core::verdict::KnownPrefixLists,
) -> Result<Option<sg_egress_core::exposure::Network>, CliError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut network = sg_egress_core::exposure::Network::default();
    for file in files {
        let name = format!("--network {}", file.display());
        let bytes = std::fs::read(file).map_err(|e| CliError(format!("{name}: {e}")))?;
        sg_egress_core::read::read_network(&bytes, &mut network)
            .map_err(|e| CliError(format!("{name}: {e}")))?;
    }
    for id in prefix_lists.ids() {
        if let Some(entries) = prefix_lists.get(id) {
            network
                .prefix_lists
                .insert(id.to_string(), entries.iter().map(|(_, c)| *c).collect());
        }
    }
    Ok(Some(network))
}

/// Reads `--network-interfaces` files; `None` when none is given (usage
/// then comes from relationships alone).
pub fn parse_network_interfaces(files: &[PathBuf]) -> Result<Option<GroupsInUse>, CliError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut in_use = GroupsInUse::new();
    for file in files {
        let name = format!("--network-interfaces {}", file.display());
        let bytes = std::fs::read(file).map_err(|e| CliError(format!("{name}: {e}")))?;
        read_network_interfaces(&bytes, &mut in_use)
            .map_err(|e| CliError(format!("{name}: {e}")))?;
    }
    Ok(Some(in_use))
}
