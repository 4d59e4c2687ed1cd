//! `sg-egress check`: CloudFormation templates, CDK cloud assemblies and
//! Terraform plans, judged before deployment with the rule's own decision
//! (SPEC_TEMPLATES.md). This file finds and reads the files; the core
//! judges them.

use crate::args::{CheckArgs, CheckOutput};
use crate::options::parse_parameters_option;
use crate::CliError;
use sg_egress_core::templates::assembly::{artifacts, Artifact};
use sg_egress_core::templates::cloudformation::check_template;
use sg_egress_core::templates::sarif::{to_sarif, Located};
use sg_egress_core::templates::terraform::check_plan;
use sg_egress_core::templates::{read_document, CheckOptions, CheckResult, Document, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A result and the file it is in, as printed (relative, with `/`).
pub struct FileResult {
    pub file: String,
    pub result: CheckResult,
}

/// What a check found, and notes for stderr.
pub struct Checked {
    pub results: Vec<FileResult>,
    pub notes: Vec<String>,
}

/// Checks every path.
pub fn check(args: &CheckArgs) -> Result<Checked, CliError> {
    let options = CheckOptions {
        parameters: parse_parameters_option(&args.parameters)?.unwrap_or_default(),
        template_parameters: template_parameters(args)?,
        today: chrono::Utc::now().date_naive(),
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    };
    let mut checker = Checker {
        options,
        results: Vec::new(),
        notes: Vec::new(),
        seen: BTreeSet::new(),
    };
    for path in &args.paths {
        if path.is_dir() {
            checker.directory(path, true)?;
        } else {
            checker.file(path, true)?;
        }
    }
    let mut results = checker.results;
    results.sort_by(|a, b| (&a.file, a.result.line).cmp(&(&b.file, b.result.line)));
    Ok(Checked {
        results,
        notes: checker.notes,
    })
}

/// `--template-parameter` and `--template-parameters`: the command line wins.
fn template_parameters(args: &CheckArgs) -> Result<BTreeMap<String, String>, CliError> {
    let mut values = BTreeMap::new();
    if let Some(file) = &args.template_parameters {
        let name = format!("--template-parameters {}", file.display());
        let text = std::fs::read_to_string(file).map_err(|e| CliError(format!("{name}: {e}")))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| CliError(format!("{name}: not valid JSON: {e}")))?;
        let object = value.get("Parameters").unwrap_or(&value);
        match object {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    values.insert(key.clone(), v);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    let (Some(key), Some(v)) = (
                        item.get("ParameterKey").and_then(|k| k.as_str()),
                        item.get("ParameterValue").and_then(|k| k.as_str()),
                    ) else {
                        return Err(CliError(format!(
                            "{name}: expected {{\"Key\": \"Value\"}} or [{{\"ParameterKey\": …, \"ParameterValue\": …}}]"
                        )));
                    };
                    values.insert(key.to_string(), v.to_string());
                }
            }
            _ => {
                return Err(CliError(format!(
                    "{name}: expected {{\"Key\": \"Value\"}} or [{{\"ParameterKey\": …, \"ParameterValue\": …}}]"
                )))
            }
        }
    }
    for option in &args.template_parameter {
        let (key, value) = option.split_once('=').ok_or_else(|| {
            CliError(format!(
                "--template-parameter {option:?}: expected KEY=VALUE"
            ))
        })?;
        values.insert(key.trim().to_string(), value.to_string());
    }
    Ok(values)
}

struct Checker {
    options: CheckOptions,
    results: Vec<FileResult>,
    notes: Vec<String>,
    /// Files already checked (a nested template may be named twice).
    seen: BTreeSet<PathBuf>,
}

/// Directories a search does not enter.
const SKIPPED: [&str; 4] = ["node_modules", "target", ".git", ".terraform"];

/// Files a search reads.
fn is_candidate(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    [".json", ".yaml", ".yml", ".template"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// A path as results show it: relative (to the working directory, when
/// it is inside it, as code scanning expects), with `/`.
fn display(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let text = relative.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

impl Checker {
    /// A directory: a cloud assembly when it holds `manifest.json`, else
    /// searched for templates and plans.
    fn directory(&mut self, dir: &Path, named: bool) -> Result<(), CliError> {
        let manifest = dir.join("manifest.json");
        if manifest.is_file() {
            return self.assembly(dir);
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| CliError(format!("{}: {e}", display(dir))))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let mut found = false;
        for path in entries {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if path.is_dir() {
                if !name.starts_with('.') && !SKIPPED.contains(&name) {
                    self.directory(&path, false)?;
                }
            } else if is_candidate(&path) {
                found |= self.file(&path, false)?;
            }
        }
        if named && !found && self.results.is_empty() {
            self.notes
                .push(format!("{}: no template or plan found", display(dir)));
        }
        Ok(())
    }

    /// A cloud assembly: its stacks' templates and its nested assemblies.
    fn assembly(&mut self, dir: &Path) -> Result<(), CliError> {
        let path = dir.join("manifest.json");
        let bytes =
            std::fs::read(&path).map_err(|e| CliError(format!("{}: {e}", display(&path))))?;
        let manifest = match read_document(&bytes) {
            Ok(Document::Manifest(m)) => m,
            Ok(_) => {
                return Err(CliError(format!(
                    "{}: not a cloud assembly manifest",
                    display(&path)
                )))
            }
            Err(e) => return Err(CliError(format!("{}: {e}", display(&path)))),
        };
        for artifact in artifacts(&manifest) {
            match artifact {
                Artifact::Template { file, .. } => {
                    self.file(&dir.join(file), true)?;
                }
                Artifact::Assembly { directory } => self.assembly(&dir.join(directory))?,
            }
        }
        Ok(())
    }

    /// A file: checked when it is a template or a plan. A file named on the
    /// command line must be one (exit 2 otherwise); a file a search finds
    /// is skipped, with a note, when it is not. Returns whether it was one.
    fn file(&mut self, path: &Path, named: bool) -> Result<bool, CliError> {
        if !self.seen.insert(path.to_path_buf()) {
            return Ok(true);
        }
        let name = display(path);
        if path.file_name().is_some_and(|n| n == "manifest.json") && named {
            return self
                .assembly(path.parent().unwrap_or(Path::new(".")))
                .map(|()| true);
        }
        let bytes = std::fs::read(path).map_err(|e| CliError(format!("{name}: {e}")))?;
        let document = match read_document(&bytes) {
            Ok(document) => document,
            Err(e) if named => return Err(CliError(format!("{name}: {e}"))),
            Err(e) => {
                if bytes.windows(9).any(|w| w == b"Resources") {
                    self.notes.push(format!("{name}: skipped: {e}"));
                }
                return Ok(false);
            }
        };
        let results = match document {
            Document::Template(root) => {
                let checked = check_template(&root, &self.options)
                    .map_err(|e| CliError(format!("{name}: {e}")))?;
                self.notes
                    .extend(checked.notes.iter().map(|note| format!("{name}: {note}")));
                let base = path.parent().unwrap_or(Path::new("."));
                for nested in checked.nested_templates {
                    let nested_path = base.join(&nested);
                    if nested_path.is_file() {
                        self.file(&nested_path, true)?;
                    } else {
                        self.notes.push(format!(
                            "{name}: nested stack template {nested} not found next to it; not checked"
                        ));
                    }
                }
                checked.results
            }
            Document::Plan(root) => {
                check_plan(&root, &self.options).map_err(|e| CliError(format!("{name}: {e}")))?
            }
            Document::Manifest(_) => {
                self.assembly(path.parent().unwrap_or(Path::new(".")))?;
                return Ok(true);
            }
        };
        self.results
            .extend(results.into_iter().map(|result| FileResult {
                file: name.clone(),
                result,
            }));
        Ok(true)
    }
}

/// Prints the results.
pub fn print(
    checked: &Checked,
    output: CheckOutput,
    color: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match output {
        CheckOutput::Sarif => {
            let located: Vec<Located> = checked
                .results
                .iter()
                .map(|r| Located {
                    uri: &r.file,
                    result: &r.result,
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &to_sarif(&located, env!("CARGO_PKG_VERSION")),
            )?;
            writeln!(out)
        }
        CheckOutput::Json => {
            let rows: Vec<serde_json::Value> = checked
                .results
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "file": r.file,
                        "line": r.result.line,
                        "resource": r.result.resource,
                        "resourceType": r.result.resource_type,
                        "constructPath": r.result.construct_path,
                        "outcome": r.result.outcome.as_str(),
                        "annotation": r.result.annotation,
                        "relatedLines": r.result.related_lines,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        CheckOutput::Table => {
            let place = |r: &FileResult| format!("{}:{}", r.file, r.result.line);
            let width = checked
                .results
                .iter()
                .map(|r| place(r).chars().count())
                .max()
                .unwrap_or(0)
                .max("WHERE".len());
            let id_width = checked
                .results
                .iter()
                .map(|r| r.result.resource.chars().count())
                .max()
                .unwrap_or(0)
                .max("RESOURCE".len());
            writeln!(
                out,
                "{:<width$}  {:<id_width$}  {:<14}  REASON",
                "WHERE", "RESOURCE", "OUTCOME"
            )?;
            for r in &checked.results {
                let outcome = format!("{:<14}", r.result.outcome.as_str());
                let outcome = match (color, r.result.outcome) {
                    (false, _) => outcome,
                    (true, Outcome::NonCompliant) => format!("\x1b[31m{outcome}\x1b[0m"),
                    (true, Outcome::Undetermined) => format!("\x1b[33m{outcome}\x1b[0m"),
                    (true, Outcome::Compliant) => format!("\x1b[32m{outcome}\x1b[0m"),
                    (true, Outcome::NotEvaluated) => format!("\x1b[2m{outcome}\x1b[0m"),
                };
                writeln!(
                    out,
                    "{:<width$}  {:<id_width$}  {outcome}  {}",
                    place(r),
                    r.result.resource,
                    r.result.annotation.as_deref().unwrap_or("-")
                )?;
            }
            Ok(())
        }
    }
}
