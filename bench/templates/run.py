#!/usr/bin/env python3
"""Speed of `sg-egress check` on a large CloudFormation template, beside
cfn-lint and cfn-guard on the same file.

It writes a template of about 5 MB (YAML, and the same as JSON): security
groups with the implicit default, closed lists, open lists, `Fn::If` on
conditions over parameters, standalone egress resources linked by `Ref` and
`Fn::GetAtt`, and prefix lists. Then it reports, for each tool, CPU time
(user + system, start included, best of 3), wall time and peak memory
(GNU time), and what it found.

- sg-egress: `sg-egress check --output json` (the whole decision: every
  group at its widest and narrowest, conditions tried both ways, lines).
- cfn-lint (requirements-dev.txt): every rule it ships, as a pipeline would
  run it; it does not judge egress, so this is the cost of the usual check
  of a template, not of the same decision.
- cfn-guard (cargo install cfn-guard): bench/templates/egress.guard, a
  policy for the plainest form of the check (an inline rule or standalone
  resource with protocol -1 to 0.0.0.0/0 or ::/0); it has no CIDR
  arithmetic, no implicit default, no conditions.

Usage, from the repository root:
    cargo build --release --no-default-features --bin sg-egress
    python3 bench/templates/run.py [--groups N]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SG_EGRESS = os.environ.get("SG_EGRESS", os.path.join(TARGET, "release", "sg-egress"))
GUARD = shutil.which("cfn-guard") or os.path.expanduser("~/.cargo/bin/cfn-guard")
CFN_LINT = shutil.which("cfn-lint")
TIME = "/usr/bin/time"
RUNS = 3


def template(groups):
    """A template with `groups` security groups of eight kinds, in turn."""
    resources = {}
    for i in range(groups):
        kind = i % 8
        name = f"Group{i}"
        props = {"GroupDescription": f"group {i}", "VpcId": {"Ref": "Vpc"},
                 "Tags": [{"Key": "team", "Value": f"team-{i % 17}"}, {"Key": "cost-centre", "Value": "1234"}]}
        if kind == 0:
            pass  # the implicit default
        elif kind == 1:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"},
                {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "CidrIp": "10.0.0.0/8", "Description": "dns"},
            ]
        elif kind == 2:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "-1", "CidrIpv6": "::/0", "Description": "everything"},
            ]
        elif kind == 3:
            props["SecurityGroupEgress"] = [
                {"Fn::If": ["IsProd",
                            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": {"Ref": "EgressCidr"}},
                            {"IpProtocol": "-1", "CidrIp": {"Ref": "EgressCidr"}}]},
            ]
        elif kind == 4:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 32767, "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "tcp", "FromPort": 32768, "ToPort": 65535, "CidrIp": "0.0.0.0/0"},
            ]
        elif kind == 5:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
            ]
            resources[f"{name}Egress"] = {
                "Type": "AWS::EC2::SecurityGroupEgress",
                "Properties": {"GroupId": {"Fn::GetAtt": [name, "GroupId"]}, "IpProtocol": "-1",
                               "CidrIp": "0.0.0.0/0"},
            }
        elif kind == 6:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "-1", "DestinationPrefixListId": {"Ref": f"List{i}"}},
            ]
            resources[f"List{i}"] = {
                "Type": "AWS::EC2::PrefixList",
                "Properties": {"PrefixListName": f"list-{i}", "AddressFamily": "IPv4", "MaxEntries": 2,
                               "Entries": [{"Cidr": "192.0.2.0/24"}, {"Cidr": "198.51.100.0/24"}]},
            }
        else:
            props["SecurityGroupEgress"] = [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
            ]
            resources[f"{name}Egress"] = {
                "Type": "AWS::EC2::SecurityGroupEgress",
                "Properties": {"GroupId": {"Ref": name}, "IpProtocol": "tcp", "FromPort": 5432,
                               "ToPort": 5432, "DestinationSecurityGroupId": {"Fn::GetAtt": ["Group1", "GroupId"]}},
            }
        resources[name] = {"Type": "AWS::EC2::SecurityGroup",
                           "Metadata": {"aws:cdk:path": f"Stack/{name}/Resource"},
                           "Properties": props}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "Vpc": {"Type": "AWS::EC2::VPC::Id"},
            "Stage": {"Type": "String", "AllowedValues": ["prod", "dev"]},
            "EgressCidr": {"Type": "String", "Default": "10.0.0.0/8"},
        },
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": resources,
    }


def to_yaml(value, indent=0):
    """Block YAML with CloudFormation's short forms for Ref, GetAtt and If."""
    pad = " " * indent
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and len(item) == 1 and next(iter(item)) == "Ref":
                out.append(f"{pad}{key}: !Ref {item['Ref']}")
            elif isinstance(item, dict) and len(item) == 1 and next(iter(item)) == "Fn::GetAtt":
                out.append(f"{pad}{key}: !GetAtt {'.'.join(item['Fn::GetAtt'])}")
            elif isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:")
                out.append(to_yaml(item, indent + 2))
            else:
                out.append(f"{pad}{key}: {scalar(item)}")
    else:
        for item in value:
            if isinstance(item, dict) and "Fn::If" in item:
                condition, yes, no = item["Fn::If"]
                out.append(f"{pad}- !If")
                out.append(f"{pad}  - {condition}")
                for branch in (yes, no):
                    body = to_yaml(branch, indent + 4).split("\n")
                    out.append(f"{pad}  - " + body[0].lstrip())
                    out.extend(body[1:])
            elif isinstance(item, dict):
                body = to_yaml(item, indent + 2).split("\n")
                out.append(f"{pad}- " + body[0].lstrip())
                out.extend(body[1:])
            else:
                out.append(f"{pad}- {scalar(item)}")
    return "\n".join(out)


def scalar(value):
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def measure(command):
    """Best CPU of RUNS runs, with that run's wall time and peak memory."""
    best = None
    for _ in range(RUNS):
        proc = subprocess.run([TIME, "-f", "%e %U %S %M"] + command, capture_output=True, text=True)
        wall, user, system, peak = proc.stderr.strip().splitlines()[-1].split()
        run = (float(user) + float(system), float(wall), int(peak) / 1024, proc)
        if best is None or run[0] < best[0]:
            best = run
    return best


def main():
    groups = 10_000
    if "--groups" in sys.argv:
        groups = int(sys.argv[sys.argv.index("--groups") + 1])
    value = template(groups)
    with tempfile.TemporaryDirectory() as tmp:
        yaml_path = os.path.join(tmp, "big.yaml")
        json_path = os.path.join(tmp, "big.json")
        with open(yaml_path, "w") as f:
            f.write(to_yaml(value) + "\n")
        with open(json_path, "w") as f:
            json.dump(value, f, indent=1)
        print(f"{groups} groups: YAML {os.path.getsize(yaml_path) / 1e6:.1f} MB, "
              f"JSON {os.path.getsize(json_path) / 1e6:.1f} MB\n")
        print("| tool | input | CPU (s) | wall (s) | peak memory (MB) | found |")
        print("|---|---|---|---|---|---|")
        for label, path in (("YAML", yaml_path), ("JSON", json_path)):
            cpu, wall, peak, proc = measure([SG_EGRESS, "check", "--output", "json", path])
            if proc.returncode not in (0, 1):
                sys.exit(f"sg-egress failed: {proc.stderr}")
            results = json.loads(proc.stdout)
            counts = {}
            for r in results:
                counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
            found = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            print(f"| sg-egress check | {label} | {cpu:.2f} | {wall:.2f} | {peak:.0f} | {found} |")
        if os.path.exists(GUARD):
            for label, path in (("YAML", yaml_path), ("JSON", json_path)):
                cpu, wall, peak, proc = measure(
                    [GUARD, "validate", "--rules", os.path.join(HERE, "egress.guard"), "--data", path,
                     "--show-summary", "none", "--output-format", "json"])
                failing = proc.stdout.count('"rule": "sg_egress_not_open"') or proc.stdout.count("FAIL")
                print(f"| cfn-guard validate | {label} | {cpu:.2f} | {wall:.2f} | {peak:.0f} | exit {proc.returncode} |")
        else:
            print("| cfn-guard | - | not installed | | | |")
        if CFN_LINT:
            for label, path in (("YAML", yaml_path),):
                cpu, wall, peak, proc = measure([CFN_LINT, "--format", "json", path])
                try:
                    found = f"{len(json.loads(proc.stdout or '[]'))} matches"
                except json.JSONDecodeError:
                    found = f"exit {proc.returncode}"
                print(f"| cfn-lint (all rules) | {label} | {cpu:.2f} | {wall:.2f} | {peak:.0f} | {found} |")
        else:
            print("| cfn-lint | - | not installed | | | |")


if __name__ == "__main__":
    main()
