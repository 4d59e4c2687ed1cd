#!/usr/bin/env python3
"""Measures every performance budget and prints each figure beside it.

Not a test: figures depend on the machine. Run from the repository root:

    python3 bench/budgets.py [--skip-bench] [--groups 10000]

It needs the release Lambda binary (cargo lambda build --release --x86-64
--bin sg-egress-rule; set SG_EGRESS_BOOTSTRAP to its path if the target
directory is not the default) and the emulator's packages
(pip install -r tests/emulator/requirements.txt).
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import zipfile

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RESULTS = []


def report(name, value, unit, budget, ok):
    RESULTS.append((name, value, unit, budget, ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {value:,.3f} {unit}  (budget: {budget})", flush=True)


def criterion_mean_ns(group, bench):
    path = os.path.join(TARGET, "criterion", group, bench, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"]


def micro_benchmarks(skip):
    if not skip:
        subprocess.run(
            ["cargo", "bench", "--no-default-features", "--bench", "evaluate", "--", "--warm-up-time", "2", "--measurement-time", "5"],
            cwd=ROOT,
            check=True,
        )
    typical = criterion_mean_ns("parse_and_evaluate", "items/typical_item")
    report("typical item, parse + evaluate", 1e9 / typical, "items/s", ">= 200,000 items/s on one core", 1e9 / typical >= 200_000)
    large = criterion_mean_ns("parse_and_evaluate", "items/large_group_1000_permissions")
    report("1,000-permission group, parse + evaluate", large / 1e6, "ms", "< 1 ms", large < 1e6)
    page = criterion_mean_ns("parse_and_evaluate", "items/describe_page_1000_groups")
    report("DescribeSecurityGroups page of 1,000 groups", 1000 * 1e9 / page, "groups/s", "(reported)", True)
    coverage = criterion_mean_ns("coverage", "covers_everything_1000_rects")
    report("coverage sweep, 1,000 rectangles", coverage / 1e3, "µs", "(reported)", True)


class Emulator:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "emulator", "server.py"), "--port", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.port = int(self.process.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def control(self, name, body=None):
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{name}", data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=900) as r:
            return json.loads(r.read())

    def get(self, name):
        with urllib.request.urlopen(f"{self.url}/_emulator/{name}", timeout=60) as r:
            return json.loads(r.read())

    def ec2(self):
        return boto3.client("ec2", region_name="us-east-1", endpoint_url=self.url, aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self):
        self.process.kill()


def start_function(emulator, bootstrap):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{emulator.port}",
        "AWS_LAMBDA_FUNCTION_NAME": "sg-egress-rule",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/sg-egress-rule",
        "AWS_ENDPOINT_URL": emulator.url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    started = time.time()
    process = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, started


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lambda_event(invoking, token, parameters=None):
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters or {}),
        "resultToken": token,
        "eventLeftScope": False,
        "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
        "configRuleArn": "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-0a1b2c",
        "configRuleName": "sg-egress-rule",
        "accountId": "123456789012",
        "evaluationMode": "DETECTIVE",
    }


def function_measurements(bootstrap, groups):
    # Cold start (a fresh emulator each time, so that no earlier process still
    # waits for work) and warm change events.
    colds = []
    for attempt in range(5):
        emulator = Emulator()
        process, started = start_function(emulator, bootstrap)
        while emulator.get("runtime-stats")["firstNextAt"] is None:
            time.sleep(0.001)
        colds.append(emulator.get("runtime-stats")["firstNextAt"] - started)
        if attempt < 4:
            process.kill()
            process.wait()
            emulator.stop()
    cold = statistics.median(colds) * 1000
    report("cold start (process start to first Runtime API request), median of 5", cold, "ms", "< 20 ms", cold < 20)
    try:
        token = emulator.control("result-token", {"ruleName": "sg-egress-rule"})["resultToken"]
        with open(os.path.join(ROOT, "events", "change-noncompliant.json")) as f:
            change = json.load(f)
        change["resultToken"] = token
        parameters = json.loads(change.get("ruleParameters") or "{}")
        # Without exposure (the verdict alone, as before exposure existed), then
        # with it (the default: an open group's VPC network is read, 5 more calls).
        for mode, budget in (("off", 2.0), ("annotate", None)):
            change["ruleParameters"] = json.dumps({**parameters, "ExposureMode": mode})
            done = len(emulator.get("runtime-stats")["timings"])
            for _ in range(50):
                answer = emulator.control("invoke", {"event": change})
                assert answer["outcome"] == "response", answer
            timings = emulator.get("runtime-stats")["timings"][done + 5:]
            own = statistics.median([(t["elapsed"] - t["aws"]) * 1000 for t in timings])
            label = f"warm change invocation, ExposureMode={mode}, function's own time (median of 45, first 5 left out)"
            if budget is None:
                report(label, own, "ms", "(reported)", True)
            else:
                report(label, own, "ms", f"< {budget:g} ms", own < budget)
        rss = peak_rss_mb(process.pid)
        report("peak RSS, change events", rss, "MB", "< 30 MB", rss < 30)
        process.kill()
    finally:
        emulator.stop()

    # A sweep of many groups.
    emulator = Emulator()
    try:
        ec2 = emulator.ec2()
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        pl = ec2.create_managed_prefix_list(PrefixListName="internet", MaxEntries=5, AddressFamily="IPv4", Entries=[{"Cidr": "0.0.0.0/0"}])["PrefixList"]["PrefixListId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        print(f"creating {groups} security groups in the emulator…", flush=True)
        for i in range(groups):
            group = ec2.create_security_group(GroupName=f"g{i}", Description="bench", VpcId=vpc)["GroupId"]
            if i % 10 == 1:
                ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[{"IpProtocol": "-1", "PrefixListIds": [{"PrefixListId": pl}]}])
            if i % 100 == 0:
                ec2.create_network_interface(SubnetId=subnet, Groups=[group])
        total = len(ec2.describe_security_groups()["SecurityGroups"])
        token = emulator.control("result-token", {"ruleName": "sg-egress-rule"})["resultToken"]
        process, _ = start_function(emulator, bootstrap)
        event = lambda_event({"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-20T12:00:00.000Z"}, token, {"IgnoreUnusedGroups": "true"})
        before_calls = emulator.get("calls")
        time.sleep(0.2)
        cpu_before = cpu_seconds(process.pid)
        answer = emulator.control("invoke", {"event": event, "timeoutSeconds": 900})
        assert answer["outcome"] == "response", answer
        cpu = cpu_seconds(process.pid) - cpu_before
        rss = peak_rss_mb(process.pid)
        calls = emulator.get("calls")
        delta = {k: v - before_calls.get(k, 0) for k, v in calls.items() if isinstance(v, int)}
        report(f"peak RSS, sweep of {total:,} groups", rss, "MB", "< 64 MB", rss < 64)
        report(f"function CPU time, sweep of {total:,} groups", cpu, "s", "< 1 s", cpu < 1)
        pages = -(-total // 1000)
        batches = -(-total // 100)
        minimum = {"DescribeSecurityGroups": pages, "DescribeNetworkInterfaces": 1, "GetManagedPrefixListEntries": 1, "PutEvaluations": batches, "GetComplianceDetailsByConfigRule": 1}
        for op, expected in minimum.items():
            report(f"sweep API calls: {op}", delta.get(op, 0), "calls", f"= {expected} (the minimum)", delta.get(op, 0) == expected)
        stored = emulator.get("evaluations?rule=sg-egress-rule")["evaluations"]
        report("sweep evaluations stored", len(stored), "evaluations", f"= {total}", len(stored) == total)
        process.kill()
    finally:
        emulator.stop()


def zip_size(bootstrap):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(bootstrap, "bootstrap")
    size = len(buffer.getvalue()) / 1e6
    report("deployment zip (x86_64)", size, "MB", "< 8 MB", size < 8)
    report("bootstrap binary", os.path.getsize(bootstrap) / 1e6, "MB", "(reported)", True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-bench", action="store_true", help="reuse the last criterion results")
    parser.add_argument("--groups", type=int, default=10000)
    args = parser.parse_args()
    bootstrap = os.environ.get("SG_EGRESS_BOOTSTRAP", os.path.join(TARGET, "lambda", "sg-egress-rule", "bootstrap"))
    micro_benchmarks(args.skip_bench)
    if not os.path.exists(bootstrap):
        sys.exit(f"no release bootstrap at {bootstrap}: cargo lambda build --release --x86-64 --bin sg-egress-rule")
    zip_size(bootstrap)
    function_measurements(bootstrap, args.groups)
    failed = [r for r in RESULTS if not r[4]]
    print(f"\n{len(RESULTS) - len(failed)} within budget, {len(failed)} over")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
