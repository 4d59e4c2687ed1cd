//! `sg-egress check` as a pipeline runs it: templates written by others
//! with their expected results, a cloud assembly `cdk synth` wrote, SARIF
//! valid against the SARIF 2.1.0 schema, exit codes, directories and
//! parameters.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sg_egress_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sg-egress"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("sg-egress runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sg_egress(args: &[&str]) -> Output {
    sg_egress_in(&root(), args)
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A directory of the test's own, removed with everything in it when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> ScratchDir {
        let dir =
            std::env::temp_dir().join(format!("sg-egress-check-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        ScratchDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("directory");
        }
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Validates a SARIF log against the SARIF 2.1.0 schema (the OASIS file in
/// tests/fixtures/sarif) with Python's jsonschema.
fn assert_valid_sarif(sarif: &[u8], scratch: &ScratchDir) {
    let file = scratch.0.join("log.sarif");
    std::fs::write(&file, sarif).expect("write");
    let output = Command::new("python3")
        .arg(root().join("tests/sarif_validate.py"))
        .arg(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
        .arg(&file)
        .arg("-q")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "SARIF not valid against the 2.1.0 schema:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn templates_written_by_others_give_their_expected_results_and_lines() {
    let dir = root().join("tests/templates/third_party");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("EXPECTED.json")).unwrap()).unwrap();
    assert!(expected.len() >= 40, "the corpus is there");
    let mut checked = 0;
    for file in &expected {
        let name = file["file"].as_str().unwrap();
        let output = sg_egress_in(&dir, &["check", "--output", "json", name]);
        if let Some(exit) = file.get("exit").and_then(Value::as_i64) {
            assert_eq!(
                output.status.code(),
                Some(exit as i32),
                "{name}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                String::from_utf8_lossy(&output.stderr).contains(name),
                "{name}: the error names the file"
            );
            continue;
        }
        let got: BTreeMap<String, Value> = json_of(&output)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["resource"].as_str().unwrap().to_string(), r.clone()))
            .collect();
        let wanted = file["results"].as_array().unwrap();
        for want in wanted {
            let id = want["id"].as_str().unwrap();
            let result = got
                .get(id)
                .unwrap_or_else(|| panic!("{name}: no result for {id}: {got:?}"));
            assert_eq!(
                result["outcome"], want["outcome"],
                "{name} {id}: {result}\nexpected because {}",
                want["why"]
            );
            if let Some(line) = want["line"].as_u64() {
                assert_eq!(result["line"], line, "{name} {id}: {result}");
            }
            assert_eq!(result["file"], name);
            checked += 1;
        }
        let not_reported: Vec<&str> = file
            .get("not_reported")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for id in got.keys() {
            assert!(
                wanted.iter().any(|w| w["id"] == id.as_str()),
                "{name}: a result nobody expected: {id} {} (not reported: {not_reported:?})",
                got[id]
            );
        }
        let any_open = wanted.iter().any(|w| w["outcome"] == "NON_COMPLIANT");
        assert_eq!(
            output.status.code(),
            Some(if any_open { 1 } else { 0 }),
            "{name}"
        );
    }
    assert!(checked >= 50, "{checked} results checked");
}

#[test]
fn a_cloud_assembly_from_cdk_synth_with_stages_and_nested_stacks() {
    let dir = root().join("tests/templates/cdk-app");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("EXPECTED.json")).unwrap()).unwrap();
    let output = sg_egress_in(&dir, &["check", "--output", "json", "cdk.out"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got = json_of(&output);
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for want in &expected {
        let result = got
            .iter()
            .find(|r| r["resource"] == want["resource"])
            .unwrap_or_else(|| panic!("no result for {}", want["resource"]));
        assert_eq!(result["file"], want["file"]);
        assert_eq!(result["constructPath"], want["constructPath"]);
        assert_eq!(result["outcome"], want["outcome"]);
        if want.get("line").is_some() {
            assert_eq!(result["line"], want["line"], "{result}");
        }
    }
    // The manifest itself, named as a file, is the same assembly.
    let by_manifest = sg_egress_in(
        &dir,
        &["check", "--output", "json", "cdk.out/manifest.json"],
    );
    assert_eq!(json_of(&by_manifest), json_of(&output));
}

#[test]
fn sarif_is_valid_and_says_what_code_scanning_needs() {
    let scratch = ScratchDir::new("sarif");
    let dir = root().join("tests/templates/cdk-app");
    let output = sg_egress_in(&dir, &["check", "--output", "sarif", "cdk.out"]);
    assert_eq!(output.status.code(), Some(1));
    assert_valid_sarif(&output.stdout, &scratch);
    let log = json_of(&output);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        assert!(
            rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{rule}"
        );
        let severity: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&severity));
    }
    let results = run["results"].as_array().unwrap();
    // Three open groups; the closed ones are not results.
    assert_eq!(results.len(), 3, "{results:?}");
    for result in results {
        assert_eq!(result["level"], "error");
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0];
        let uri = location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("cdk.out/"), "relative: {uri}");
        assert!(
            location["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
        assert!(
            location["logicalLocations"][0]["name"]
                .as_str()
                .unwrap()
                .starts_with("Open")
                || location["logicalLocations"][0]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("InnerOpen")
        );
        assert!(location["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .contains("/"));
    }
}

const MIXED: &str = "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Cidr:
    Type: String
Resources:
  Open:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: implicit default
  Depends:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: depends on Cidr
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref Cidr
  Exempt:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: exempt
      Tags:
        - Key: sg-egress-exempt
          Value: 2099-12-31 egress proxy
  Closed:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: closed
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
";

#[test]
fn sarif_levels_suppressions_and_fingerprints_that_survive_moved_lines() {
    let scratch = ScratchDir::new("levels");
    scratch.write("template.yaml", MIXED);
    let output = sg_egress_in(&scratch.0, &["check", "--output", "sarif", "template.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert_valid_sarif(&output.stdout, &scratch);
    let log = json_of(&output);
    let results = log["runs"][0]["results"].as_array().unwrap().clone();
    let by_name = |name: &str| {
        results
            .iter()
            .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == name)
            .cloned()
    };
    assert_eq!(by_name("Open").unwrap()["level"], "error");
    assert_eq!(
        by_name("Open").unwrap()["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
    assert_eq!(by_name("Depends").unwrap()["level"], "warning");
    let exempt = by_name("Exempt").unwrap();
    assert!(
        exempt["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("egress proxy"),
        "{exempt}"
    );
    assert!(by_name("Closed").is_none());

    // Lines move; fingerprints do not.
    scratch.write("template.yaml", &format!("# a comment\n\n{MIXED}"));
    let moved = json_of(&sg_egress_in(
        &scratch.0,
        &["check", "--output", "sarif", "template.yaml"],
    ));
    let moved_results = moved["runs"][0]["results"].as_array().unwrap();
    for (before, after) in results.iter().zip(moved_results) {
        assert_eq!(before["partialFingerprints"], after["partialFingerprints"]);
        let line = |r: &Value| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        };
        assert_eq!(line(after), line(before) + 2);
    }
}

#[test]
fn exit_codes_strict_and_template_parameters() {
    let scratch = ScratchDir::new("exit");
    let closed = scratch.write(
        "closed.yaml",
        "Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n      SecurityGroupEgress:\n        - IpProtocol: -1\n          CidrIp: !Ref Cidr\nParameters:\n  Cidr:\n    Type: String\n",
    );
    let closed = closed.to_str().unwrap();
    // UNDETERMINED: 0, or 1 under --strict.
    assert_eq!(sg_egress(&["check", closed]).status.code(), Some(0));
    assert_eq!(
        sg_egress(&["check", "--strict", closed]).status.code(),
        Some(1)
    );
    // Values on the command line, or in a file CloudFormation's CLI reads.
    assert_eq!(
        sg_egress(&[
            "check",
            "--template-parameter",
            "Cidr=10.0.0.0/8",
            "--strict",
            closed
        ])
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        sg_egress(&["check", "--template-parameter", "Cidr=0.0.0.0/0", closed])
            .status
            .code(),
        Some(1)
    );
    let values = scratch.write(
        "values.json",
        r#"[{"ParameterKey": "Cidr", "ParameterValue": "0.0.0.0/0"}]"#,
    );
    let output = sg_egress(&[
        "check",
        "--template-parameters",
        values.to_str().unwrap(),
        closed,
    ]);
    assert_eq!(output.status.code(), Some(1));
    // The command line wins over the file.
    let output = sg_egress(&[
        "check",
        "--template-parameters",
        values.to_str().unwrap(),
        "--template-parameter",
        "Cidr=10.0.0.0/8",
        "--strict",
        closed,
    ]);
    assert_eq!(output.status.code(), Some(0));
    // The rule's parameters: the same exemptions as at run time.
    let open = scratch.write("open.yaml", "Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      VpcId: vpc-0123456789abcdef0\n      GroupDescription: g\n");
    let open = open.to_str().unwrap();
    assert_eq!(sg_egress(&["check", open]).status.code(), Some(1));
    assert_eq!(
        sg_egress(&[
            "check",
            "--parameters",
            r#"{"ExemptVpcIds": "vpc-0123456789abcdef0"}"#,
            open
        ])
        .status
        .code(),
        Some(0)
    );
    // Bad input: 2, naming the file and line.
    let broken = scratch.write("broken.yaml", "Resources:\n  G: [\n");
    let output = sg_egress(&["check", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.yaml") && stderr.contains("line"),
        "{stderr}"
    );
    let output = sg_egress(&["check", "--template-parameter", "no-equals", open]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("KEY=VALUE"));
    let output = sg_egress(&["check", "--parameters", r#"{"Nope": 1}"#, open]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Nope"));
    assert_eq!(
        sg_egress(&["check", "/nonexistent/template.yaml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_directory_is_searched_and_files_that_are_not_templates_are_skipped() {
    let scratch = ScratchDir::new("dir");
    scratch.write("infra/open.yaml", "Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n");
    scratch.write("infra/package.json", r#"{"name": "x", "version": "1.0.0"}"#);
    scratch.write("infra/config.yml", "key: value\n");
    scratch.write(
        "node_modules/dep/template.yaml",
        "Resources:\n  H:\n    Type: AWS::EC2::SecurityGroup\n",
    );
    scratch.write(
        "plan/tfplan.json",
        r#"{"format_version": "1.2", "resource_changes": [{"address": "aws_security_group.a", "type": "aws_security_group", "mode": "managed", "change": {"actions": ["create"], "after": {"egress": [], "tags_all": {}}, "after_unknown": {}}}]}"#,
    );
    let output = sg_egress_in(&scratch.0, &["check", "--output", "json", "."]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results = json_of(&output);
    let found: Vec<(String, String)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["resource"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("infra/open.yaml".to_string(), "G".to_string()),
            (
                "plan/tfplan.json".to_string(),
                "aws_security_group.a".to_string()
            ),
        ]
    );
    // A file named on the command line must be a template.
    let output = sg_egress_in(&scratch.0, &["check", "infra/package.json"]);
    assert_eq!(output.status.code(), Some(2));
    // A directory with nothing to check says so.
    let empty = ScratchDir::new("empty");
    let output = sg_egress_in(&empty.0, &["check", "."]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no template or plan found"));
}

#[test]
fn the_table_names_place_resource_outcome_and_reason() {
    let scratch = ScratchDir::new("table");
    scratch.write("template.yaml", MIXED);
    let output = sg_egress_in(&scratch.0, &["check", "template.yaml"]);
    let table = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("WHERE") && lines[0].contains("OUTCOME"),
        "{table}"
    );
    let open = lines.iter().find(|l| l.contains(" Open ")).unwrap();
    assert!(open.starts_with("template.yaml:6 "), "{open}");
    assert!(
        open.contains("NON_COMPLIANT")
            && open.contains("all traffic to 0.0.0.0/0 (implicit default egress)"),
        "{open}"
    );
    assert!(!table.contains('\x1b'), "no colour when NO_COLOR is set");
}

#[test]
fn a_real_terraform_plan_is_open_once_tag_exemptions_are_off() {
    let plan = "tests/templates/third_party/tirith/input_implicit_elb_secgroup.json";
    // Default parameters: open unless the provider's default tags exempt it.
    let output = sg_egress(&["check", "--output", "json", plan]);
    assert_eq!(output.status.code(), Some(0));
    let results = json_of(&output);
    assert_eq!(results[0]["outcome"], "UNDETERMINED", "{results}");
    let strict = sg_egress(&["check", "--strict", "--output", "json", plan]);
    assert_eq!(strict.status.code(), Some(1));
    // No tag exempts: the group is open whatever apply decides.
    let output = sg_egress(&[
        "check",
        "--output",
        "json",
        "--parameters",
        r#"{"ExemptTagKey": ""}"#,
        plan,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let results = json_of(&output);
    assert_eq!(results[0]["outcome"], "NON_COMPLIANT", "{results}");
    assert_eq!(results[0]["resource"], "aws_security_group.webservers");
    assert_eq!(results[0]["line"], 391);
    assert_eq!(results[0]["annotation"], "all traffic to 0.0.0.0/0");
}
