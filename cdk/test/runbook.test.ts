/**
 * The remediation runbook, run on every path: the document the stack deploys
 * (runbookContent) is executed by @cdklabs/cdk-ssm-documents' SSM Automation
 * simulator, whose aws:executeScript runs the step's Python with the real
 * boto3 against a stand-in of the Lambda Invoke API on 127.0.0.1 that
 * answers as Lambda does (FunctionError header and error payload when the
 * function fails, an error status when the call itself is refused).
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { ResponseCode, Simulation, StringDocument } from '@cdklabs/cdk-ssm-documents';
import { runbookContent } from '../lib/definitions';
import { tempDir } from './helpers';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:sg-egress-remediation';
const GROUP = 'sg-0123456789abcdef0';
const REFUSED = 'sg-0000000000000000a';
const FAILING = 'sg-0000000000000000e';
const DENIED = 'sg-0000000000000000d';

/** The Lambda Invoke API, as far as the runbook uses it. */
const STUB = `
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Lambda(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with open(sys.argv[1], "a") as log:
            log.write(json.dumps({"path": self.path, "payload": body}) + "\\n")
        group, headers, status = body.get("GroupId"), {}, 200
        if group == "${REFUSED}":
            headers["X-Amz-Function-Error"] = "Unhandled"
            out = {"errorType": "RemediationRefused", "errorMessage": "open only through narrower rules combined; nothing was changed"}
        elif group == "${FAILING}":
            headers["X-Amz-Function-Error"] = "Unhandled"
            out = {"errorType": "AwsCallFailed", "errorMessage": "ec2:DescribeSecurityGroups failed: throttled"}
        elif group == "${DENIED}":
            status = 403
            headers["x-amzn-ErrorType"] = "AccessDeniedException"
            out = {"Message": "not authorized to perform: lambda:InvokeFunction"}
        else:
            out = {"GroupId": group, "DryRun": body["DryRun"], "Outcome": "WouldRevoke" if body["DryRun"] else "Revoked", "Revoked": [], "Added": []}
        data = json.dumps(out).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Lambda)
print(server.server_address[1], flush=True)
server.serve_forever()
`;

let stub: ChildProcess;
let requestLog: string;
const saved: Record<string, string | undefined> = {};

/** The environment the simulator's Python runs in: the stand-in endpoint, dummy credentials, no user configuration. */
function setEnv(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!(key in saved)) saved[key] = process.env[key];
    process.env[key] = value;
  }
}

before(async () => {
  const dir = tempDir('runbook');
  fs.writeFileSync(path.join(dir, 'stub.py'), STUB);
  requestLog = path.join(dir, 'requests.log');
  stub = spawn('python3', [path.join(dir, 'stub.py'), requestLog], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port: string = await new Promise((resolve, reject) => {
    stub.once('error', reject);
    stub.stdout!.once('data', (d) => resolve(String(d).trim()));
  });
  setEnv({
    AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'AKIDRUNBOOKTEST',
    AWS_SECRET_ACCESS_KEY: 'runbook-test-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The simulator writes each inline script to a directory of its own under
    // the temporary directory and never removes it: give it one we remove.
    TMPDIR: tempDir('simulator'),
  });
});

after(() => {
  stub?.kill();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

interface Run {
  readonly code: ResponseCode;
  readonly result?: string;
  readonly failure?: string;
  /** What the function received. */
  readonly payload?: Record<string, unknown>;
}

/** Runs the deployed document with these parameters, as SSM would. */
function run(parameters: Record<string, string>): Run {
  const before = fs.existsSync(requestLog) ? fs.readFileSync(requestLog, 'utf8').split('\n').filter(Boolean).length : 0;
  const document = StringDocument.fromJson(new Stack(), 'Runbook', JSON.stringify(runbookContent({ functionArn: FUNCTION_ARN })));
  const { log, error } = console;
  console.log = console.error = () => {}; // the simulator narrates every step, and prints the failures asserted below
  let result;
  try {
    result = Simulation.ofAutomation(document, {}).simulate(parameters);
  } finally {
    Object.assign(console, { log, error });
  }
  const requests = fs.existsSync(requestLog) ? fs.readFileSync(requestLog, 'utf8').split('\n').filter(Boolean) : [];
  const request = requests.length > before ? JSON.parse(requests[requests.length - 1]) : undefined;
  if (request) assert.equal(decodeURIComponent(request.path), `/2015-03-31/functions/${FUNCTION_ARN}/invocations`);
  assert.ok(requests.length <= before + 1, 'the function was invoked more than once');
  return {
    code: result.responseCode,
    result: result.outputs?.['Remediate.Result'] as string | undefined,
    failure: result.stackTrace,
    payload: request?.payload,
  };
}

describe('the remediation runbook, simulated', () => {
  it('dry run (the default): the function is asked for a dry run and its answer is the output', () => {
    const r = run({ GroupId: GROUP });
    assert.equal(r.code, ResponseCode.SUCCESS, r.failure);
    assert.deepEqual(r.payload, { GroupId: GROUP, DryRun: true, KeepEgress: '' });
    assert.deepEqual(JSON.parse(r.result!), { GroupId: GROUP, DryRun: true, Outcome: 'WouldRevoke', Revoked: [], Added: [] });
  });

  it('success: DryRun=false revokes, KeepEgress and ConfigRuleName are passed on', () => {
    const r = run({ GroupId: GROUP, DryRun: 'false', KeepEgress: 'tcp:443', ConfigRuleName: 'sg-egress-rule-conformance-pack-abcdefgh' });
    assert.equal(r.code, ResponseCode.SUCCESS, r.failure);
    assert.deepEqual(r.payload, { GroupId: GROUP, DryRun: false, KeepEgress: 'tcp:443', ConfigRuleName: 'sg-egress-rule-conformance-pack-abcdefgh' });
    assert.equal(JSON.parse(r.result!).Outcome, 'Revoked');
  });

  it('refusal: the automation fails with the function’s message', () => {
    const r = run({ GroupId: REFUSED, DryRun: 'false' });
    assert.equal(r.code, ResponseCode.FAILED);
    assert.match(r.failure!, /the remediation function failed \(Unhandled\), nothing more was done: .*RemediationRefused.*open only through narrower rules combined/);
    assert.equal(r.result, undefined);
  });

  it('function error: the automation fails with the error', () => {
    const r = run({ GroupId: FAILING, DryRun: 'true' });
    assert.equal(r.code, ResponseCode.FAILED);
    assert.match(r.failure!, /the remediation function failed \(Unhandled\).*AwsCallFailed.*throttled/);
  });

  it('the invocation itself refused (no permission): the automation fails, and Lambda was asked once', () => {
    const r = run({ GroupId: DENIED, DryRun: 'false' });
    assert.equal(r.code, ResponseCode.FAILED);
    assert.match(r.failure!, /AccessDenied/);
  });

  it('DryRun takes only true or false (what Config’s remediation passes); anything else is refused before the function runs', () => {
    const before = fs.readFileSync(requestLog, 'utf8');
    for (const value of ['TRUE', 'yes', '']) {
      assert.throws(() => run({ GroupId: GROUP, DryRun: value }), /not among allowedValues true,false/, value);
    }
    assert.throws(() => run({ GroupId: 'sg-1' }), /does not match regex/);
    assert.equal(fs.readFileSync(requestLog, 'utf8'), before);
  });
});
