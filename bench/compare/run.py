#!/usr/bin/env python3
"""Side-by-side of sg-egress against the alternatives a user would otherwise
choose, on the same inputs, in the same run:

- the same check as an AWS Config Guard policy, run with the cfn-guard CLI
  (cargo install cfn-guard);
- a straightforward RDK-style Python implementation (rdk_style_rule.py).

It reports speed on 10,000 typical Config items (about 1.6 KB each, 16 MB:
a third default egress, a third HTTPS only, a third IPv6 open), as one list
and as 10,000 files: CPU time (user + system of the process, start included,
best of 3), wall time and peak memory; and correctness (how many of the
tricky cases of SPEC.md each gets right).

Usage, from the repository root:
    cargo build --release --no-default-features --bin sg-egress
    python3 bench/compare/run.py
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SG_EGRESS = os.environ.get("SG_EGRESS", os.path.join(TARGET, "release", "sg-egress"))
GUARD = shutil.which("cfn-guard") or os.path.expanduser("~/.cargo/bin/cfn-guard")
TIME = "/usr/bin/time"  # GNU time, for peak memory (Debian package `time`)
RUNS = 3
ITEMS = int(os.environ.get("SG_EGRESS_COMPARE_ITEMS", "10000"))


def item(i, egress):
    """A configuration item as Config delivers it in change notifications
    (about 1.6 KB with the egress of `typical_items`)."""
    return {
        "relatedEvents": [],
        "relationships": [
            {"resourceId": f"eni-{i:017x}", "resourceName": None, "resourceType": "AWS::EC2::NetworkInterface", "name": "Is associated with NetworkInterface"},
            {"resourceId": "vpc-0a1b2c3d4e5f60718", "resourceName": None, "resourceType": "AWS::EC2::VPC", "name": "Is contained in Vpc"},
        ],
        "supplementaryConfiguration": {}, "tags": {"Name": f"g{i}", "team": "payments"},
        "configurationItemVersion": "1.3", "configurationItemCaptureTime": "2026-11-20T09:14:27.318Z",
        "configurationStateId": 1795166067318, "awsAccountId": "123456789012", "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::SecurityGroup", "resourceId": f"sg-{i:017x}", "resourceName": f"g{i}",
        "ARN": f"arn:aws:ec2:us-east-1:123456789012:security-group/sg-{i:017x}", "awsRegion": "us-east-1",
        "availabilityZone": "Not Applicable", "configurationStateMd5Hash": "", "resourceCreationTime": None,
        "configuration": {
            "description": f"security group g{i} of the payments service", "groupName": f"g{i}", "ownerId": "123456789012", "groupId": f"sg-{i:017x}", "vpcId": "vpc-0a1b2c3d",
            "ipPermissions": [{"fromPort": 443, "ipProtocol": "tcp", "toPort": 443, "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}], "ipRanges": ["0.0.0.0/0"], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []}],
            "ipPermissionsEgress": egress, "tags": [{"key": "Name", "value": f"g{i}"}, {"key": "team", "value": "payments"}],
        },
    }


def perm(protocol, from_port=None, to_port=None, v4=(), v6=(), legacy=True):
    return {"ipProtocol": protocol, "fromPort": from_port, "toPort": to_port,
            "ipv4Ranges": [{"cidrIp": c} for c in v4], "ipRanges": list(v4) if legacy else [],
            "ipv6Ranges": [{"cidrIpv6": c} for c in v6], "prefixListIds": [], "userIdGroupPairs": []}


def typical_items(n):
    kinds = [
        [perm("-1", v4=["0.0.0.0/0"])],
        [perm("tcp", 443, 443, v4=["0.0.0.0/0"], v6=["::/0"])],
        [perm("-1", v6=["::/0"]), perm("udp", 53, 53, v4=["10.0.0.2/32"])],
    ]
    return [item(i, kinds[i % 3]) for i in range(n)]


# (description, egress, expected verdict under SPEC.md)
TRICKY = [
    ("all traffic to 0.0.0.0/0", [perm("-1", v4=["0.0.0.0/0"])], "NON_COMPLIANT"),
    ("tcp 0-65535 to 0.0.0.0/0", [perm("tcp", 0, 65535, v4=["0.0.0.0/0"])], "NON_COMPLIANT"),
    ("tcp 1-65535 (port 0 is not needed)", [perm("tcp", 1, 65535, v4=["0.0.0.0/0"])], "NON_COMPLIANT"),
    ("10.0.0.0/0 is the whole space", [perm("-1", v4=["10.0.0.0/0"])], "NON_COMPLIANT"),
    ("::0/0 is the whole IPv6 space", [perm("-1", v6=["::0/0"])], "NON_COMPLIANT"),
    ("0.0.0.0/1 + 128.0.0.0/1", [perm("-1", v4=["0.0.0.0/1", "128.0.0.0/1"])], "NON_COMPLIANT"),
    ("tcp 1-32767 + 32768-65535 in two rules", [perm("tcp", 1, 32767, v4=["0.0.0.0/0"]), perm("tcp", 32768, 65535, v4=["0.0.0.0/0"])], "NON_COMPLIANT"),
    ("protocol 6, ports as floats", [perm("6", 0.0, 65535.0, v4=["0.0.0.0/0"])], "NON_COMPLIANT"),
    ("udp with missing ports", [{"ipProtocol": "udp", "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}]}], "NON_COMPLIANT"),
    ("legacy ipRanges only", [{"ipProtocol": "-1", "ipRanges": ["0.0.0.0/0"]}], "NON_COMPLIANT"),
    ("https only", [perm("tcp", 443, 443, v4=["0.0.0.0/0"])], "COMPLIANT"),
    ("tcp 2-65535 misses a port", [perm("tcp", 2, 65535, v4=["0.0.0.0/0"])], "COMPLIANT"),
    ("one /1 half only", [perm("-1", v4=["0.0.0.0/1"])], "COMPLIANT"),
    ("icmp to the internet", [perm("icmp", -1, -1, v4=["0.0.0.0/0"])], "COMPLIANT"),
    ("private ranges", [perm("-1", v4=["10.0.0.0/8", "192.168.0.0/16"])], "COMPLIANT"),
    ("no egress arrays at all", [{"ipProtocol": "-1"}], "COMPLIANT"),
]


def write_files(directory, items):
    os.makedirs(directory, exist_ok=True)
    for k, it in enumerate(items):
        with open(os.path.join(directory, f"{k:05d}.json"), "w") as f:
            json.dump(it, f)


def measured(command):
    """Best of RUNS: (CPU seconds, wall seconds, peak resident MB) of one run
    of `command`. CPU is the kernel's accounting of the process tree
    (os.wait4: user + system); the peak is what GNU time measures of the
    command itself (wait4's maximum would also count the measuring Python
    process, whose memory a child shares until it runs the command)."""
    best = None
    peak_file = os.path.join(tempfile.gettempdir(), f"sg-egress-peak-{os.getpid()}")
    try:
        for _ in range(RUNS):
            start = time.perf_counter()
            process = subprocess.Popen([TIME, "-f", "%M", "-o", peak_file, *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, _, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            with open(peak_file) as f:
                peak_kb = int(f.read().split()[-1])
            run = (usage.ru_utime + usage.ru_stime, wall, peak_kb / 1024)
            best = run if best is None or run[0] < best[0] else best
    finally:
        if os.path.exists(peak_file):
            os.remove(peak_file)
    return best


def verdict_sg_egress(path):
    out = subprocess.run([SG_EGRESS, "evaluate", path], capture_output=True, text=True)
    return json.loads(out.stdout)[0]["ComplianceType"]


def verdict_python(path):
    out = subprocess.run([sys.executable, os.path.join(HERE, "rdk_style_rule.py"), path], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def verdict_guard(path):
    out = subprocess.run([GUARD, "validate", "-r", os.path.join(HERE, "sg-egress.guard"), "-d", path, "--show-summary", "none"], capture_output=True, text=True)
    # 0: every rule passed; 19: a rule failed.
    return {0: "COMPLIANT", 19: "NON_COMPLIANT"}.get(out.returncode, f"error {out.returncode}")


def main():
    tools = {"sg-egress": os.path.exists(SG_EGRESS), "cfn-guard": os.path.exists(GUARD), "python (RDK style)": True, "GNU time": os.path.exists(TIME)}
    missing = [t for t, ok in tools.items() if not ok]
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (sg-egress at {SG_EGRESS}, cfn-guard at {GUARD})")
    work = tempfile.mkdtemp(prefix="sg-egress-compare-")
    items = typical_items(ITEMS)
    list_file = os.path.join(work, "items.json")
    with open(list_file, "w") as f:
        json.dump(items, f)
    size_mb = os.path.getsize(list_file) / 1e6
    files_dir = os.path.join(work, "items")
    write_files(files_dir, items)
    files = sorted(os.path.join(files_dir, n) for n in os.listdir(files_dir))

    print(f"Speed: {ITEMS:,} Config items ({size_mb:.1f} MB as one list), best of {RUNS} runs by CPU time (user + system, process start included)\n")
    rows = [
        ("sg-egress", "one list", [SG_EGRESS, "evaluate", "--output", "json", list_file]),
        ("sg-egress", f"{ITEMS:,} files", [SG_EGRESS, "evaluate", "--output", "json", *files]),
        ("python (RDK style)", "one list", [sys.executable, os.path.join(HERE, "rdk_style_rule.py"), list_file]),
        ("python (RDK style)", f"{ITEMS:,} files", [sys.executable, os.path.join(HERE, "rdk_style_rule.py"), *files]),
        ("cfn-guard", f"{ITEMS:,} files", [GUARD, "validate", "-r", os.path.join(HERE, "sg-egress.guard"), "-d", files_dir, "--show-summary", "none"]),
    ]
    results = {}
    for tool, shape, command in rows:
        results[(tool, shape)] = measured(command)
    base = {shape: results[("sg-egress", shape)][0] for shape in ("one list", f"{ITEMS:,} files")}
    print("| tool | input | CPU time | wall time | peak memory | CPU vs sg-egress |")
    print("|---|---|---|---|---|---|")
    for (tool, shape), (cpu, wall, peak) in results.items():
        print(f"| {tool} | {shape} | {cpu * 1000:.0f} ms | {wall * 1000:.0f} ms | {peak:.1f} MB | {cpu / base[shape]:.1f}x |")
    cpu = results[("sg-egress", "one list")][0]
    print(f"\nsg-egress on the list: {size_mb / cpu:.0f} MB/s of input per CPU second; peak memory {results[('sg-egress', 'one list')][2] / size_mb:.2f}x the input")

    print(f"\nCorrectness: {len(TRICKY)} cases of SPEC.md\n")
    tricky_dir = os.path.join(work, "tricky")
    write_files(tricky_dir, [item(i, egress) for i, (_, egress, _) in enumerate(TRICKY)])
    print()
    scores = {name: 0 for name in ("sg-egress", "cfn-guard", "python (RDK style)")}
    print("| case | expected | sg-egress | cfn-guard | python (RDK style) |")
    print("|---|---|---|---|---|")
    for k, (description, _, expected) in enumerate(TRICKY):
        path = os.path.join(tricky_dir, f"{k:05d}.json")
        got = {"sg-egress": verdict_sg_egress(path), "cfn-guard": verdict_guard(path), "python (RDK style)": verdict_python(path)}
        for name, verdict in got.items():
            scores[name] += verdict == expected
        marks = " | ".join(("✓ " if got[n] == expected else "✗ ") + got[n] for n in scores)
        print(f"| {description} | {expected} | {marks} |")
    print("| **right** | | " + " | ".join(f"**{scores[n]}/{len(TRICKY)}**" for n in scores) + " |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
