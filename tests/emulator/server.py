#!/usr/bin/env python3
"""AWS emulator for the end-to-end tests, on 127.0.0.1 only.

One threaded HTTP server that routes each request to:
- moto (EC2, STS, ...), with DescribeSecurityGroups and DescribeNetworkInterfaces
  paginated as AWS does (moto returns one page whatever MaxResults says);
- the AWS Config operations moto lacks or stubs, validated against botocore's
  service model: PutEvaluations, GetComplianceDetailsByConfigRule, and
  GetResourceConfigHistory for security groups (built from moto's EC2 state);
- a Lambda Runtime API (/2018-06-01/runtime/...), so the real function binary
  can be run against it;
- control endpoints under /_emulator/ for the tests: issue result tokens,
  invoke the function, read back what Config received, count calls by
  operation, inject faults (throttling, 500s, partial FailedEvaluations, delay).

Usage: server.py [--port 0]; prints "PORT <n>" when ready.
"""

import argparse
import io
import json
import random
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

import boto3
import botocore.session
from botocore.validate import ParamValidator
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PAGINATED_EC2 = {
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeNetworkInterfaces": "networkInterfaceSet",
}
CONFIG_MODEL = botocore.session.get_session().get_service_model("config")


def json_response(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/x-amz-json-1.1")


def config_error(code, message, status=400):
    return json_response({"__type": code, "message": message}, status)


def ec2_error(code, message, status):
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    return Response(body, status=status, content_type="text/xml")


def model_errors(shape, value, path="", errors=None):
    """Constraints botocore's ParamValidator leaves to the service: max lengths and enums."""
    errors = [] if errors is None else errors
    if value is None:
        return errors
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            model_errors(member, value.get(name), f"{path}.{name}" if path else name, errors)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value):
            model_errors(shape.member, item, f"{path}[{i}]", errors)
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            errors.append(f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum value set: {shape.enum}")
    return errors


def validate(operation, params):
    shape = CONFIG_MODEL.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    problems += model_errors(shape, params)
    return "; ".join(problems)


def epoch(value):
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class Emulator:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Condition()
        self.port = None
        self.reset()

    def reset(self):
        with self.lock:
            self.tokens = {}  # result token -> rule name
            self.evaluations = {}  # rule name -> {(type, id): evaluation}
            self.put_calls = []  # every PutEvaluations request accepted
            self.calls = {}  # operation -> count
            self.faults = []
            self.random = random.Random(7)
            self.page_sizes = {}
            self.pending = []  # invocations waiting for the function
            self.results = {}  # request id -> (kind, body)
            self.deadlines = {}
            self.aws_time = 0.0  # seconds spent answering AWS calls
            self.first_next_at = None  # when the function first asked for work
            self.timings = []  # per invocation: (delivered, responded, AWS time in between)
            self.delivered = {}  # request id -> (time the event was handed over, AWS time then)

    # ---- routing ---------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/2018-06-01/runtime/"):
            return self.runtime(request)(environ, start_response)
        if path.startswith("/_emulator/"):
            return self.control(request)(environ, start_response)
        started = time.time()
        try:
            response = self.aws(request, environ)
            if response is None:
                return list(self.moto(environ, start_response))
            return response(environ, start_response)
        finally:
            with self.lock:
                self.aws_time += time.time() - started

    def aws(self, request, environ):
        body = request.get_data()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith("StarlingDoveService."):
            operation = target.split(".", 1)[1]
            self.count(operation)
            fault = self.fault_for(operation)
            if fault in ("throttle", "error"):
                return self.fault_response(fault, json_protocol=True)
            params = json.loads(body or b"{}")
            handler = getattr(self, "config_" + operation, None)
            if handler is None:
                return config_error("UnknownOperationException", f"{operation} is not emulated")
            problems = validate(operation, params)
            if problems:
                return config_error("ValidationException", problems)
            return handler(params, fault)
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        action = (form.get("Action") or request.args.getlist("Action") or [""])[0]
        if action:
            self.count(action)
            fault = self.fault_for(action)
            if fault in ("throttle", "error"):
                return self.fault_response(fault, json_protocol=False)
            if action in PAGINATED_EC2 and "MaxResults" in form:
                return self.paginate_ec2(action, form, environ)
        return None

    def count(self, operation):
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1

    # ---- faults ----------------------------------------------------------
    def fault_for(self, operation):
        with self.lock:
            for rule in self.faults:
                if rule["operation"] != operation or rule.get("times", 1) <= 0:
                    continue
                if rule["kind"] == "slow":
                    delay = rule.get("delay", 0.1)
                    break
                if self.random.random() < rule.get("rate", 1.0):
                    if "times" in rule:
                        rule["times"] -= 1
                    return rule["kind"]
            else:
                return None
        time.sleep(delay)
        return None

    def fault_response(self, kind, json_protocol):
        if kind == "throttle":
            if json_protocol:
                return config_error("ThrottlingException", "Rate exceeded")
            return ec2_error("RequestLimitExceeded", "Request limit exceeded.", 503)
        if json_protocol:
            return config_error("InternalFailure", "injected internal error", 500)
        return ec2_error("InternalError", "An internal error has occurred", 500)

    # ---- EC2 pagination --------------------------------------------------
    def paginate_ec2(self, action, form, environ):
        max_results = int(form["MaxResults"][0])
        page_size = min(max_results, self.page_sizes.get(action, max_results))
        start = int(form.get("NextToken", ["0"])[0])
        rest = {k: v for k, v in form.items() if k not in ("MaxResults", "NextToken")}
        body = urlencode(rest, doseq=True).encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers

        raw = b"".join(self.moto(environ, start_response))
        if not captured["status"].startswith("200"):
            return Response(raw, status=int(captured["status"].split()[0]), content_type="text/xml")
        root = ET.fromstring(raw)
        namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        ET.register_namespace("", namespace)
        container = root.find(f"{{{namespace}}}{PAGINATED_EC2[action]}")
        if container is None:
            raise RuntimeError(f"{action}: no {PAGINATED_EC2[action]} in moto's response")
        items = list(container)
        for item in items:
            container.remove(item)
        for item in items[start : start + page_size]:
            container.append(item)
        if start + page_size < len(items):
            token = ET.SubElement(root, f"{{{namespace}}}nextToken")
            token.text = str(start + page_size)
        return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), content_type="text/xml")

    # ---- AWS Config ------------------------------------------------------
    def config_PutEvaluations(self, params, fault):
        evaluations = params.get("Evaluations", [])
        test_mode = bool(params.get("TestMode", False))
        for e in evaluations:
            if e.get("ComplianceType") == "INSUFFICIENT_DATA":
                return config_error("InvalidParameterValueException", "The INSUFFICIENT_DATA compliance type is not supported by PutEvaluations.")
            annotation = e.get("Annotation")
            if annotation is not None and not 1 <= len(annotation) <= 256:
                return config_error("ValidationException", "Annotation must be 1 to 256 characters.")
        with self.lock:
            rule = self.tokens.get(params["ResultToken"])
            if rule is None and not test_mode:
                return config_error("InvalidResultTokenException", "The result token is invalid.")
            failed = []
            if fault == "failed_evaluations":
                keep = []
                for e in evaluations:
                    (failed if self.random.random() < 0.5 else keep).append(e)
                if not failed and evaluations:
                    failed, keep = keep[:1], keep[1:]
                evaluations = keep
            self.put_calls.append({"rule": rule, "testMode": test_mode, "evaluations": evaluations, "failed": len(failed)})
            if not test_mode:
                stored = self.evaluations.setdefault(rule, {})
                now = time.time()
                for e in evaluations:
                    key = (e["ComplianceResourceType"], e["ComplianceResourceId"])
                    previous = stored.get(key)
                    if previous is None or epoch(e["OrderingTimestamp"]) >= epoch(previous["OrderingTimestamp"]):
                        stored[key] = dict(e, ResultRecordedTime=now)
        return json_response({"FailedEvaluations": failed})

    def config_GetComplianceDetailsByConfigRule(self, params, fault):
        rule = params["ConfigRuleName"]
        wanted = set(params.get("ComplianceTypes") or ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"])
        limit = params.get("Limit") or 100
        with self.lock:
            rows = sorted(self.evaluations.get(rule, {}).values(), key=lambda e: e["ComplianceResourceId"])
        rows = [e for e in rows if e["ComplianceType"] in wanted]
        start = int(params.get("NextToken") or 0)
        page = rows[start : start + limit]
        results = [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": rule,
                        "ResourceType": e["ComplianceResourceType"],
                        "ResourceId": e["ComplianceResourceId"],
                        "EvaluationMode": "DETECTIVE",
                    },
                    "OrderingTimestamp": epoch(e["OrderingTimestamp"]),
                },
                "ComplianceType": e["ComplianceType"],
                "ResultRecordedTime": e["ResultRecordedTime"],
                "ConfigRuleInvokedTime": e["ResultRecordedTime"],
                **({"Annotation": e["Annotation"]} if "Annotation" in e else {}),
            }
            for e in page
        ]
        body = {"EvaluationResults": results}
        if start + limit < len(rows):
            body["NextToken"] = str(start + limit)
        return json_response(body)

    def ec2_client(self):
        return boto3.client(
            "ec2",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def config_GetResourceConfigHistory(self, params, fault):
        if params["resourceType"] != "AWS::EC2::SecurityGroup":
            return config_error("ResourceNotDiscoveredException", f"{params['resourceType']} is not emulated")
        return json_response({"configurationItems": [self.configuration_item(params["resourceId"], "api")]})

    def configuration_item(self, group_id, form):
        """The group's configuration item as Config would record it now, in the
        API form (GetResourceConfigHistory) or the event form (notifications)."""
        ec2 = self.ec2_client()
        now = time.time()
        captured = now if form == "api" else datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        except Exception:  # the group is gone: Config's last item says so
            return {"resourceType": "AWS::EC2::SecurityGroup", "resourceId": group_id, "configurationItemStatus": "ResourceDeleted",
                    "configurationItemCaptureTime": captured, "relationships": [], "tags": {}, "configuration": None}
        interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group_id]}])["NetworkInterfaces"]
        related = [("AWS::EC2::NetworkInterface", i["NetworkInterfaceId"], "Is associated with NetworkInterface") for i in interfaces]
        if group.get("VpcId"):
            related.append(("AWS::EC2::VPC", group["VpcId"], "Is contained in Vpc"))
        name_key = "relationshipName" if form == "api" else "name"
        account = group.get("OwnerId", "123456789012")
        configuration = camel_configuration(group)
        return {
            ("version" if form == "api" else "configurationItemVersion"): "1.3",
            ("accountId" if form == "api" else "awsAccountId"): account,
            "configurationItemCaptureTime": captured,
            "configurationItemStatus": "OK",
            "configurationStateId": str(int(now * 1000)),
            ("arn" if form == "api" else "ARN"): f"arn:aws:ec2:us-east-1:{account}:security-group/{group_id}",
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": group_id,
            "resourceName": group.get("GroupName"),
            "awsRegion": "us-east-1",
            "availabilityZone": "Not Applicable",
            "tags": {t["Key"]: t["Value"] for t in group.get("Tags", [])},
            "relatedEvents": [],
            "relationships": [{"resourceType": t, "resourceId": i, name_key: n} for t, i, n in related],
            "configuration": json.dumps(configuration) if form == "api" else configuration,
            "supplementaryConfiguration": {},
        }

    # ---- Lambda Runtime API ----------------------------------------------
    def runtime(self, request):
        parts = request.path.split("/")[3:]  # after /2018-06-01/runtime/
        if parts == ["invocation", "next"]:
            with self.lock:
                if self.first_next_at is None:
                    self.first_next_at = time.time()
                while not self.pending:
                    self.lock.wait()
                request_id, event, deadline = self.pending.pop(0)
                self.delivered[request_id] = (time.time(), self.aws_time)
            headers = {
                "Lambda-Runtime-Aws-Request-Id": request_id,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:sg-egress-rule",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            }
            return Response(event, headers=headers, content_type="application/json")
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            with self.lock:
                self.results[parts[1]] = (parts[2], request.get_data(as_text=True))
                if parts[1] in self.delivered:
                    at, aws_before = self.delivered.pop(parts[1])
                    self.timings.append({"elapsed": time.time() - at, "aws": self.aws_time - aws_before})
                self.lock.notify_all()
            return Response(json.dumps({"status": "OK"}), status=202, content_type="application/json")
        if parts == ["init", "error"]:
            with self.lock:
                self.results["init"] = ("init-error", request.get_data(as_text=True))
                self.lock.notify_all()
            return Response(json.dumps({"status": "OK"}), status=202, content_type="application/json")
        return Response("not found", status=404)

    # ---- control ---------------------------------------------------------
    def control(self, request):
        name = request.path[len("/_emulator/"):]
        body = request.get_json(silent=True) or {}
        if name == "reset":
            self.reset()
            return json_response({})
        if name == "result-token":
            token = str(uuid.uuid4())
            with self.lock:
                self.tokens[token] = body["ruleName"]
            return json_response({"resultToken": token})
        if name == "invoke":
            request_id = str(uuid.uuid4())
            timeout = float(body.get("timeoutSeconds", 120))
            deadline = int((time.time() + float(body.get("deadlineSeconds", 300))) * 1000)
            with self.lock:
                self.pending.append((request_id, json.dumps(body["event"]), deadline))
                self.lock.notify_all()
                end = time.time() + timeout
                while request_id not in self.results and "init" not in self.results and time.time() < end:
                    self.lock.wait(timeout=max(0.0, end - time.time()))
                outcome = self.results.pop(request_id, None) or self.results.get("init")
            if outcome is None:
                return json_response({"outcome": "timeout"})
            return json_response({"outcome": outcome[0], "body": outcome[1]})
        if name == "evaluations":
            rule = request.args.get("rule")
            with self.lock:
                rows = list(self.evaluations.get(rule, {}).values())
            return json_response({"evaluations": rows})
        if name == "put-calls":
            with self.lock:
                return json_response({"calls": self.put_calls})
        if name == "calls":
            with self.lock:
                return json_response(dict(self.calls))
        if name == "faults":
            with self.lock:
                self.faults = body.get("rules", [])
                self.random = random.Random(body.get("seed", 7))
            return json_response({})
        if name == "page-size":
            with self.lock:
                self.page_sizes.update(body)
            return json_response({})
        if name == "runtime-stats":
            with self.lock:
                return json_response({"firstNextAt": self.first_next_at, "timings": self.timings})
        if name == "config-item":
            return json_response(self.configuration_item(body["groupId"], body.get("form", "event")))
        if name == "seed-evaluations":
            with self.lock:
                stored = self.evaluations.setdefault(body["rule"], {})
                for e in body["evaluations"]:
                    stored[(e["ComplianceResourceType"], e["ComplianceResourceId"])] = dict(e, ResultRecordedTime=time.time())
            return json_response({})
        return Response("unknown control endpoint", status=404)


def camel_configuration(group):
    """A DescribeSecurityGroups group in the camelCase form Config records."""

    def permission(p):
        v4 = [r["CidrIp"] for r in p.get("IpRanges", [])]
        return {
            "ipProtocol": p.get("IpProtocol"),
            "fromPort": p.get("FromPort"),
            "toPort": p.get("ToPort"),
            "ipv4Ranges": [{"cidrIp": c} for c in v4],
            "ipRanges": v4,
            "ipv6Ranges": [{"cidrIpv6": r["CidrIpv6"]} for r in p.get("Ipv6Ranges", [])],
            "prefixListIds": [{"prefixListId": r["PrefixListId"]} for r in p.get("PrefixListIds", [])],
            "userIdGroupPairs": [{"groupId": r.get("GroupId"), "userId": r.get("UserId")} for r in p.get("UserIdGroupPairs", [])],
        }

    return {
        "groupId": group["GroupId"],
        "groupName": group.get("GroupName"),
        "description": group.get("Description"),
        "ownerId": group.get("OwnerId"),
        "vpcId": group.get("VpcId"),
        "ipPermissions": [permission(p) for p in group.get("IpPermissions", [])],
        "ipPermissionsEgress": [permission(p) for p in group.get("IpPermissionsEgress", [])],
        "tags": [{"key": t["Key"], "value": t["Value"]} for t in group.get("Tags", [])],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    emulator = Emulator()
    server = make_server("127.0.0.1", args.port, emulator, threaded=True)
    emulator.port = server.server_address[1]
    print(f"PORT {emulator.port}", flush=True)
    # Exit when the test that started us goes away (it holds our stdin).
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
