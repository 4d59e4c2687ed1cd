#!/usr/bin/env python3
"""The same check written the way an AWS RDK rule template usually is (json,
string comparisons of each permission), for the side-by-side in BENCHMARKS.md.
It is the straightforward alternative, not a reference: it matches CIDRs as
strings and judges each permission alone.

Usage: rdk_style_rule.py FILE...   (each a Config item, or a JSON list of items)
Prints one line per item: resource id and verdict.
"""

import json
import sys

OPEN_V4 = "0.0.0.0/0"
OPEN_V6 = "::/0"


def evaluate_compliance(configuration_item):
    if configuration_item["configurationItemStatus"] in ("ResourceDeleted", "ResourceNotRecorded", "ResourceDeletedNotRecorded"):
        return "NOT_APPLICABLE"
    if configuration_item["resourceType"] != "AWS::EC2::SecurityGroup":
        return "NOT_APPLICABLE"
    configuration = configuration_item["configuration"]
    if isinstance(configuration, str):
        configuration = json.loads(configuration)
    for permission in configuration.get("ipPermissionsEgress") or []:
        v4 = [r["cidrIp"] for r in permission.get("ipv4Ranges") or []] + list(permission.get("ipRanges") or [])
        v6 = [r["cidrIpv6"] for r in permission.get("ipv6Ranges") or []]
        anywhere = OPEN_V4 in v4 or OPEN_V6 in v6
        if not anywhere:
            continue
        protocol = str(permission.get("ipProtocol"))
        if protocol == "-1":
            return "NON_COMPLIANT"
        if protocol in ("tcp", "udp") and permission.get("fromPort") == 0 and permission.get("toPort") == 65535:
            return "NON_COMPLIANT"
    return "COMPLIANT"


def main():
    for path in sys.argv[1:]:
        with open(path) as f:
            data = json.load(f)
        for item in data if isinstance(data, list) else [data]:
            print(item["resourceId"], evaluate_compliance(item))


if __name__ == "__main__":
    main()
