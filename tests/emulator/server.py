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

It is meant to be no kinder than AWS (each choice below follows AWS's
documentation; where AWS does not say, the less favourable behaviour):
- several accounts: moto routes each request by its credentials, and the
  Config operations here do too; a result token belongs to one account and
  PutEvaluations with another account's credentials is rejected;
- AssumeRole succeeds only for roles a test declared assumable, and records
  the RoleArn of every call;
- configuration items carry relationships to network interfaces and
  instances only when a test says those types are recorded (Config records
  them only then, and has been removing indirect relationships);
- GetResourceConfigHistory serves a recorded history, newest first, honours
  `limit`, `chronologicalOrder` and `nextToken`, can answer an empty first
  page with a token, and answers a group EC2 no longer has as deleted only
  when EC2 says it is not found (any other error is an error);
- annotations are counted in UTF-16 code units, as AWS counts them;
- a group shared from another account appears in DescribeSecurityGroups with
  that account's OwnerId; actions can be denied (UnauthorizedOperation, also
  for dry runs); reads after a revocation can be stale (eventual consistency).

Usage: server.py [--port 0]; prints "PORT <n>" when ready.
"""

import argparse
import io
import json
import random
import re
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from moto.ec2.models import ec2_backends
from moto.iam.models import get_account_id_from
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PAGINATED_EC2 = {
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeNetworkInterfaces": "networkInterfaceSet",
}
# EC2 actions that change state: any of them makes cached pages stale.
EC2_READ_PREFIXES = ("Describe", "Get")
CONFIG_MODEL = botocore.session.get_session().get_service_model("config")
DEFAULT_ACCOUNT = "123456789012"
REGION = "us-east-1"
# The role the tests themselves assume to set up other accounts' resources.
HARNESS_ROLE = "emulator-harness"
ACCESS_KEY = re.compile(r"Credential=([A-Za-z0-9]+)/")
SIGNED_REGION = re.compile(r"Credential=[^/]+/[^/]+/([^/]+)/")
# The emulator's own reads (to build Config's items) carry this header: they
# are neither counted nor faulted.
INTERNAL = "x-emulator-internal"


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


def sts_error(code, message, status):
    body = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return Response(body, status=status, content_type="text/xml")


def utf16_units(text):
    return len(text.encode("utf-16-le")) // 2


def model_errors(shape, value, path="", errors=None):
    """Constraints botocore's ParamValidator leaves to the service: lengths and enums.
    String lengths are counted in UTF-16 code units, as AWS counts them."""
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
        if "max" in meta and utf16_units(value) > meta["max"]:
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
        if "min" in meta and utf16_units(value) < meta["min"]:
            errors.append(f"Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}")
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


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Emulator:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Condition()
        self.port = None
        self.reset()

    def reset(self):
        with self.lock:
            self.tokens = {}  # result token -> (rule name, account)
            self.evaluations = {}  # (account, rule name) -> {(type, id): evaluation}
            self.put_calls = []  # every PutEvaluations request accepted
            self.calls = {}  # operation -> count
            self.calls_by_account = {}  # (operation, account) -> count
            self.faulted = {}  # operation -> calls answered with an injected fault
            self.call_log = []  # operations in the order they arrived
            self.config_requests = []  # (operation, parameters) of Config calls but PutEvaluations
            self.in_flight = {}  # operation -> calls being answered now
            self.max_in_flight = {}  # operation -> most calls answered at once
            self.assume_role_calls = []  # RoleArn of every AssumeRole call
            self.assumable = set()  # role ARNs AssumeRole may assume
            self.config_rules = {}  # (account, rule name) -> InputParameters text
            self.aggregators = {}  # (account, name) -> [(source account, source region)]
            self.aggregator_rows = {}  # (account, name) -> [row text]
            self.recorded_related_types = set()  # related types Config records
            self.histories = {}  # (account, group id) -> [item, ...], oldest first
            self.empty_first_pages = set()  # (account, group id) answered first with an empty page
            self.shared_groups = {}  # account -> [(owner account, group id)]
            self.denied = []  # [{"action", "id"?}] answered UnauthorizedOperation
            self.stale_reads = 0  # reads after a revocation that still show the old rules
            self.stale_left = {}  # group id -> reads left that show the old state
            self.last_reads = {}  # (action, group id) -> last response body
            self.page_cache = {}  # (account, action, request) -> rendered elements
            self.faults = []
            self.random = random.Random(7)
            self.page_sizes = {}
            self.pending = []  # invocations waiting for the function
            self.results = {}  # request id -> (kind, body)
            self.aws_time = 0.0  # seconds spent answering AWS calls
            self.first_next_at = None  # when the function first asked for work
            self.timings = []  # per invocation: (delivered, responded, AWS time in between)
            self.payloads = {}  # payload id -> (HTTP status, body bytes, delay seconds)
            self.payload_gets = []  # payload ids fetched, in order
            self.delivered = {}  # request id -> (time the event was handed over, AWS time then)

    # ---- routing ---------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/2018-06-01/runtime/"):
            return self.runtime(request)(environ, start_response)
        if path.startswith("/_emulator/"):
            return self.control(request)(environ, start_response)
        if path.startswith("/_payload/"):
            return self.payload(request)(environ, start_response)
        started = time.time()
        try:
            response = self.aws(request, environ)
            if response is None:
                return list(self.moto(environ, start_response))
            return response(environ, start_response)
        finally:
            with self.lock:
                self.aws_time += time.time() - started

    def caller_account(self, request):
        match = ACCESS_KEY.search(request.headers.get("Authorization", ""))
        return get_account_id_from(match.group(1)) if match else DEFAULT_ACCOUNT

    def aws(self, request, environ):
        body = request.get_data()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        account = self.caller_account(request)
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith("StarlingDoveService."):
            operation = target.split(".", 1)[1]
            self.count(operation, account)
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
            with self.lock:
                if operation != "PutEvaluations":
                    self.config_requests.append([operation, params])
                self.in_flight[operation] = self.in_flight.get(operation, 0) + 1
                self.max_in_flight[operation] = max(self.max_in_flight.get(operation, 0), self.in_flight[operation])
            try:
                if fault == "slow_inside":
                    time.sleep(0.3)
                return handler(params, fault, account)
            finally:
                with self.lock:
                    self.in_flight[operation] -= 1
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        action = (form.get("Action") or request.args.getlist("Action") or [""])[0]
        if not action or request.headers.get(INTERNAL):
            return None
        self.count(action, account)
        fault = self.fault_for(action)
        if fault in ("throttle", "error"):
            return self.fault_response(fault, json_protocol=False)
        if action == "AssumeRole":
            return self.assume_role(form)
        if self.is_denied(action, form):
            return ec2_error("UnauthorizedOperation", f"You are not authorized to perform this operation. ({action})", 403)
        if not action.startswith(EC2_READ_PREFIXES):
            with self.lock:
                self.page_cache.clear()
        if action in PAGINATED_EC2 and "MaxResults" in form:
            region = SIGNED_REGION.search(request.headers.get("Authorization", ""))
            return self.paginate_ec2(action, form, environ, account, region.group(1) if region else REGION)
        if action in ("DescribeSecurityGroups", "DescribeSecurityGroupRules"):
            return self.maybe_stale_read(action, form, environ)
        if action == "RevokeSecurityGroupEgress" and form.get("DryRun", ["false"])[0] != "true":
            return self.revoke(form, environ)
        return None

    def is_denied(self, action, form):
        """A denial names an action, and optionally the one resource id it
        applies to (e.g. one prefix list)."""
        with self.lock:
            for denial in self.denied:
                if denial["action"] != action:
                    continue
                target = denial.get("id")
                if target is None or any(target in values for values in form.values()):
                    return True
        return False

    def count(self, operation, account):
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            self.call_log.append(operation)
            key = f"{operation}@{account}"
            self.calls_by_account[key] = self.calls_by_account.get(key, 0) + 1

    def call_moto(self, environ, body=None, account=None):
        """Calls moto in-process; returns (status code, body bytes)."""
        environ = dict(environ)
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        if account is not None:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = status

        raw = b"".join(self.moto(environ, start_response))
        return int(captured["status"].split()[0]), raw

    # ---- STS -------------------------------------------------------------
    def assume_role(self, form):
        arn = form.get("RoleArn", [""])[0]
        with self.lock:
            self.assume_role_calls.append(arn)
            allowed = arn in self.assumable or arn.endswith(f":role/{HARNESS_ROLE}")
        if not allowed:
            return sts_error("AccessDenied", f"User is not authorized to perform: sts:AssumeRole on resource: {arn}", 403)
        return None

    # ---- faults ----------------------------------------------------------
    def fault_for(self, operation):
        with self.lock:
            for rule in self.faults:
                if rule["operation"] not in (operation, "*") or rule.get("times", 1) <= 0:
                    continue
                if rule["kind"] == "slow":
                    delay = rule.get("delay", 0.1)
                    break
                if self.random.random() < rule.get("rate", 1.0):
                    if "times" in rule:
                        rule["times"] -= 1
                    if rule["kind"] in ("throttle", "error"):
                        self.faulted[operation] = self.faulted.get(operation, 0) + 1
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

    # ---- EC2 -------------------------------------------------------------
    def paginate_ec2(self, action, form, environ, account, region):
        max_results = int(form["MaxResults"][0])
        page_size = min(max_results, self.page_sizes.get(action, max_results))
        start = int(form.get("NextToken", ["0"])[0])
        rest = {k: v for k, v in form.items() if k not in ("MaxResults", "NextToken")}
        key = (account, region, action, urlencode(sorted(rest.items()), doseq=True))
        with self.lock:
            cached = self.page_cache.get(key)
        if cached is None:
            status, raw = self.call_moto(environ, urlencode(rest, doseq=True).encode())
            if status != 200:
                return Response(raw, status=status, content_type="text/xml")
            root = ET.fromstring(raw)
            namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
            container = root.find(f"{{{namespace}}}{PAGINATED_EC2[action]}")
            if container is None:
                raise RuntimeError(f"{action}: no {PAGINATED_EC2[action]} in moto's response")
            items = list(container)
            for item in items:
                container.remove(item)
            if action == "DescribeSecurityGroups":
                items += self.shared_group_elements(account, environ, namespace)
            cached = (root, container, namespace, items)
            with self.lock:
                self.page_cache[key] = cached
        root, container, namespace, items = cached
        with self.lock:
            ET.register_namespace("", namespace)
            for item in list(container):
                container.remove(item)
            for item in items[start : start + page_size]:
                container.append(item)
            for token in root.findall(f"{{{namespace}}}nextToken"):
                root.remove(token)
            if start + page_size < len(items):
                token = ET.SubElement(root, f"{{{namespace}}}nextToken")
                token.text = str(start + page_size)
            text = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return Response(text, content_type="text/xml")

    def shared_group_elements(self, account, environ, namespace):
        """Groups other accounts share with `account` (a shared VPC's), as
        DescribeSecurityGroups lists them: with their owner's OwnerId."""
        elements = []
        for owner, group_id in self.shared_groups.get(account, []):
            body = urlencode({"Action": "DescribeSecurityGroups", "Version": "2016-11-15", "GroupId.1": group_id}).encode()
            status, raw = self.call_moto(environ, body, account=owner)
            if status == 200:
                container = ET.fromstring(raw).find(f"{{{namespace}}}securityGroupInfo")
                elements += list(container)
        return elements

    def group_of(self, form):
        for key in ("GroupId", "GroupId.1"):
            if key in form:
                return form[key][0]
        for key, values in form.items():
            if key.startswith("Filter.") and key.endswith(".Value.1"):
                name = form.get(key.replace(".Value.1", ".Name"), [""])[0]
                if name == "group-id":
                    return values[0]
        return None

    def maybe_stale_read(self, action, form, environ):
        group = self.group_of(form)
        status, raw = self.call_moto(environ)
        with self.lock:
            if group and self.stale_left.get((action, group), 0) > 0 and (action, group) in self.last_reads:
                self.stale_left[(action, group)] -= 1
                return Response(self.last_reads[(action, group)], content_type="text/xml")
            if group and status == 200:
                self.last_reads[(action, group)] = raw
        return Response(raw, status=status, content_type="text/xml")

    def revoke(self, form, environ):
        status, raw = self.call_moto(environ)
        group = self.group_of(form)
        if status == 200 and group:
            with self.lock:
                for action in ("DescribeSecurityGroups", "DescribeSecurityGroupRules"):
                    self.stale_left[(action, group)] = self.stale_reads
        return Response(raw, status=status, content_type="text/xml")

    def ec2_client(self, account=DEFAULT_ACCOUNT, region=REGION):
        client = boto3.client(
            "ec2",
            region_name=region,
            endpoint_url=f"http://127.0.0.1:{self.port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

        def add_account(request, **kwargs):
            request.headers["x-moto-account-id"] = account
            request.headers[INTERNAL] = "1"

        client.meta.events.register("before-sign.ec2.*", add_account)
        return client

    # ---- AWS Config ------------------------------------------------------
    def config_PutEvaluations(self, params, fault, account):
        evaluations = params.get("Evaluations", [])
        test_mode = bool(params.get("TestMode", False))
        for e in evaluations:
            if e.get("ComplianceType") == "INSUFFICIENT_DATA":
                return config_error("InvalidParameterValueException", "The INSUFFICIENT_DATA compliance type is not supported by PutEvaluations.")
            annotation = e.get("Annotation")
            if annotation is not None and not 1 <= utf16_units(annotation) <= 256:
                return config_error("ValidationException", "Annotation must be 1 to 256 characters.")
        with self.lock:
            rule, token_account = self.tokens.get(params["ResultToken"], (None, None))
            if not test_mode and (rule is None or token_account != account):
                return config_error("InvalidResultTokenException", "The result token is invalid.")
            failed = []
            if fault == "failed_evaluations":
                keep = []
                for e in evaluations:
                    (failed if self.random.random() < 0.5 else keep).append(e)
                if not failed and evaluations:
                    failed, keep = keep[:1], keep[1:]
                evaluations = keep
            self.put_calls.append({"rule": rule, "account": account, "testMode": test_mode, "evaluations": evaluations, "failed": len(failed)})
            if not test_mode:
                stored = self.evaluations.setdefault((account, rule), {})
                now = time.time()
                for e in evaluations:
                    key = (e["ComplianceResourceType"], e["ComplianceResourceId"])
                    previous = stored.get(key)
                    if previous is None or epoch(e["OrderingTimestamp"]) >= epoch(previous["OrderingTimestamp"]):
                        stored[key] = dict(e, ResultRecordedTime=now)
        return json_response({"FailedEvaluations": failed})

    def config_GetComplianceDetailsByConfigRule(self, params, fault, account):
        rule = params["ConfigRuleName"]
        wanted = set(params.get("ComplianceTypes") or ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"])
        limit = params.get("Limit") or 10
        with self.lock:
            rows = sorted(self.evaluations.get((account, rule), {}).values(), key=lambda e: e["ComplianceResourceId"])
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

    def config_DescribeConfigRules(self, params, fault, account):
        names = params.get("ConfigRuleNames") or []
        with self.lock:
            rules = {name: p for (a, name), p in self.config_rules.items() if a == account}
        missing = [n for n in names if n not in rules]
        if missing:
            return config_error("NoSuchConfigRuleException", f"The ConfigRule '{missing[0]}' provided in the request is invalid. Please check the configRule name.")
        chosen = names or sorted(rules)
        return json_response({
            "ConfigRules": [
                {
                    "ConfigRuleName": name,
                    "ConfigRuleArn": f"arn:aws:config:{REGION}:{account}:config-rule/config-rule-{abs(hash(name)) % 10**6:06d}",
                    "Source": {"Owner": "CUSTOM_LAMBDA", "SourceIdentifier": f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:function:sg-egress-rule"},
                    "ConfigRuleState": "ACTIVE",
                    **({"InputParameters": rules[name]} if rules[name] is not None else {}),
                }
                for name in chosen
            ]
        })

    def config_GetResourceConfigHistory(self, params, fault, account):
        if params["resourceType"] != "AWS::EC2::SecurityGroup":
            return config_error("ResourceNotDiscoveredException", f"{params['resourceType']} is not emulated")
        group_id = params["resourceId"]
        try:
            history = self.history(account, group_id)
        except LookupError:
            return config_error("ResourceNotDiscoveredException", f"Resource {group_id} of resourceType:AWS::EC2::SecurityGroup is unknown or has not been discovered")
        items = [api_form(item) for item in history]
        if params.get("chronologicalOrder") != "Forward":
            items.reverse()
        limit = params.get("limit") or 10
        token = params.get("nextToken")
        with self.lock:
            empty_first = (account, group_id) in self.empty_first_pages and token is None
        if empty_first:
            return json_response({"configurationItems": [], "nextToken": "page-0"})
        start = int(token.split("-")[1]) if token else 0
        body = {"configurationItems": items[start : start + limit]}
        if start + limit < len(items):
            body["nextToken"] = f"page-{start + limit}"
        return json_response(body)

    def config_SelectAggregateResourceConfig(self, params, fault, account):
        name = params["ConfigurationAggregatorName"]
        with self.lock:
            sources = self.aggregators.get((account, name))
            extra_rows = list(self.aggregator_rows.get((account, name), []))
        if sources is None:
            return config_error("NoSuchConfigurationAggregatorException", f"The configuration aggregator does not exist. Check the configuration aggregator name and try again. ({name})")
        expression = params["Expression"]
        match = re.fullmatch(r"SELECT (.+) WHERE resourceType = 'AWS::EC2::SecurityGroup'", expression.strip())
        if match is None:
            return config_error("InvalidExpressionException", f"The emulator answers only SELECT … WHERE resourceType = 'AWS::EC2::SecurityGroup', not {expression!r}")
        fields = [f.strip() for f in match.group(1).split(",")]
        rows = []
        for source_account, source_region in sources:
            ec2 = self.ec2_client(source_account, source_region)
            for group in ec2.describe_security_groups()["SecurityGroups"]:
                item = self.configuration_item(group["GroupId"], source_account, source_region)
                if item is None:
                    continue
                item = dict(item, accountId=item["awsAccountId"], tags=[{"key": k, "value": v} for k, v in item["tags"].items()])
                rows.append(json.dumps({f: item[f] for f in fields if f in item}))
        rows.extend(extra_rows)
        page_size = min(params.get("MaxResults") or params.get("Limit") or 100, 100)
        start = int(params.get("NextToken") or 0)
        body = {"Results": rows[start : start + page_size], "QueryInfo": {"SelectFields": [{"Name": f} for f in fields]}}
        if start + page_size < len(rows):
            body["NextToken"] = str(start + page_size)
        return json_response(body)

    def history(self, account, group_id):
        """The group's recorded history, oldest first: what was recorded,
        then the group as EC2 has it now (recorded if it changed), or a
        deleted item when EC2 no longer knows it."""
        current = self.configuration_item(group_id, account=account)
        with self.lock:
            history = self.histories.setdefault((account, group_id), [])
            last = history[-1] if history else None
            if current is None:
                if last is None:
                    raise LookupError(group_id)
                if last["configurationItemStatus"] != "ResourceDeleted":
                    history.append(deleted_item(group_id, account))
            elif last is None or last["configuration"] != current["configuration"] or last["tags"] != current["tags"] or last["relationships"] != current["relationships"]:
                history.append(current)
            return list(history)

    def configuration_item(self, group_id, account=DEFAULT_ACCOUNT, region=REGION):
        """The group's configuration item (event form) as Config would record
        it now, or None when EC2 says the group does not exist."""
        ec2 = self.ec2_client(account, region)
        try:
            group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
        except ClientError as e:
            if e.response["Error"]["Code"] == "InvalidGroup.NotFound":
                return None
            raise
        related = []
        with self.lock:
            recorded = set(self.recorded_related_types)
        if "AWS::EC2::NetworkInterface" in recorded or "AWS::EC2::Instance" in recorded:
            interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group_id]}])["NetworkInterfaces"]
            if "AWS::EC2::NetworkInterface" in recorded:
                related += [("AWS::EC2::NetworkInterface", i["NetworkInterfaceId"], "Is associated with NetworkInterface") for i in interfaces]
            if "AWS::EC2::Instance" in recorded:
                instances = sorted({i["Attachment"]["InstanceId"] for i in interfaces if i.get("Attachment", {}).get("InstanceId")})
                related += [("AWS::EC2::Instance", i, "Is associated with Instance") for i in instances]
        if group.get("VpcId"):
            related.append(("AWS::EC2::VPC", group["VpcId"], "Is contained in Vpc"))
        owner = group.get("OwnerId", account)
        now = time.time()
        return {
            "configurationItemVersion": "1.3",
            "awsAccountId": owner,
            "configurationItemCaptureTime": iso(now),
            "configurationItemStatus": "OK",
            "configurationStateId": str(int(now * 1000)),
            "ARN": f"arn:aws:ec2:{region}:{owner}:security-group/{group_id}",
            "resourceType": "AWS::EC2::SecurityGroup",
            "resourceId": group_id,
            "resourceName": group.get("GroupName"),
            "awsRegion": region,
            "availabilityZone": "Not Applicable",
            "tags": {t["Key"]: t["Value"] for t in group.get("Tags", [])},
            "relatedEvents": [],
            "relationships": [{"resourceType": t, "resourceId": i, "name": n} for t, i, n in related],
            "configuration": camel_configuration(group),
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
                "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:function:sg-egress-rule",
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
    def payload(self, request):
        """A CloudFormation hook's stack payload, as S3 serves a presigned
        URL: the stored body, or the stored failure (403 for an expired
        signature), after the stored delay."""
        payload_id = request.path[len("/_payload/"):]
        with self.lock:
            self.payload_gets.append(payload_id)
            stored = self.payloads.get(payload_id)
        if stored is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", status=404, content_type="application/xml")
        status, body, delay = stored
        if delay:
            time.sleep(delay)
        return Response(body, status=status, content_type="application/json" if status == 200 else "application/xml")

    def control(self, request):
        name = request.path[len("/_emulator/"):]
        body = request.get_json(silent=True) or {}
        account = request.args.get("account") or body.get("account") or DEFAULT_ACCOUNT
        if name == "reset":
            self.reset()
            return json_response({})
        if name == "payload":
            # {"body": text} or {"bodyHex": hex}, "status" (200), "delaySeconds" (0):
            # returns a presigned-looking URL on this server.
            payload_id = str(uuid.uuid4())
            body_bytes = bytes.fromhex(body["bodyHex"]) if "bodyHex" in body else body.get("body", "").encode()
            with self.lock:
                self.payloads[payload_id] = (int(body.get("status", 200)), body_bytes, float(body.get("delaySeconds", 0)))
            url = f"http://127.0.0.1:{self.port}/_payload/{payload_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0f00"
            return json_response({"url": url, "id": payload_id})
        if name == "payload-gets":
            with self.lock:
                return json_response({"gets": list(self.payload_gets)})
        if name == "result-token":
            token = str(uuid.uuid4())
            with self.lock:
                self.tokens[token] = (body["ruleName"], account)
            return json_response({"resultToken": token})
        if name == "invoke":
            request_id = str(uuid.uuid4())
            timeout = float(body.get("timeoutSeconds", 120))
            deadline = int((time.time() + float(body.get("deadlineSeconds", 300))) * 1000)
            # "rawEventHex" delivers bytes that need not be JSON at all.
            event = bytes.fromhex(body["rawEventHex"]) if "rawEventHex" in body else json.dumps(body["event"])
            with self.lock:
                self.pending.append((request_id, event, deadline))
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
                rows = list(self.evaluations.get((account, rule), {}).values())
            return json_response({"evaluations": rows})
        if name == "put-calls":
            with self.lock:
                return json_response({"calls": self.put_calls})
        if name == "calls":
            with self.lock:
                return json_response(dict(self.calls, byAccount=dict(self.calls_by_account), faulted=dict(self.faulted)))
        if name == "assume-role-calls":
            with self.lock:
                return json_response({"roleArns": list(self.assume_role_calls)})
        if name == "assumable-roles":
            with self.lock:
                self.assumable.update(body["roleArns"])
            return json_response({})
        if name == "config-rule":
            with self.lock:
                self.config_rules[(account, body["ruleName"])] = body.get("inputParameters")
            return json_response({})
        if name == "aggregator":
            with self.lock:
                self.aggregators[(account, body["name"])] = [(a, r) for a, r in body["sources"]]
                # Rows of items the aggregator holds beyond its sources'
                # groups (JSON text as Config returns it, any content): many
                # rows for paging, a row the reader cannot use.
                self.aggregator_rows[(account, body["name"])] = list(body.get("rows", []))
            return json_response({})
        if name == "recorded-types":
            with self.lock:
                self.recorded_related_types = set(body["types"])
            return json_response({})
        if name == "empty-first-page":
            with self.lock:
                self.empty_first_pages.add((account, body["groupId"]))
            return json_response({})
        if name == "share-group":
            with self.lock:
                self.shared_groups.setdefault(body["with"], []).append((account, body["groupId"]))
                self.page_cache.clear()
            return json_response({})
        if name == "deny":
            with self.lock:
                self.denied = list(body["denials"])
            return json_response({})
        if name == "call-log":
            with self.lock:
                return json_response({"operations": list(self.call_log)})
        if name == "config-requests":
            with self.lock:
                return json_response({"requests": list(self.config_requests)})
        if name == "max-in-flight":
            with self.lock:
                return json_response(dict(self.max_in_flight))
        if name == "corrupt-group":
            # A rule EC2 would never return: the group cannot be read.
            backend = ec2_backends[account][REGION]
            group = backend.get_security_group_from_id(body["groupId"])
            group.egress_rules[0].ip_protocol = "not-a-protocol"
            with self.lock:
                self.page_cache.clear()
            return json_response({})
        if name == "clear-groups":
            # An account and region without VPCs (the default VPC deleted) has no group.
            backend = ec2_backends[account][REGION]
            backend.groups.clear()
            with self.lock:
                self.page_cache.clear()
            return json_response({})
        if name == "stale-reads":
            with self.lock:
                self.stale_reads = int(body["reads"])
            return json_response({})
        if name == "bulk-groups":
            return json_response({"groupIds": self.bulk_groups(account, body)})
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
            item = self.configuration_item(body["groupId"], account=account)
            if item is None:
                return config_error("ResourceNotDiscoveredException", body["groupId"])
            with self.lock:
                history = self.histories.setdefault((account, body["groupId"]), [])
                if not history or history[-1]["configuration"] != item["configuration"] or history[-1]["tags"] != item["tags"]:
                    history.append(item)
            return json_response(item if body.get("form", "event") == "event" else api_form(item))
        if name == "seed-evaluations":
            with self.lock:
                stored = self.evaluations.setdefault((account, body["rule"]), {})
                for e in body["evaluations"]:
                    stored[(e["ComplianceResourceType"], e["ComplianceResourceId"])] = dict(e, ResultRecordedTime=time.time())
            return json_response({})
        return Response("unknown control endpoint", status=404)

    def bulk_groups(self, account, body):
        """Creates many groups at once in moto's backend (a sweep's test
        data), each with the egress the body names: "open" keeps the default
        allow-all rule, "closed" removes it."""
        backend = ec2_backends[account][REGION]
        vpc = backend.create_vpc(cidr_block="10.8.0.0/16")
        ids = []
        kinds = body["kinds"]
        for i in range(int(body["count"])):
            group = backend.create_security_group(f"bulk-{i}", "bulk", vpc_id=vpc.id, force=True)
            if kinds[i % len(kinds)] == "closed":
                group.egress_rules = []
            ids.append(group.id)
        with self.lock:
            self.page_cache.clear()
        return ids


def deleted_item(group_id, account):
    return {
        "configurationItemVersion": "1.3", "awsAccountId": account, "configurationItemCaptureTime": iso(time.time()),
        "configurationItemStatus": "ResourceDeleted", "resourceType": "AWS::EC2::SecurityGroup", "resourceId": group_id,
        "awsRegion": REGION, "relationships": [], "tags": {}, "configuration": None, "supplementaryConfiguration": {},
    }


def api_form(item):
    """A configuration item in the API form (GetResourceConfigHistory): other
    key names, the capture time as epoch seconds, configuration as JSON text."""
    renamed = {"configurationItemVersion": "version", "awsAccountId": "accountId", "ARN": "arn"}
    out = {renamed.get(k, k): v for k, v in item.items()}
    out["configurationItemCaptureTime"] = epoch(item["configurationItemCaptureTime"])
    out["relationships"] = [{"resourceType": r["resourceType"], "resourceId": r["resourceId"], "relationshipName": r.get("name") or r.get("relationshipName")} for r in item["relationships"]]
    if isinstance(item.get("configuration"), (dict, list)):
        out["configuration"] = json.dumps(item["configuration"])
    return out


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
