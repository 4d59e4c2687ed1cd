//! SPEC_TEMPLATES.md row by row: CloudFormation (YAML and JSON) and
//! Terraform plans read into groups, judged with the rule's decision, with
//! the line of what opens each group.

use chrono::NaiveDate;
use serde_json::json;
use sg_egress_core::params::Parameters;
use sg_egress_core::templates::cloudformation::check_template;
use sg_egress_core::templates::terraform::check_plan;
use sg_egress_core::templates::{
    read_document, CheckOptions, CheckResult, Document, Kind, Outcome,
};
use std::collections::BTreeMap;

fn options(given: &[(&str, &str)], parameters: &str) -> CheckOptions {
    CheckOptions {
        parameters: Parameters::from_json_text(parameters).expect("rule parameters"),
        template_parameters: given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        today: NaiveDate::from_ymd_opt(2026, 11, 27).expect("a date"),
        assume_defaults: true,
        prefix_lists: Default::default(),
        known_groups: Default::default(),
    }
}

/// Checks a template (YAML or JSON) and returns its results by resource.
fn cfn_with(text: &str, given: &[(&str, &str)], parameters: &str) -> BTreeMap<String, CheckResult> {
    let Document::Template(root) = read_document(text.as_bytes()).expect("the template reads")
    else {
        panic!("not a template")
    };
    let checked = check_template(&root, &options(given, parameters)).expect("the template checks");
    checked
        .results
        .into_iter()
        .map(|r| (r.resource.clone(), r))
        .collect()
}

fn cfn(text: &str) -> BTreeMap<String, CheckResult> {
    cfn_with(text, &[], "{}")
}

/// The 1-based line of the `n`th (from 0) line holding `needle`.
fn line_of(text: &str, needle: &str, n: usize) -> u32 {
    let index = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} #{n} is not in the text"))
        .0;
    u32::try_from(index + 1).expect("a line")
}

fn annotation(result: &CheckResult) -> &str {
    result.annotation.as_deref().unwrap_or("")
}

const HEAD: &str = "AWSTemplateFormatVersion: '2010-09-09'\n";

// ---- the implicit default --------------------------------------------------

#[test]
fn absent_empty_and_novalue_egress_all_mean_the_implicit_default() {
    let text = format!(
        "{HEAD}Resources:
  Absent:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: no egress written
  Empty:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: an empty list
      SecurityGroupEgress: []
  NoValue:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: AWS::NoValue
      SecurityGroupEgress: !Ref AWS::NoValue
  AllItemsGone:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: every item resolves to AWS::NoValue
      SecurityGroupEgress:
        - !Ref AWS::NoValue
"
    );
    let results = cfn(&text);
    for id in ["Absent", "Empty", "NoValue", "AllItemsGone"] {
        let r = &results[id];
        assert_eq!(r.outcome, Outcome::NonCompliant, "{id}: {r:?}");
        assert_eq!(r.kind, Kind::ImplicitDefault, "{id}");
        assert_eq!(
            annotation(r),
            "all traffic to 0.0.0.0/0 (implicit default egress)",
            "{id}"
        );
        // The group's logical id: no rule is written anywhere.
        assert_eq!(r.line, line_of(&text, &format!("  {id}:"), 0), "{id}");
    }
}

#[test]
fn a_written_list_replaces_the_default_even_when_no_item_has_a_destination() {
    let text = format!(
        "{HEAD}Resources:
  Closed:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: https only
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
  NoDestination:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: an item without a destination
      SecurityGroupEgress:
        - IpProtocol: '-1'
"
    );
    let results = cfn(&text);
    assert_eq!(results["Closed"].outcome, Outcome::Compliant);
    assert_eq!(results["NoDestination"].outcome, Outcome::Compliant);
    // The rule is no rule, and a note says so, with its line.
    let Document::Template(root) = read_document(text.as_bytes()).expect("reads") else {
        panic!("not a template")
    };
    let checked = check_template(&root, &options(&[], "{}")).expect("checks");
    assert_eq!(
        checked.notes,
        vec![format!(
            "line {}: NoDestination: an egress rule with no destination (none of CidrIp, CidrIpv6, DestinationPrefixListId, DestinationSecurityGroupId) is no rule, and opens nothing",
            line_of(&text, "- IpProtocol: '-1'", 0)
        )]
    );
}

// ---- rules, lines and kinds --------------------------------------------------

#[test]
fn each_kind_of_opening_points_at_its_item() {
    let text = format!(
        "{HEAD}Resources:
  AllTraffic:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: all
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
        - IpProtocol: -1
          CidrIp: 0.0.0.0/0
  Tcp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: every TCP port, as a number
      SecurityGroupEgress:
        - IpProtocol: 6
          FromPort: '0'
          ToPort: '65535'
          CidrIpv6: ::/0
  UdpTogether:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: two halves that open every UDP port together
      SecurityGroupEgress:
        - IpProtocol: udp
          FromPort: 0
          ToPort: 32767
          CidrIp: 0.0.0.0/0
        - IpProtocol: udp
          FromPort: 32768
          ToPort: 65535
          CidrIp: 0.0.0.0/0
  Octal:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: 010 is 8 to YAML 1.1, so this is not every port
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 010
          ToPort: 65535
          CidrIp: 0.0.0.0/0
"
    );
    let results = cfn(&text);
    let all = &results["AllTraffic"];
    assert_eq!(
        (all.outcome, all.kind),
        (Outcome::NonCompliant, Kind::AllTraffic)
    );
    assert_eq!(all.line, line_of(&text, "- IpProtocol: -1", 0));
    assert_eq!(annotation(all), "all traffic to 0.0.0.0/0");

    let tcp = &results["Tcp"];
    assert_eq!(
        (tcp.outcome, tcp.kind),
        (Outcome::NonCompliant, Kind::AllTcpPorts)
    );
    assert_eq!(tcp.line, line_of(&text, "- IpProtocol: 6", 0));
    assert_eq!(annotation(tcp), "all TCP ports to ::/0");

    let udp = &results["UdpTogether"];
    assert_eq!(
        (udp.outcome, udp.kind),
        (Outcome::NonCompliant, Kind::AllUdpPorts)
    );
    assert_eq!(udp.line, line_of(&text, "- IpProtocol: udp", 0));
    assert_eq!(
        udp.related_lines,
        vec![line_of(&text, "- IpProtocol: udp", 1)]
    );

    assert_eq!(
        results["Octal"].outcome,
        Outcome::Compliant,
        "{:?}",
        results["Octal"]
    );
}

#[test]
fn json_templates_give_the_same_decisions_and_their_own_lines() {
    let text = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Open": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "open",
        "SecurityGroupEgress": [
          {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
          {
            "IpProtocol": "-1",
            "CidrIp": "0.0.0.0/0"
          }
        ]
      }
    },
    "Default": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {"GroupDescription": "default"}
    }
  }
}"#;
    let results = cfn(text);
    assert_eq!(results["Open"].outcome, Outcome::NonCompliant);
    assert_eq!(
        results["Open"].line,
        line_of(text, "\"IpProtocol\": \"-1\"", 0) - 1
    );
    assert_eq!(results["Default"].kind, Kind::ImplicitDefault);
    assert_eq!(results["Default"].line, line_of(text, "\"Default\": {", 0));
}

// ---- standalone egress resources --------------------------------------------------

#[test]
fn standalone_egress_joins_its_group_by_ref_and_by_getatt() {
    let text = format!(
        "{HEAD}Resources:
  ByRef:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: closed inline, opened by a standalone rule
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
  OpenByRef:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !Ref ByRef
      IpProtocol: -1
      CidrIp: 0.0.0.0/0
  ByGetAtt:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: closed inline
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
  OpenByGetAtt:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !GetAtt ByGetAtt.GroupId
      IpProtocol: udp
      FromPort: 0
      ToPort: 65535
      CidrIpv6: ::/0
"
    );
    let results = cfn(&text);
    // The rules are part of their groups, not results of their own.
    assert!(!results.contains_key("OpenByRef") && !results.contains_key("OpenByGetAtt"));
    let by_ref = &results["ByRef"];
    assert_eq!(
        (by_ref.outcome, by_ref.kind),
        (Outcome::NonCompliant, Kind::AllTraffic)
    );
    assert_eq!(by_ref.line, line_of(&text, "    Properties:", 1));
    let by_getatt = &results["ByGetAtt"];
    assert_eq!(
        (by_getatt.outcome, by_getatt.kind),
        (Outcome::NonCompliant, Kind::AllUdpPorts)
    );
    assert_eq!(by_getatt.line, line_of(&text, "    Properties:", 3));
}

#[test]
fn a_group_with_only_standalone_rules_may_keep_the_default() {
    let text = format!(
        "{HEAD}Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: no inline list
  Https:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !GetAtt Group.GroupId
      IpProtocol: tcp
      FromPort: 443
      ToPort: 443
      CidrIp: 10.0.0.0/8
  OpenGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: no inline list, and an open standalone rule
  Open:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !Ref OpenGroup
      IpProtocol: -1
      CidrIp: 0.0.0.0/0
"
    );
    let results = cfn(&text);
    let group = &results["Group"];
    assert_eq!(group.outcome, Outcome::Undetermined, "{group:?}");
    assert!(
        annotation(group)
            .contains("the implicit default egress may remain beside the standalone rules"),
        "{group:?}"
    );
    // Open anyway: the standalone rule opens it, whatever the default does.
    let open = &results["OpenGroup"];
    assert_eq!(open.outcome, Outcome::NonCompliant, "{open:?}");
    assert_eq!(open.line, line_of(&text, "    Properties:", 3));
}

#[test]
fn a_standalone_rule_for_a_group_elsewhere_is_judged_on_its_own() {
    let text = format!(
        "{HEAD}Parameters:
  GroupId:
    Type: AWS::EC2::SecurityGroup::Id
Resources:
  Literal:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: sg-0123456789abcdef0
      IpProtocol: -1
      CidrIp: 0.0.0.0/0
  FromParameter:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !Ref GroupId
      IpProtocol: tcp
      FromPort: 443
      ToPort: 443
      CidrIp: 0.0.0.0/0
  Imported:
    Type: AWS::EC2::SecurityGroupEgress
    Properties:
      GroupId: !ImportValue shared-group
      IpProtocol: tcp
      FromPort: 0
      ToPort: 65535
      CidrIp: 0.0.0.0/0
"
    );
    let results = cfn(&text);
    assert_eq!(results["Literal"].outcome, Outcome::NonCompliant);
    assert_eq!(
        results["Literal"].resource_type,
        "AWS::EC2::SecurityGroupEgress"
    );
    assert_eq!(
        results["Literal"].line,
        line_of(&text, "    Properties:", 0)
    );
    assert_eq!(results["FromParameter"].outcome, Outcome::Compliant);
    assert_eq!(results["Imported"].outcome, Outcome::NonCompliant);
    assert_eq!(results["Imported"].kind, Kind::AllTcpPorts);
    // The literal id is the group's id: ExemptGroupIds applies to it.
    let exempt = cfn_with(&text, &[], r#"{"ExemptGroupIds": "sg-0123456789abcdef0"}"#);
    assert_eq!(exempt["Literal"].outcome, Outcome::Compliant);
    assert!(exempt["Literal"].exemption.is_some());
}

// ---- prefix lists --------------------------------------------------

#[test]
fn a_prefix_list_of_the_template_is_read_and_any_other_is_restricted() {
    let text = format!(
        "{HEAD}Resources:
  Everything:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: everything
      AddressFamily: IPv4
      MaxEntries: 2
      Entries:
        - Cidr: 0.0.0.0/1
        - Cidr: 128.0.0.0/1
  Office:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: office
      AddressFamily: IPv4
      MaxEntries: 1
      Entries:
        - Cidr: 192.0.2.0/24
  ToEverything:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: a list that covers the internet
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !GetAtt Everything.PrefixListId
  ToOffice:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the office
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !Ref Office
  ToManaged:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: a list outside the template
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: pl-0123456789abcdef0
  ToGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: another group
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationSecurityGroupId: !GetAtt ToOffice.GroupId
"
    );
    let results = cfn(&text);
    assert_eq!(
        results["ToEverything"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["ToEverything"]
    );
    assert_eq!(results["ToOffice"].outcome, Outcome::Compliant);
    assert_eq!(results["ToManaged"].outcome, Outcome::Compliant);
    assert_eq!(results["ToGroup"].outcome, Outcome::Compliant);
}

#[test]
fn a_template_prefix_list_with_entries_not_known_is_open_at_the_widest() {
    // The same group under four lists: one entry from a parameter with no
    // value, Entries from an import, an entry from a parameter whose allowed
    // values all cover the internet with the other entry, and the IPv6
    // family of a list whose unknown entry can only be IPv6.
    let text = "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Extra:
    Type: String
  Half:
    Type: String
    AllowedValues: [128.0.0.0/1]
Resources:
  FromParameter:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: from-parameter
      AddressFamily: IPv4
      MaxEntries: 2
      Entries:
        - Cidr: 192.0.2.0/24
        - Cidr: !Ref Extra
  Imported:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: imported
      AddressFamily: IPv4
      MaxEntries: 5
      Entries: !ImportValue shared-entries
  Allowed:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: allowed
      AddressFamily: IPv4
      MaxEntries: 2
      Entries:
        - Cidr: 0.0.0.0/1
        - Cidr: !Ref Half
  Six:
    Type: AWS::EC2::PrefixList
    Properties:
      PrefixListName: six
      AddressFamily: IPv6
      MaxEntries: 1
      Entries:
        - Cidr: !Ref Extra
  ViaParameter:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !GetAtt FromParameter.PrefixListId
  ViaImport:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !Ref Imported
  ViaAllowed:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !Ref Allowed
  ViaSix:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: g
      SecurityGroupEgress:
        - IpProtocol: -1
          DestinationPrefixListId: !Ref Six
";
    let results = cfn(text);
    for id in ["ViaParameter", "ViaImport"] {
        let result = &results[id];
        assert_eq!(result.outcome, Outcome::Undetermined, "{result:?}");
        let annotation = result.annotation.as_deref().unwrap();
        assert!(
            annotation.contains("0.0.0.0/0") && annotation.contains("an entry of"),
            "{annotation}"
        );
    }
    assert!(results["ViaParameter"]
        .annotation
        .as_deref()
        .unwrap()
        .contains("Ref Extra"));
    // Each allowed value is tried: every one opens it.
    assert_eq!(
        results["ViaAllowed"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["ViaAllowed"]
    );
    // An IPv6 list: its unknown entry can open IPv6 only.
    assert_eq!(results["ViaSix"].outcome, Outcome::Undetermined);
    assert!(results["ViaSix"]
        .annotation
        .as_deref()
        .unwrap()
        .contains("::/0"));
    let without_ipv6 = cfn_with(text, &[], r#"{"CheckIpv6": "false"}"#);
    assert_eq!(without_ipv6["ViaSix"].outcome, Outcome::Compliant);
    // Given a value, the list is known.
    let given = cfn_with(text, &[("Extra", "10.0.0.0/8")], "{}");
    assert_eq!(given["ViaParameter"].outcome, Outcome::Compliant);
}

// ---- conditions and Fn::If --------------------------------------------------

const CONDITIONAL: &str = "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Env:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Never: false
Resources:
  OnlyInProd:
    Type: AWS::EC2::SecurityGroup
    Condition: IsProd
    Properties:
      GroupDescription: exists only in prod, default egress
  Dropped:
    Type: AWS::EC2::SecurityGroup
    Condition: Never
    Properties:
      GroupDescription: never created
  Branches:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: open outside prod
      SecurityGroupEgress:
        - !If
          - IsProd
          - IpProtocol: tcp
            FromPort: 443
            ToPort: 443
            CidrIp: 0.0.0.0/0
          - IpProtocol: -1
            CidrIp: 0.0.0.0/0
  BothOpen:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: open on both branches
      SecurityGroupEgress:
        - !If
          - IsProd
          - IpProtocol: -1
            CidrIp: 0.0.0.0/0
          - IpProtocol: -1
            CidrIpv6: ::/0
";

#[test]
fn an_unknown_condition_is_never_guessed() {
    let results = cfn(CONDITIONAL);
    assert!(
        !results.contains_key("Dropped"),
        "a false condition drops the resource"
    );
    // Created or not, depending on Env, and open wherever it is created.
    let only = &results["OnlyInProd"];
    assert_eq!(only.outcome, Outcome::NonCompliant, "{only:?}");
    assert_eq!(
        annotation(only),
        "all traffic to 0.0.0.0/0 (implicit default egress); where it is created, which depends on condition IsProd (Ref Env (no value, no default))"
    );
    let branches = &results["Branches"];
    assert_eq!(branches.outcome, Outcome::Undetermined, "{branches:?}");
    assert!(annotation(branches).contains("Env"), "{branches:?}");
    // The line of the `!If` item, not of the branch.
    assert_eq!(branches.line, line_of(CONDITIONAL, "- !If", 0));
    let both = &results["BothOpen"];
    assert_eq!(both.outcome, Outcome::NonCompliant, "{both:?}");
    assert_eq!(both.line, line_of(CONDITIONAL, "- !If", 1));
}

#[test]
fn a_known_condition_takes_its_branch() {
    let prod = cfn_with(CONDITIONAL, &[("Env", "prod")], "{}");
    assert_eq!(prod["OnlyInProd"].outcome, Outcome::NonCompliant);
    assert_eq!(prod["Branches"].outcome, Outcome::Compliant);
    let dev = cfn_with(CONDITIONAL, &[("Env", "dev")], "{}");
    assert!(!dev.contains_key("OnlyInProd"));
    assert_eq!(dev["Branches"].outcome, Outcome::NonCompliant);
    assert_eq!(dev["Branches"].line, line_of(CONDITIONAL, "- !If", 0));
}

#[test]
fn conditions_combine_with_and_or_not_and_condition() {
    let text = format!(
        "{HEAD}Parameters:
  A:
    Type: String
    Default: 'true'
  B:
    Type: String
    Default: 'No'
Conditions:
  AIsTrue: !Equals [!Ref A, true]
  # Fn::Equals is case-sensitive, and No is the string No.
  BIsNo: !Equals [No, !Ref B]
  Both: !And [!Condition AIsTrue, !Condition BIsNo]
  Either: !Or [!Not [!Condition Both], false]
Resources:
  WhenBoth:
    Type: AWS::EC2::SecurityGroup
    Condition: Both
    Properties:
      GroupDescription: created
  WhenEither:
    Type: AWS::EC2::SecurityGroup
    Condition: Either
    Properties:
      GroupDescription: not created
"
    );
    let results = cfn(&text);
    assert_eq!(
        results["WhenBoth"].outcome,
        Outcome::NonCompliant,
        "{results:?}"
    );
    assert!(
        annotation(&results["WhenBoth"]).contains("assumes the default A = \"true\""),
        "{results:?}"
    );
    assert!(!results.contains_key("WhenEither"), "{results:?}");
}

// ---- parameters --------------------------------------------------

const PARAMETERS: &str = "AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  NoDefault:
    Type: String
  WithDefault:
    Type: String
    Default: 10.0.0.0/8
  OpenDefault:
    Type: String
    Default: 0.0.0.0/0
  Allowed:
    Type: String
    AllowedValues: [0.0.0.0/0, 10.0.0.0/8]
  AllOpen:
    Type: String
    AllowedValues: ['-1', tcp]
  FromSsm:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /network/egress-cidr
Resources:
  Unknown:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: no value, no default
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref NoDefault
  Defaulted:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the default is closed
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref WithDefault
  OpenByDefault:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the default is open
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref OpenDefault
  Enumerated:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: one allowed value opens it
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref Allowed
  EveryAllowed:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: every allowed protocol opens every port
      SecurityGroupEgress:
        - IpProtocol: !Ref AllOpen
          FromPort: 0
          ToPort: 65535
          CidrIp: 0.0.0.0/0
  Ssm:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: an SSM parameter
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Ref FromSsm
";

#[test]
fn parameters_without_values_defaults_and_allowed_values() {
    let results = cfn(PARAMETERS);
    let unknown = &results["Unknown"];
    assert_eq!(unknown.outcome, Outcome::Undetermined);
    assert!(
        annotation(unknown).contains("CidrIp = Ref NoDefault (no value, no default)"),
        "{unknown:?}"
    );
    let defaulted = &results["Defaulted"];
    assert_eq!(defaulted.outcome, Outcome::Compliant);
    assert!(
        annotation(defaulted).contains("assumes the default WithDefault = \"10.0.0.0/8\""),
        "{defaulted:?}"
    );
    let open = &results["OpenByDefault"];
    assert_eq!(open.outcome, Outcome::NonCompliant);
    assert_eq!(
        annotation(open),
        "all traffic to 0.0.0.0/0; assumes the default OpenDefault = \"0.0.0.0/0\""
    );
    let enumerated = &results["Enumerated"];
    assert_eq!(enumerated.outcome, Outcome::Undetermined);
    assert!(
        annotation(enumerated).contains("Ref Allowed"),
        "{enumerated:?}"
    );
    assert!(
        annotation(enumerated).contains("open with \"0.0.0.0/0\""),
        "{enumerated:?}"
    );
    assert_eq!(
        results["EveryAllowed"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["EveryAllowed"]
    );
    // Its default names a parameter, not a value.
    let ssm = &results["Ssm"];
    assert_eq!(ssm.outcome, Outcome::Undetermined, "{ssm:?}");
    assert!(annotation(ssm).contains("Ref FromSsm"), "{ssm:?}");
}

#[test]
fn given_values_win_over_defaults_and_enumeration() {
    let results = cfn_with(
        PARAMETERS,
        &[
            ("NoDefault", "0.0.0.0/0"),
            ("WithDefault", "0.0.0.0/0"),
            ("Allowed", "10.0.0.0/8"),
            ("FromSsm", "192.0.2.0/24"),
        ],
        "{}",
    );
    assert_eq!(results["Unknown"].outcome, Outcome::NonCompliant);
    assert_eq!(results["Defaulted"].outcome, Outcome::NonCompliant);
    assert_eq!(
        annotation(&results["Defaulted"]),
        "all traffic to 0.0.0.0/0"
    );
    assert_eq!(results["Enumerated"].outcome, Outcome::Compliant);
    assert_eq!(results["Ssm"].outcome, Outcome::Compliant);
}

#[test]
fn intrinsic_functions_resolve_when_their_inputs_are_known() {
    let text = format!(
        "{HEAD}Mappings:
  Egress:
    prod:
      Cidr: 10.0.0.0/8
    dev:
      Cidr: 0.0.0.0/0
Parameters:
  Stage:
    Type: String
    Default: dev
  Cidrs:
    Type: CommaDelimitedList
    Default: '10.0.0.0/8,0.0.0.0/0'
Resources:
  FindInMap:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: FindInMap
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !FindInMap [Egress, !Ref Stage, Cidr]
  Select:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Select over a list parameter
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Select [1, !Ref Cidrs]
  SubJoinSplit:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Sub, Join and Split
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Sub '${{Zero}}/0'
        - IpProtocol: -1
          CidrIpv6: !Join ['', ['::', '/0']]
        - IpProtocol: tcp
          FromPort: !Select [0, !Split [',', '0,65535']]
          ToPort: !Select [1, !Split [',', '0,65535']]
          CidrIp: 10.0.0.0/8
  Pseudo:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: a pseudo parameter is known only at deployment
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: !Sub '${{AWS::Region}}'
  Dynamic:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: a dynamic reference is known only at deployment
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIp: '{{{{resolve:ssm:/network/cidr}}}}'
Outputs:
  Zero:
    Value: x
"
    );
    // `${{Zero}}` in Sub names no parameter or resource: unknown.
    let results = cfn(&text);
    assert_eq!(
        results["FindInMap"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["FindInMap"]
    );
    assert_eq!(
        results["Select"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["Select"]
    );
    let sub = &results["SubJoinSplit"];
    assert_eq!(sub.outcome, Outcome::NonCompliant, "{sub:?}");
    assert_eq!(annotation(sub), "all traffic to ::/0");
    assert_eq!(
        results["Pseudo"].outcome,
        Outcome::Undetermined,
        "{:?}",
        results["Pseudo"]
    );
    assert_eq!(
        results["Dynamic"].outcome,
        Outcome::Undetermined,
        "{:?}",
        results["Dynamic"]
    );
    let prod = cfn_with(&text, &[("Stage", "prod")], "{}");
    assert_eq!(prod["FindInMap"].outcome, Outcome::Compliant);
}

// ---- exemptions and VPCs --------------------------------------------------

#[test]
fn exemption_tags_and_vpcs_work_as_at_run_time_and_unknown_ones_do_not_exempt() {
    let text = format!(
        "{HEAD}Parameters:
  Reason:
    Type: String
  Vpc:
    Type: AWS::EC2::VPC::Id
Resources:
  Exempt:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: exempt until 2099
      Tags:
        - Key: sg-egress-exempt
          Value: 2099-12-31 egress proxy
  Expired:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the exemption ran out
      Tags:
        - Key: sg-egress-exempt
          Value: 2026-11-26 migration
  UnknownTag:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the tag's value is a parameter
      Tags:
        - Key: sg-egress-exempt
          Value: !Ref Reason
  InVpc:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: in an exempt VPC
      VpcId: vpc-0aaaaaaaaaaaaaaaa
  UnknownVpc:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: VPC not known
      VpcId: !Ref Vpc
"
    );
    let results = cfn_with(&text, &[], r#"{"ExemptVpcIds": "vpc-0aaaaaaaaaaaaaaaa"}"#);
    let exempt = &results["Exempt"];
    assert_eq!(exempt.outcome, Outcome::Compliant);
    assert!(annotation(exempt).starts_with("Exempt: "), "{exempt:?}");
    assert!(exempt.exemption.is_some());
    assert_eq!(
        results["Expired"].outcome,
        Outcome::NonCompliant,
        "{:?}",
        results["Expired"]
    );
    assert_eq!(results["UnknownTag"].outcome, Outcome::Undetermined);
    assert!(
        annotation(&results["UnknownTag"]).contains("tag sg-egress-exempt"),
        "{:?}",
        results["UnknownTag"]
    );
    assert_eq!(results["InVpc"].outcome, Outcome::Compliant);
    assert_eq!(
        results["UnknownVpc"].outcome,
        Outcome::Undetermined,
        "{:?}",
        results["UnknownVpc"]
    );
}

// ---- templates not final, nested stacks --------------------------------------------------

#[test]
fn a_transform_means_not_evaluated_naming_it() {
    let text = format!(
        "{HEAD}Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: closed before the transform runs, perhaps not after
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 10.0.0.0/8
"
    );
    let results = cfn(&text);
    let group = &results["Group"];
    assert_eq!(
        (group.outcome, group.kind),
        (Outcome::NotEvaluated, Kind::NotEvaluated)
    );
    assert!(
        annotation(group).contains("AWS::LanguageExtensions, AWS::Serverless-2016-10-31"),
        "{group:?}"
    );
    assert_eq!(group.line, line_of(&text, "  Group:", 0));

    // Groups written only through the transform: one result for the
    // template, never silence.
    let text = format!(
        "{HEAD}Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Groups:
    - Name
    - [A, B]
    - Group${{Name}}:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: default egress, once per name
"
    );
    let results = cfn(&text);
    assert_eq!(results.len(), 1, "{results:?}");
    let template = &results["Transform"];
    assert_eq!(template.outcome, Outcome::NotEvaluated);
    assert!(
        annotation(template).contains("Transform AWS::LanguageExtensions, which may create"),
        "{template:?}"
    );
    assert_eq!(template.line, line_of(&text, "Transform:", 0));
}

#[test]
fn nested_stacks_name_their_templates() {
    let text = format!(
        "{HEAD}Resources:
  Inner:
    Type: AWS::CloudFormation::Stack
    Metadata:
      aws:asset:path: ParentInner0123.nested.template.json
    Properties:
      TemplateURL: https://example.invalid/template.json
"
    );
    let Document::Template(root) = read_document(text.as_bytes()).expect("reads") else {
        panic!("not a template")
    };
    let checked = check_template(&root, &options(&[], "{}")).expect("checks");
    assert_eq!(
        checked.nested_templates,
        vec!["ParentInner0123.nested.template.json".to_string()]
    );
}

// ---- YAML as CloudFormation reads it --------------------------------------------------

#[test]
fn yaml_short_forms_and_scalars_read_as_cloudformation_reads_them() {
    let text = format!(
        "{HEAD}Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: yes
      SecurityGroupEgress:
        - IpProtocol: -1
          CidrIpv6: ::/0
"
    );
    let results = cfn(&text);
    assert_eq!(annotation(&results["Group"]), "all traffic to ::/0");
}

#[test]
fn yaml_that_cloudformation_refuses_is_refused_with_its_line() {
    let cases = [
        ("an anchor", "Resources:\n  A: &x\n    Type: AWS::EC2::SecurityGroup\n  B: *x\n", 2),
        (
            "a merge key",
            "Resources:\n  A:\n    Type: AWS::EC2::SecurityGroup\n    <<: {Properties: {}}\n",
            4,
        ),
        ("several documents", "Resources: {}\n---\nResources: {}\n", 2),
        (
            "a duplicate key",
            "Resources:\n  A:\n    Type: AWS::EC2::SecurityGroup\n  A:\n    Type: AWS::EC2::SecurityGroup\n",
            4,
        ),
    ];
    for (what, text, line) in cases {
        let error = match read_document(text.as_bytes()) {
            Err(e) => e,
            Ok(_) => panic!("{what}: accepted"),
        };
        assert_eq!(error.line, line, "{what}: {error}");
    }
    let error = match read_document(b"{\"Resources\": {\"A\": {}, \"A\": {}}}") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a duplicate JSON key accepted"),
    };
    assert!(error.contains("A"), "{error}");
}

// ---- Terraform plans --------------------------------------------------

/// A plan entry for `resource_changes`.
fn change(
    address: &str,
    kind: &str,
    actions: &[&str],
    after: serde_json::Value,
    unknown: serde_json::Value,
) -> serde_json::Value {
    json!({
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": address.rsplit('.').next().unwrap(),
        "change": {"actions": actions, "before": null, "after": after, "after_unknown": unknown}
    })
}

fn egress_block(protocol: &str, from: i64, to: i64, cidrs: &[&str]) -> serde_json::Value {
    json!({
        "protocol": protocol, "from_port": from, "to_port": to, "cidr_blocks": cidrs,
        "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false, "description": ""
    })
}

/// Checks a plan written out as `terraform show -json` would (pretty, keys
/// sorted), returning the text and the results by address.
fn plan(value: serde_json::Value) -> (String, BTreeMap<String, CheckResult>) {
    let text = serde_json::to_string_pretty(&value).expect("json");
    let Document::Plan(root) = read_document(text.as_bytes()).expect("the plan reads") else {
        panic!("not a plan")
    };
    let results = check_plan(&root, &options(&[], "{}")).expect("the plan checks");
    (
        text,
        results
            .into_iter()
            .map(|r| (r.resource.clone(), r))
            .collect(),
    )
}

/// The line of the `{` of a resource change (its `address` is its first key).
fn change_line(text: &str, address: &str) -> u32 {
    let needle = format!("\"address\": {}", serde_json::to_string(address).unwrap());
    let count = text.lines().filter(|l| l.contains(&needle)).count();
    line_of(text, &needle, count - 1) - 1
}

#[test]
fn terraform_groups_have_no_default_egress_and_their_blocks_open_them() {
    let (text, results) = plan(json!({
        "format_version": "1.2",
        "resource_changes": [
            change("aws_security_group.none", "aws_security_group", &["create"],
                json!({"name": "none", "egress": [], "tags_all": {}}), json!({"id": true})),
            change("aws_security_group.open", "aws_security_group", &["create"],
                json!({"name": "open", "egress": [egress_block("tcp", 443, 443, &["10.0.0.0/8"]), egress_block("-1", 0, 0, &["0.0.0.0/0"])], "tags_all": {}}),
                json!({"id": true})),
            change("aws_default_security_group.default", "aws_default_security_group", &["update"],
                json!({"egress": [egress_block("udp", 0, 65535, &["0.0.0.0/0"])], "tags_all": {}}), json!({})),
            change("aws_security_group.gone", "aws_security_group", &["delete"],
                json!(null), json!({})),
            change("aws_security_group.exempt", "aws_security_group", &["create"],
                json!({"egress": [egress_block("-1", 0, 0, &["0.0.0.0/0"])], "tags_all": {"sg-egress-exempt": "2099-01-01 proxy"}}), json!({})),
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_security_group.none", "type": "aws_security_group", "expressions": {}},
            {"address": "aws_security_group.open", "type": "aws_security_group", "expressions": {"egress": []}},
        ]}}
    }));
    assert_eq!(
        results["aws_security_group.none"].outcome,
        Outcome::Compliant
    );
    let open = &results["aws_security_group.open"];
    assert_eq!(
        (open.outcome, open.kind),
        (Outcome::NonCompliant, Kind::AllTraffic)
    );
    assert_eq!(open.line, change_line(&text, "aws_security_group.open"));
    let default = &results["aws_default_security_group.default"];
    assert_eq!(
        (default.outcome, default.kind),
        (Outcome::NonCompliant, Kind::AllUdpPorts)
    );
    assert!(!results.contains_key("aws_security_group.gone"));
    assert_eq!(
        results["aws_security_group.exempt"].outcome,
        Outcome::Compliant
    );
    assert!(results["aws_security_group.exempt"].exemption.is_some());
}

#[test]
fn terraform_rule_resources_join_their_groups_by_id_and_by_reference_in_modules() {
    let (text, results) = plan(json!({
        "format_version": "1.2",
        "resource_changes": [
            change("aws_security_group.known", "aws_security_group", &["no-op"],
                json!({"id": "sg-0123456789abcdef0", "egress": [egress_block("tcp", 443, 443, &["10.0.0.0/8"])], "tags_all": {}}), json!({})),
            change("aws_security_group_rule.all_tcp", "aws_security_group_rule", &["create"],
                json!({"type": "egress", "security_group_id": "sg-0123456789abcdef0", "protocol": "tcp", "from_port": 0, "to_port": 65535, "cidr_blocks": ["0.0.0.0/0"]}),
                json!({"id": true})),
            change("aws_security_group_rule.ingress", "aws_security_group_rule", &["create"],
                json!({"type": "ingress", "security_group_id": "sg-0123456789abcdef0", "protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}),
                json!({"id": true})),
            change("module.net[\"a\"].aws_security_group.this", "aws_security_group", &["create"],
                json!({"name": "a", "tags_all": {}}), json!({"id": true, "egress": true})),
            change("module.net[\"b\"].aws_security_group.this", "aws_security_group", &["create"],
                json!({"name": "b", "tags_all": {}}), json!({"id": true, "egress": true})),
            change("module.net[\"b\"].aws_vpc_security_group_egress_rule.all", "aws_vpc_security_group_egress_rule", &["create"],
                json!({"ip_protocol": "-1", "cidr_ipv6": "::/0", "tags": null}),
                json!({"id": true, "security_group_id": true})),
            change("aws_vpc_security_group_egress_rule.elsewhere", "aws_vpc_security_group_egress_rule", &["create"],
                json!({"security_group_id": "sg-0fffffffffffffff0", "ip_protocol": "udp", "cidr_ipv4": "0.0.0.0/0", "from_port": 0, "to_port": 65535}),
                json!({"id": true})),
        ],
        "configuration": {"root_module": {
            "resources": [
                {"address": "aws_security_group.known", "type": "aws_security_group", "expressions": {"egress": []}},
            ],
            "module_calls": {"net": {"module": {"resources": [
                {"address": "aws_security_group.this", "type": "aws_security_group", "expressions": {}},
                {"address": "aws_vpc_security_group_egress_rule.all", "type": "aws_vpc_security_group_egress_rule",
                 "expressions": {"security_group_id": {"references": ["aws_security_group.this.id", "aws_security_group.this"]}}},
            ]}}}
        }}
    }));
    let known = &results["aws_security_group.known"];
    assert_eq!(
        (known.outcome, known.kind),
        (Outcome::NonCompliant, Kind::AllTcpPorts),
        "{known:?}"
    );
    assert_eq!(
        known.line,
        change_line(&text, "aws_security_group_rule.all_tcp")
    );
    // Its egress is unknown only because no block is written: no inline rules.
    assert_eq!(
        results["module.net[\"a\"].aws_security_group.this"].outcome,
        Outcome::Compliant
    );
    let b = &results["module.net[\"b\"].aws_security_group.this"];
    assert_eq!(b.outcome, Outcome::NonCompliant, "{b:?}");
    assert_eq!(
        b.line,
        change_line(
            &text,
            "module.net[\"b\"].aws_vpc_security_group_egress_rule.all"
        )
    );
    assert!(!results.contains_key("module.net[\"b\"].aws_vpc_security_group_egress_rule.all"));
    // A rule for a group the plan does not hold is judged on its own.
    let elsewhere = &results["aws_vpc_security_group_egress_rule.elsewhere"];
    assert_eq!(
        (elsewhere.outcome, elsewhere.kind),
        (Outcome::NonCompliant, Kind::AllUdpPorts)
    );
}

#[test]
fn terraform_values_known_after_apply_are_unknowns() {
    let (_, results) = plan(json!({
        "format_version": "1.2",
        "resource_changes": [
            change("aws_security_group.web", "aws_security_group", &["create"],
                json!({"egress": [{"protocol": "-1", "from_port": 0, "to_port": 0, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}], "tags_all": {}}),
                json!({"id": true, "egress": [{"cidr_blocks": true}]})),
            change("aws_security_group.written", "aws_security_group", &["create"],
                json!({"tags_all": {}}), json!({"id": true, "egress": true})),
        ],
        "configuration": {"root_module": {"resources": [
            {"address": "aws_security_group.web", "type": "aws_security_group", "expressions": {"egress": [{}]}},
            {"address": "aws_security_group.written", "type": "aws_security_group", "expressions": {"egress": [{}]}},
        ]}}
    }));
    let web = &results["aws_security_group.web"];
    assert_eq!(web.outcome, Outcome::Undetermined, "{web:?}");
    assert!(annotation(web).contains("known after apply"), "{web:?}");
    // Blocks are written but their values are all unknown.
    assert_eq!(
        results["aws_security_group.written"].outcome,
        Outcome::Undetermined
    );
}

#[test]
fn another_plan_format_is_bad_input() {
    let text =
        serde_json::to_string_pretty(&json!({"format_version": "2.0", "resource_changes": []}))
            .unwrap();
    let Document::Plan(root) = read_document(text.as_bytes()).expect("reads") else {
        panic!("not a plan")
    };
    let error = check_plan(&root, &options(&[], "{}")).expect_err("refused");
    assert!(
        error.to_string().contains("format_version \"2.0\""),
        "{error}"
    );
    assert_eq!(error.line, 2);
}

// ---- hostile input --------------------------------------------------

#[test]
fn hostile_templates_are_clear_errors_never_panics() {
    let deep_json = format!(
        "{{\"Resources\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_yaml = format!(
        "Resources:\n  A: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let laughs = {
        let mut t = String::from("Resources:\n  a0: &a0 lol\n");
        for i in 1..10 {
            let refs: Vec<String> = (0..10).map(|_| format!("*a{}", i - 1)).collect();
            t.push_str(&format!("  a{i}: &a{i} [{}]\n", refs.join(", ")));
        }
        t
    };
    let mut invalid = b"Resources:\n  A:\n    Type: \xff\xfe\n".to_vec();
    invalid.extend_from_slice(b"\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("deep JSON", deep_json.into_bytes(), "nested deeper than"),
        ("deep YAML", deep_yaml.into_bytes(), "recursion limit"),
        (
            "a billion laughs",
            laughs.into_bytes(),
            "anchors are not allowed",
        ),
        ("invalid UTF-8", invalid, "not UTF-8"),
        (
            "not a template",
            b"just: a mapping\n".to_vec(),
            "neither a CloudFormation template",
        ),
        ("not YAML", b"Resources: [\n".to_vec(), ""),
        ("empty", Vec::new(), ""),
    ];
    for (what, bytes, expected) in cases {
        match read_document(&bytes) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => {
                assert!(e.line >= 1, "{what}: {e}");
                assert!(e.to_string().contains(expected), "{what}: {e}");
            }
        }
    }
}

#[test]
fn a_ten_megabyte_string_and_many_alternatives_are_read_and_judged() {
    let big = "x".repeat(10 * 1024 * 1024);
    let text = format!(
        "{HEAD}Resources:\n  Group:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: '{big}'\n"
    );
    assert_eq!(cfn(&text)["Group"].outcome, Outcome::NonCompliant);

    // Nested conditions that multiply: judged at the widest, not one by one.
    let mut value = String::from("!Ref P");
    for _ in 0..12 {
        value = format!("!If [C, {value}, {value}]");
    }
    let text = format!(
        "{HEAD}Parameters:\n  P:\n    Type: String\n  Q:\n    Type: String\nConditions:\n  C: !Equals [!Ref Q, x]\nResources:\n  Group:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n      SecurityGroupEgress:\n        - IpProtocol: {value}\n          FromPort: {value}\n          ToPort: {value}\n          CidrIp: 10.0.0.0/8\n"
    );
    assert_eq!(cfn(&text)["Group"].outcome, Outcome::Compliant);
}
