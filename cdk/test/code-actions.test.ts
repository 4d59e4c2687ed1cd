/**
 * The IAM actions each deployment grants equal the AWS operations the Rust
 * code it runs can call: a new SDK call without its permission, or a
 * permission the code no longer needs, fails here.
 *
 * How calls are found (test/rust-calls.ts): the SDK operations are the
 * modules of the aws-sdk-ec2, aws-sdk-config and aws-sdk-sts crates'
 * `src/operation/` (located with `cargo metadata`), and a call is the method
 * `.operation(` anywhere in any function of any `src/**\/*.rs` (comments,
 * strings and test code removed), plus `AssumeRoleProvider` for
 * sts:AssumeRole.
 *
 * How calls are attributed to a deployment, without naming the files they
 * are in (the code moves): by reachability in the crate's call graph from
 * the entry point of each deployment, which are the contracts the CDK app
 * relies on anyway:
 * - the `match` arm for `"rule"` of `main` of the `sg-egress-rule` binary
 *   (the binary the stack deploys, SG_EGRESS_MODE=rule): the rule function's
 *   role, and, without sts:AssumeRole, the member role;
 * - the arm for `"remediation"`: the remediation function's role;
 * - the arm for `"hook"`: the hook function's role;
 * - `main` of every other binary (`sg-egress`): CLI_ACTIONS in definitions.ts.
 * Functions are resolved the way rustc does, per module (same module, `use`
 * imports, re-exports, globs); methods by name. Where resolution cannot be
 * exact it reaches more, never less: a call may be attributed to a
 * deployment that does not make it, never missed. Every call must be
 * reachable from some entry point (a call in dead code fails too).
 *
 * SG_EGRESS_CRATE_DIR points the test at another checkout (a scratch copy).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  ACTIONS_NEEDING_NO_PERMISSION,
  CLI_ACTIONS,
  FUNCTION_ENVIRONMENT,
  HOOK_FUNCTION_ACTIONS,
  ORGANIZATION_FUNCTION_ACTIONS,
  PARAMETERS,
  REMEDIATION_FUNCTION_ACTIONS,
  RULE_FUNCTION_ACTIONS,
} from '../lib/definitions';
import { BINARY_NAME } from '../lib/function-code';
import { functionRole, sdkActions, synth, tempDir } from './helpers';
import { CallGraph, CrateInfo, crateInfo, mainBody, modeArm, parseCrate, Reach } from './rust-calls';

const CRATE_DIR = process.env.SG_EGRESS_CRATE_DIR ?? path.join(__dirname, '..', '..');
const INFO = crateInfo(CRATE_DIR);

interface Deployments {
  readonly srcDir: string;
  readonly graph: CallGraph;
  readonly rule: Reach;
  readonly remediation: Reach;
  readonly hook: Reach;
  readonly cli: Reach;
}

function deployments(info: CrateInfo): Deployments {
  const graph = new CallGraph(info, parseCrate(info));
  const lambda = info.bins.find((b) => b.name === BINARY_NAME);
  assert.ok(lambda, `the crate has no ${BINARY_NAME} binary (the one the stack deploys)`);
  const clis = info.bins.filter((b) => b.name !== BINARY_NAME);
  assert.ok(clis.length > 0, 'the crate has no command-line binary');
  const cli: Reach = { actions: new Set(), via: new Map() };
  for (const bin of clis) {
    const reach = graph.reach(mainBody(bin.file), bin.file, `${bin.name} main`);
    reach.actions.forEach((a) => cli.actions.add(a));
    reach.via.forEach((v, a) => cli.via.set(a, v));
  }
  return {
    srcDir: info.srcDir,
    graph,
    rule: graph.reach(modeArm(lambda.file, 'rule'), lambda.file, 'SG_EGRESS_MODE=rule'),
    remediation: graph.reach(modeArm(lambda.file, 'remediation'), lambda.file, 'SG_EGRESS_MODE=remediation'),
    hook: graph.reach(modeArm(lambda.file, 'hook'), lambda.file, 'SG_EGRESS_MODE=hook'),
    cli,
  };
}

const NEEDS_NO_PERMISSION = new Set(ACTIONS_NEEDING_NO_PERMISSION);

/** Calls needing a permission, sorted. */
function needed(reach: Reach, except: Iterable<string> = []): string[] {
  const skip = new Set([...except, ...NEEDS_NO_PERMISSION]);
  return [...reach.actions].filter((a) => !skip.has(a)).sort();
}

/** Asserts granted == called, with each difference explained. */
function assertSame(who: string, granted: string[], reach: Reach, except: Iterable<string> = []): void {
  const called = needed(reach, except);
  const missing = called.filter((a) => !granted.includes(a)).map((a) => `${a} is called but not granted: ${reach.via.get(a)}`);
  const unused = granted.filter((a) => !called.includes(a)).map((a) => `${a} is granted but nothing reachable calls it`);
  assert.deepEqual([...missing, ...unused], [], `${who}:\n  ${[...missing, ...unused].join('\n  ')}`);
}

/** Calls in functions that no entry point reaches. */
function unattributed(d: Deployments): string[] {
  const reached = new Set([...d.rule.actions, ...d.remediation.actions, ...d.hook.actions, ...d.cli.actions]);
  return d.graph.functions.flatMap((fn) =>
    d.graph
      .calledIn(fn)
      .filter((a) => !reached.has(a))
      .map((a) => `${a} in ${fn.name} (${path.relative(d.srcDir, fn.file)}) is reachable from no binary or mode`),
  );
}

const D = deployments(INFO);
const SINGLE = synth({ remediation: true, hook: true });
const ORGANIZATION = synth({ organization: true, organizationId: 'o-abcdefghij', regions: ['us-east-1', 'eu-west-1'] });

describe('IAM actions equal the SDK calls of the code each deployment runs', () => {
  it('finds the SDK operations and the code', () => {
    assert.ok(INFO.operations.size > 900, `only ${INFO.operations.size} SDK operations found`);
    assert.equal(INFO.operations.get('describe_security_groups'), 'ec2:DescribeSecurityGroups');
    assert.equal(INFO.operations.get('put_evaluations'), 'config:PutEvaluations');
    assert.equal(INFO.operations.get('assume_role'), 'sts:AssumeRole');
    assert.ok(D.graph.functions.length > 50);
  });

  it('every SDK call in src/ is made by a deployed mode or the command line', () => {
    assert.deepEqual(unattributed(D), []);
  });

  it('the organization rule function (every region)', () => {
    for (const [id, template] of Object.entries(ORGANIZATION.templates)) {
      assertSame(`${id} rule function role`, sdkActions(template, functionRole(template, 'rule')), D.rule);
    }
  });

  it('the single-account rule function: the same, without assuming member roles', () => {
    const template = SINGLE.template;
    assertSame('rule function role', sdkActions(template, functionRole(template, 'rule')), D.rule, Object.keys(ORGANIZATION_FUNCTION_ACTIONS));
  });

  it('the member role: what the rule function calls in a member account', () => {
    const statements = ORGANIZATION.memberTemplate!.findResources('AWS::IAM::Role').MemberRole.Properties.Policies.flatMap(
      (p: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }) => p.PolicyDocument.Statement,
    );
    const granted = [...new Set(statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat()))].sort() as string[];
    assertSame('member role', granted, D.rule, Object.keys(ORGANIZATION_FUNCTION_ACTIONS));
  });

  it('the remediation function', () => {
    const template = SINGLE.template;
    assertSame('remediation function role', sdkActions(template, functionRole(template, 'remediation')), D.remediation);
  });

  it('the hook function: the prefix lists a group names and the group a standalone rule joins, nothing else', () => {
    const template = SINGLE.template;
    assertSame('hook function role', sdkActions(template, functionRole(template, 'hook')), D.hook);
    assert.deepEqual(needed(D.hook), ['ec2:DescribeSecurityGroups', 'ec2:GetManagedPrefixListEntries']);
  });

  it('the command line: CLI_ACTIONS, documented for users running sg-egress scan', () => {
    assertSame('CLI_ACTIONS', Object.keys(CLI_ACTIONS).sort(), D.cli);
  });

  it('definitions.ts and the templates agree', () => {
    const template = SINGLE.template;
    assert.deepEqual(sdkActions(template, functionRole(template, 'rule')), Object.keys(RULE_FUNCTION_ACTIONS).sort());
    assert.deepEqual(sdkActions(template, functionRole(template, 'remediation')), Object.keys(REMEDIATION_FUNCTION_ACTIONS).sort());
    assert.deepEqual(sdkActions(template, functionRole(template, 'hook')), Object.keys(HOOK_FUNCTION_ACTIONS).sort());
  });
});

describe('the analysis catches a new call', () => {
  /** A scratch copy of src/ with one change, analysed like the real one. */
  function mutated(change: (src: string) => void): Deployments {
    const dir = tempDir('sg-egress-src');
    fs.cpSync(INFO.srcDir, path.join(dir, 'src'), { recursive: true });
    change(path.join(dir, 'src'));
    const srcDir = path.join(dir, 'src');
    return deployments({ ...INFO, srcDir, bins: INFO.bins.map((b) => ({ ...b, file: path.join(srcDir, path.relative(INFO.srcDir, b.file)) })) });
  }

  /** Inserts a statement at the start of the body of the first function (in the copy) that calls `operation`. */
  function insertBeside(src: string, operation: string, statement: string): string {
    const fn = D.graph.functions.find((f) => D.graph.calledIn(f).includes(operation));
    assert.ok(fn, `no function calls ${operation}`);
    const file = path.join(src, path.relative(INFO.srcDir, fn.file));
    const text = fs.readFileSync(file, 'utf8');
    const at = new RegExp(`fn\\s+${fn.name}\\b[^{]*\\{`).exec(text);
    assert.ok(at, `fn ${fn.name} not found in ${file}`);
    fs.writeFileSync(file, text.slice(0, at.index + at[0].length) + `\n    ${statement}\n` + text.slice(at.index + at[0].length));
    return fn.name;
  }

  it('in the rule handler: clients.ec2.describe_vpcs() is attributed to the rule function and not granted', () => {
    const d = mutated((src) => insertBeside(src, 'config:PutEvaluations', 'let _ = clients.ec2.describe_vpcs();'));
    assert.ok(d.rule.actions.has('ec2:DescribeVpcs'));
    const template = ORGANIZATION.templates['SgEgressRule-us-east-1'];
    assert.throws(() => assertSame('rule', sdkActions(template, functionRole(template, 'rule')), d.rule), /ec2:DescribeVpcs is called but not granted/);
  });

  it('in the hook handler: ec2.describe_vpcs() is attributed to the hook function, whose role does not grant it', () => {
    const d = mutated((src) => {
      const file = path.join(src, 'handler', 'hook.rs');
      const text = fs.readFileSync(file, 'utf8');
      const at = /pub async fn handle_hook\b[^{]*\{/.exec(text);
      assert.ok(at, 'fn handle_hook not found in handler/hook.rs');
      fs.writeFileSync(file, text.slice(0, at.index + at[0].length) + '\n    let _ = ec2.describe_vpcs();\n' + text.slice(at.index + at[0].length));
    });
    assert.ok(d.hook.actions.has('ec2:DescribeVpcs'));
    const template = SINGLE.template;
    assert.throws(() => assertSame('hook', sdkActions(template, functionRole(template, 'hook')), d.hook), /ec2:DescribeVpcs is called but not granted/);
  });

  it('beside an existing EC2 call: ec2.describe_subnets() reaches every mode that reaches that function', () => {
    const d = mutated((src) => insertBeside(src, 'ec2:DescribeSecurityGroups', 'let _ = ec2.describe_subnets();'));
    assert.ok(d.rule.actions.has('ec2:DescribeSubnets') || d.remediation.actions.has('ec2:DescribeSubnets'));
  });

  it('in a new function nothing calls: reported as reachable from no binary', () => {
    const d = mutated((src) => {
      fs.mkdirSync(path.join(src, 'aws'), { recursive: true });
      fs.appendFileSync(path.join(src, 'lib.rs'), '\npub async fn orphan(ec2: &aws_sdk_ec2::Client) { let _ = ec2.describe_subnets().send().await; }\n');
    });
    assert.match(unattributed(d).join('\n'), /ec2:DescribeSubnets in orphan \(lib\.rs\) is reachable from no binary or mode/);
  });

  it('not in comments, strings or tests', () => {
    const d = mutated((src) => {
      fs.appendFileSync(
        path.join(src, 'lib.rs'),
        '\n// ec2.describe_vpcs()\nconst _X: &str = "ec2.describe_vpcs()";\n#[cfg(test)]\nmod probe { fn t(ec2: &aws_sdk_ec2::Client) { let _ = ec2.describe_vpcs(); } }\n',
      );
    });
    assert.deepEqual(unattributed(d), []);
    assert.ok(!d.rule.actions.has('ec2:DescribeVpcs'));
  });
});

describe('the contract between the stack and the binary', () => {
  // The sources of the crate and of the local crates it builds with (a workspace's members).
  const source = (() => {
    const all: string[] = [];
    const walk = (dir: string) =>
      fs.readdirSync(dir, { withFileTypes: true }).forEach((e) =>
        e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.rs') && all.push(fs.readFileSync(path.join(dir, e.name), 'utf8')),
      );
    assert.ok(INFO.localSrcDirs.includes(INFO.srcDir));
    INFO.localSrcDirs.forEach(walk);
    return all.join('\n');
  })();

  it('the binary reads the environment variables the stack sets', () => {
    for (const name of Object.values(FUNCTION_ENVIRONMENT)) assert.ok(source.includes(`"${name}"`), `src/ never reads ${name}`);
    assert.ok(!source.includes('"SG_EGRESS_RULE_PARAMETERS"'), 'SG_EGRESS_RULE_PARAMETERS was replaced by SG_EGRESS_RULE_NAME');
  });

  it('parameter names are the ones the function accepts (PARAMETER_NAMES, params.rs)', () => {
    const list = /PARAMETER_NAMES: \[&str; \d+\] = \[([^\]]+)\]/.exec(source);
    assert.ok(list);
    const names = [...list[1].matchAll(/"([A-Za-z0-9]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names.sort(), Object.keys(PARAMETERS).sort());
  });
});
