/**
 * The validation plugin users add to their own apps (lib/validation-plugin.ts):
 * small apps synthesized with it, the real `sg-egress` binary judging their
 * templates. The binary is built by cargo, never by this test: SG_EGRESS_BIN,
 * else the debug build in the shared target directory; missing, the tests
 * fail and say how to build it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, CfnElement, CfnParameter, NestedStack, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { REPO_ROOT } from '../lib/function-code';
import * as entry from '../lib/index';
import { CheckResult, CHECK_RULES, ruleOf, SgEgressValidationPlugin, SgEgressValidationPluginOptions } from '../lib/validation-plugin';
import { tempDir } from './helpers';

/** The sg-egress binary the tests run. */
function sgEgress(): string {
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache', 'sg-egress-rule', 'target');
  const binary = process.env.SG_EGRESS_BIN ?? path.resolve(REPO_ROOT, targetDir, 'debug', 'sg-egress');
  if (!fs.existsSync(binary)) {
    assert.fail(`the sg-egress binary ${binary} does not exist: run cargo build --bin sg-egress (or set SG_EGRESS_BIN to a built sg-egress)`);
  }
  return binary;
}

/** The CDK's report, as it writes it to validation-report.json. */
interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    pluginVersion?: string;
    conclusion: string;
    metadata?: Record<string, string>;
    violations: Array<{
      ruleName: string;
      description: string;
      suggestedFix?: string;
      severity: string;
      customSeverity?: string;
      violatingConstructs: Array<{
        constructPath: string;
        cloudFormationResource: { templatePath: string; logicalId: string; propertyPaths: string[] };
      }>;
    }>;
  }>;
}

/** The sg-egress plugin's report in the CDK's validation report of an output directory (none: it found nothing). */
function pluginReport(outdir: string): ValidationReport['pluginReports'][number] | undefined {
  const report: ValidationReport = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const ours = report.pluginReports.filter((r) => r.pluginName === 'sg-egress');
  assert.ok(ours.length <= 1);
  return ours[0];
}

/**
 * An app as a user writes it: one stack, an open group (CDK's default
 * allow-all egress) and a closed one (tcp 443 to 10.0.0.0/8). Path metadata
 * on, as the CDK CLI synthesizes; the in-memory app mode makes a failed
 * validation throw with the report (under the CLI it prints the report and
 * exits 1).
 */
function probeApp(plugin: SgEgressValidationPluginOptions, options: { tags?: Record<string, string> } = {}) {
  const outdir = tempDir('sg-egress-plugin');
  const app = new App({
    outdir,
    policyValidationBeta1: [new SgEgressValidationPlugin(plugin)],
    context: { 'aws:cdk:enable-path-metadata': true, '@aws-cdk/core:appMode': 'inmemory' },
  });
  const stack = new Stack(app, 'Probe');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'] });
  const open = new ec2.SecurityGroup(stack, 'Open', { vpc, allowAllOutbound: true });
  const closed = new ec2.SecurityGroup(stack, 'Closed', { vpc, allowAllOutbound: false });
  closed.addEgressRule(ec2.Peer.ipv4('10.0.0.0/8'), ec2.Port.tcp(443));
  for (const [key, value] of Object.entries(options.tags ?? {})) Tags.of(open).add(key, value);
  const logicalIdOf = (group: ec2.SecurityGroup) => stack.getLogicalId(group.node.defaultChild as CfnElement);
  return { app, outdir, open: logicalIdOf(open), closed: logicalIdOf(closed) };
}

/** The line (1-based) of the `{` that opens the allow-all item of a group's SecurityGroupEgress, read from the template file. */
function allowAllLine(templateFile: string, logicalId: string): number {
  const lines = fs.readFileSync(templateFile, 'utf8').split('\n');
  const resource = lines.findIndex((l) => l.trim() === `"${logicalId}": {`);
  assert.ok(resource >= 0, `${logicalId} not in ${templateFile}`);
  const cidr = lines.findIndex((l, i) => i > resource && l.trim().startsWith('"CidrIp": "0.0.0.0/0"'));
  assert.ok(cidr > resource);
  let open = cidr;
  while (lines[open].trim() !== '{') open--;
  assert.ok(open > resource);
  return open + 1;
}

describe('the validation plugin, at synth', () => {
  it('an open group is one violation, with its construct path and the line of its allow-all rule, and the synth fails', () => {
    const { app, outdir, open, closed } = probeApp({ binary: sgEgress() });
    assert.throws(
      () => app.synth(),
      (e: Error) => {
        // Severity error: CDK prints it as ERROR, and counts it when it decides the synth fails.
        assert.match(e.message, /^ERROR all traffic to 0\.0\.0\.0\/0 \(sg-egress\)$/m);
        assert.match(e.message, /^ {3}Acknowledge with 'sg-egress::SGE001-AllTrafficToTheInternet'$/m);
        assert.match(e.message, new RegExp(`Probe/Open/Resource \\(${open}\\)`));
        assert.match(e.message, /A copy of this report can be found in: .*validation-report\.json/);
        return true;
      },
    );
    const report = pluginReport(outdir);
    assert.ok(report, 'the report has no sg-egress entry');
    assert.equal(report.conclusion, 'failure');
    assert.equal(report.pluginVersion, '0.1.0');
    assert.equal(report.violations.length, 1);
    const [violation] = report.violations;
    const line = allowAllLine(path.join(outdir, 'Probe.template.json'), open);
    assert.equal(line, 8, 'the allow-all item of the first resource');
    assert.deepEqual(
      { ...violation, suggestedFix: undefined, violatingConstructs: violation.violatingConstructs.map((c) => ({ constructPath: c.constructPath, ...c.cloudFormationResource })) },
      {
        ruleName: 'SGE001 AllTrafficToTheInternet',
        description: 'all traffic to 0.0.0.0/0',
        suggestedFix: undefined,
        severity: 'error',
        violatingConstructs: [
          { constructPath: 'Probe/Open/Resource', templatePath: 'Probe.template.json', logicalId: open, propertyPaths: [`Probe/Open/Resource (line ${line})`] },
        ],
      },
    );
    assert.match(violation.suggestedFix ?? '', /^Restrict the group's egress to only the addresses, ranges and ports that require it/);
    assert.match(violation.suggestedFix ?? '', /exempt it with the tag sg-egress-exempt = "YYYY-MM-DD reason"/);
    assert.ok(!JSON.stringify(report).includes(closed), 'the closed group is no violation');
  });

  it('acknowledging one group’s violation does not pass another’s: each is an error, which the CDK still counts', () => {
    const ACK = 'sg-egress::SGE001-AllTrafficToTheInternet';
    const probe = (acknowledge: 'one' | 'both') => {
      const outdir = tempDir('sg-egress-plugin');
      const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true, '@aws-cdk/core:appMode': 'inmemory' } });
      Validations.of(app).addPlugins(new SgEgressValidationPlugin({ binary: sgEgress() }));
      const stack = new Stack(app, 'Probe');
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'] });
      const proxy = new ec2.SecurityGroup(stack, 'Proxy', { vpc, allowAllOutbound: true });
      const other = new ec2.SecurityGroup(stack, 'Other', { vpc, allowAllOutbound: true });
      Validations.of(proxy).acknowledge({ id: ACK, reason: 'the egress proxy' });
      if (acknowledge === 'both') Validations.of(other).acknowledge({ id: ACK, reason: 'also open on purpose' });
      return { app, outdir };
    };
    const one = probe('one');
    assert.throws(
      () => one.app.synth(),
      (e: Error) => {
        assert.match(e.message, /^ {3}Probe\/Other\/Resource \(Other[0-9A-F]{8}\) /m);
        assert.doesNotMatch(e.message, /Probe\/Proxy\/Resource/);
        return true;
      },
    );
    const report = pluginReport(one.outdir) as ReturnType<typeof pluginReport> & {
      suppressedViolations?: Array<{ acknowledgedId: string; reason: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }>;
    };
    assert.ok(report);
    assert.equal(report.conclusion, 'failure');
    assert.deepEqual(report.violations.map((v) => [v.severity, v.violatingConstructs.map((c) => c.constructPath)]), [['error', ['Probe/Other/Resource']]]);
    assert.deepEqual(
      report.suppressedViolations?.map((v) => [v.acknowledgedId, v.reason, v.severity, v.violatingConstructs.map((c) => c.constructPath)]),
      [[ACK, 'the egress proxy', 'error', ['Probe/Proxy/Resource']]],
    );
    // Both acknowledged: nothing left that fails, and the synth succeeds (the acknowledgement id is the one CDK prints).
    const both = probe('both');
    both.app.synth();
    const passed = pluginReport(both.outdir);
    assert.ok(passed);
    assert.equal(passed.conclusion, 'success');
    assert.deepEqual(passed.violations, []);
  });

  it('the open group tagged with the exemption: no violation, the synth succeeds', () => {
    const { app, outdir } = probeApp({ binary: sgEgress() }, { tags: { 'sg-egress-exempt': '2099-12-31 proxy' } });
    app.synth();
    const report = pluginReport(outdir);
    assert.ok(report === undefined || (report.conclusion === 'success' && report.violations.length === 0), JSON.stringify(report));
  });

  it('the rule’s parameters decide: another ExemptTagKey exempts, the default tag no longer does', () => {
    const parameters = { ExemptTagKey: 'egress-ok' };
    const exempt = probeApp({ binary: sgEgress(), parameters }, { tags: { 'egress-ok': '2099-12-31 proxy' } });
    exempt.app.synth();
    assert.equal(pluginReport(exempt.outdir)?.violations.length ?? 0, 0);
    const notExempt = probeApp({ binary: sgEgress(), parameters }, { tags: { 'sg-egress-exempt': '2099-12-31 proxy' } });
    assert.throws(() => notExempt.app.synth(), /all traffic to 0\.0\.0\.0\/0/);
    const [violation] = pluginReport(notExempt.outdir)!.violations;
    // The fix names the tag the rule is deployed with.
    assert.match(violation.suggestedFix ?? '', /the tag egress-ok = "YYYY-MM-DD reason"/);
  });

  it('an expired exemption does not hold', () => {
    const { app } = probeApp({ binary: sgEgress() }, { tags: { 'sg-egress-exempt': '2001-01-01 long gone' } });
    assert.throws(() => app.synth(), /all traffic to 0\.0\.0\.0\/0/);
  });

  it('a nested stack’s group is found through its aws:asset:path, which the CDK CLI writes', () => {
    const outdir = tempDir('sg-egress-plugin');
    const app = new App({
      outdir,
      context: { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, '@aws-cdk/core:appMode': 'inmemory' },
    });
    Validations.of(app).addPlugins(new SgEgressValidationPlugin({ binary: sgEgress() }));
    const child = new NestedStack(new Stack(app, 'Parent'), 'Child');
    const vpc = ec2.Vpc.fromVpcAttributes(child, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'] });
    new ec2.SecurityGroup(child, 'Open', { vpc, allowAllOutbound: true });
    assert.throws(() => app.synth(), /Parent\/Child\/Open\/Resource/);
    const [violation] = pluginReport(outdir)!.violations;
    const resource = violation.violatingConstructs[0].cloudFormationResource;
    assert.match(resource.templatePath, /^ParentChild[0-9A-F]{8}\.nested\.template\.json$/);
    assert.deepEqual(resource.propertyPaths, ['Parent/Child/Open/Resource (line 8)']);
  });

  /** A stack with CloudFormation's implicit default egress (no rules listed) and a group open only for some values of a parameter. */
  function implicitAndUndetermined(plugin: SgEgressValidationPluginOptions, bare = true) {
    const outdir = tempDir('sg-egress-plugin');
    const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true, '@aws-cdk/core:appMode': 'inmemory' } });
    Validations.of(app).addPlugins(new SgEgressValidationPlugin(plugin));
    const stack = new Stack(app, 'Probe');
    if (bare) new ec2.CfnSecurityGroup(stack, 'Bare', { groupDescription: 'no egress listed', vpcId: 'vpc-12345678' });
    const cidr = new CfnParameter(stack, 'AllowedCidr', { type: 'String' });
    new ec2.CfnSecurityGroup(stack, 'Depends', {
      groupDescription: 'egress from a parameter',
      vpcId: 'vpc-12345678',
      securityGroupEgress: [{ ipProtocol: '-1', cidrIp: cidr.valueAsString }],
    });
    return { app, outdir };
  }

  it('the implicit default egress is SGE004 at the group’s line, an error; UNDETERMINED is SGE100, a warning unless strict, then an error', () => {
    const lenient = implicitAndUndetermined({ binary: sgEgress() });
    assert.throws(() => lenient.app.synth(), /all traffic to 0\.0\.0\.0\/0 \(implicit default egress\)/);
    const bare = pluginReport(lenient.outdir)!.violations;
    assert.deepEqual(
      bare.map((v) => [v.ruleName, v.severity, v.customSeverity, v.violatingConstructs[0].cloudFormationResource.propertyPaths]).sort(),
      [
        ['SGE004 ImplicitDefaultEgress', 'error', undefined, ['Probe/Bare (line 3)']],
        ['SGE100 EgressUndetermined', 'warning', undefined, ['Probe/Depends (line 18)']],
      ],
    );
    const strict = implicitAndUndetermined({ binary: sgEgress(), strict: true });
    assert.throws(() => strict.app.synth(), /open in some deployments/);
    const both = pluginReport(strict.outdir)!.violations.map((v) => [v.ruleName, v.severity, v.customSeverity, v.description]);
    assert.deepEqual(both.sort(), [
      ['SGE004 ImplicitDefaultEgress', 'error', undefined, 'all traffic to 0.0.0.0/0 (implicit default egress)'],
      ['SGE100 EgressUndetermined', 'error', undefined, 'open in some deployments (all traffic to 0.0.0.0/0), depending on CidrIp = Ref AllowedCidr (no value, no default)'],
    ]);
  });

  it('a group open only in some deployments: a warning in the report, and the synth goes on', () => {
    const { app, outdir } = implicitAndUndetermined({ binary: sgEgress() }, false);
    app.synth();
    const report = pluginReport(outdir)!;
    assert.deepEqual(
      report.violations.map((v) => [v.ruleName, v.severity, v.description]),
      [['SGE100 EgressUndetermined', 'warning', 'open in some deployments (all traffic to 0.0.0.0/0), depending on CidrIp = Ref AllowedCidr (no value, no default)']],
    );
  });
});

describe('the validation plugin, when the check cannot judge', () => {
  it('a binary that cannot run: the plugin throws naming it, and the CDK fails the synth with the plugin failed', () => {
    const missing = path.join(tempDir('no-binary'), 'sg-egress');
    const plugin = new SgEgressValidationPlugin({ binary: missing });
    assert.throws(
      () => plugin.validate({ templatePaths: [path.join(tempDir('t'), 'x.template.json')] } as never),
      new RegExp(`^Error: could not run ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(spawnSync .* ENOENT\\): put sg-egress on the PATH`),
    );
    const { app } = probeApp({ binary: missing });
    assert.throws(() => app.synth(), new RegExp(`Validation plugin 'sg-egress' failed: could not run ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('exit 2 (bad input) is an error naming the binary and its message', () => {
    const file = path.join(tempDir('not-a-template'), 'x.json');
    fs.writeFileSync(file, '{"not": "a template"}');
    const binary = sgEgress();
    assert.throws(
      () => new SgEgressValidationPlugin({ binary }).validate({ templatePaths: [file] } as never),
      (e: Error) => {
        assert.ok(e.message.startsWith(`${binary} check exited with 2: sg-egress: ${file}: line 1: neither a CloudFormation template`), e.message);
        return true;
      },
    );
  });

  it('the default binary: SG_EGRESS_BIN, else sg-egress on the PATH', () => {
    const before = process.env.SG_EGRESS_BIN;
    try {
      process.env.SG_EGRESS_BIN = '/opt/sg-egress/bin/sg-egress';
      assert.throws(() => new SgEgressValidationPlugin().validate({ templatePaths: ['t.json'] } as never), /could not run \/opt\/sg-egress\/bin\/sg-egress /);
      delete process.env.SG_EGRESS_BIN;
      const pathBefore = process.env.PATH;
      process.env.PATH = tempDir('empty-path');
      try {
        assert.throws(() => new SgEgressValidationPlugin().validate({ templatePaths: ['t.json'] } as never), /could not run sg-egress \(spawnSync sg-egress ENOENT\)/);
      } finally {
        process.env.PATH = pathBefore;
      }
    } finally {
      if (before === undefined) delete process.env.SG_EGRESS_BIN;
      else process.env.SG_EGRESS_BIN = before;
    }
  });
});

describe('the validation plugin, reading the check', () => {
  const result = (outcome: CheckResult['outcome'], annotation: string | null): CheckResult => ({
    file: 'a.json',
    line: 1,
    resource: 'G',
    resourceType: 'AWS::EC2::SecurityGroup',
    constructPath: null,
    outcome,
    annotation,
    relatedLines: [],
  });

  it('the rule of a result: the first opening its annotation names, the implicit default, UNDETERMINED', () => {
    assert.equal(ruleOf(result('NON_COMPLIANT', 'all traffic to 0.0.0.0/0; all traffic to ::/0')), 'SGE001');
    assert.equal(ruleOf(result('NON_COMPLIANT', 'all TCP ports to 0.0.0.0/0 (tcp 0-65535)')), 'SGE002');
    assert.equal(ruleOf(result('NON_COMPLIANT', 'all UDP ports to ::/0; all traffic to 0.0.0.0/0')), 'SGE003');
    assert.equal(ruleOf(result('NON_COMPLIANT', 'all traffic to 0.0.0.0/0 (implicit default egress)')), 'SGE004');
    assert.equal(ruleOf(result('UNDETERMINED', 'open in some deployments (all traffic to 0.0.0.0/0), depending on …')), 'SGE100');
    assert.throws(() => ruleOf(result('NON_COMPLIANT', 'something new')), /an annotation that names no opening: "something new"/);
    assert.deepEqual(Object.keys(CHECK_RULES), ['SGE001', 'SGE002', 'SGE003', 'SGE004', 'SGE100']);
  });

  it('no template, no run', () => {
    const report = new SgEgressValidationPlugin({ binary: '/nonexistent/sg-egress' }).validate({ templatePaths: [] } as never);
    assert.deepEqual(report, { success: true, violations: [], pluginVersion: '0.1.0' });
  });

  it('its version is the package’s', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    assert.equal(new SgEgressValidationPlugin().version, pkg.version);
  });
});

describe('installed in a user’s app', () => {
  it('lib/index.ts exports the plugin and nothing that builds this app', () => {
    assert.deepEqual(Object.keys(entry), ['SgEgressValidationPlugin']);
    const source = fs.readFileSync(path.join(__dirname, '..', 'lib', 'index.ts'), 'utf8');
    assert.deepEqual([...new Set([...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]))], ['./validation-plugin']);
  });

  /**
   * A project that ran `npm install <repo>/cdk` (npm links a local
   * directory: node_modules/sg-egress-rule-cdk is a symbolic link to it),
   * with its own aws-cdk-lib, constructs and tsx, and an app written as the
   * README says, run by the CDK CLI: the plugin finds the binary through
   * SG_EGRESS_BIN.
   */
  function userProject(): string {
    const dir = tempDir('user-app');
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(modules);
    fs.symlinkSync(path.join(__dirname, '..'), path.join(modules, 'sg-egress-rule-cdk'), 'dir');
    for (const name of ['aws-cdk-lib', 'constructs', 'tsx']) {
      fs.symlinkSync(path.join(__dirname, '..', 'node_modules', name), path.join(modules, name), 'dir');
    }
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'user-app', private: true }));
    fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node --import tsx app.ts' }));
    fs.writeFileSync(
      path.join(dir, 'app.ts'),
      `import { App, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SgEgressValidationPlugin } from 'sg-egress-rule-cdk/lib/validation-plugin';
import { SgEgressValidationPlugin as FromRoot } from 'sg-egress-rule-cdk';

if (FromRoot !== SgEgressValidationPlugin) throw new Error('the package root exports another plugin');
const app = new App();
Validations.of(app).addPlugins(new SgEgressValidationPlugin({ parameters: { CheckIpv6: 'true' } }));
const stack = new Stack(app, 'Network');
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'] });
const proxy = new ec2.SecurityGroup(stack, 'Proxy', { vpc, allowAllOutbound: true });
if (process.env.EXEMPT) Tags.of(proxy).add('sg-egress-exempt', '2099-12-31 outbound proxy');
app.synth();
`,
    );
    return dir;
  }

  it('imported as the README says, it fails `cdk synth` of an app with an open group, and passes it once the group is exempt', () => {
    const dir = userProject();
    const cdk = path.join(__dirname, '..', 'node_modules', '.bin', 'cdk');
    const run = (extra: NodeJS.ProcessEnv) => {
      const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', SG_EGRESS_BIN: sgEgress(), ...extra };
      for (const key of Object.keys(env).filter((k) => k.startsWith('AWS_') || k.startsWith('CDK_DEFAULT_'))) delete env[key];
      const out = tempDir('user-app-out');
      return { out, ...spawnSync(cdk, ['synth', '--no-notices', '-q', '-o', out], { cwd: dir, encoding: 'utf8', env }) };
    };
    const open = run({});
    assert.equal(open.status, 1, open.stderr);
    assert.match(open.stderr, /^ERROR all traffic to 0\.0\.0\.0\/0 \(sg-egress\)\n\s+Network\/Proxy\/Resource \(Proxy[0-9A-F]{8}\) aws-cdk-lib\.aws_ec2\.CfnSecurityGroup$/m);
    assert.match(open.stderr, /^ {3}Acknowledge with 'sg-egress::SGE001-AllTrafficToTheInternet'\nSynthesis finished with errors$/m);
    const report = pluginReport(open.out)!;
    assert.equal(report.violations[0].severity, 'error');
    assert.deepEqual(report.violations[0].violatingConstructs[0].cloudFormationResource.propertyPaths, ['Network/Proxy/Resource (line 8)']);
    const exempt = run({ EXEMPT: '1' });
    assert.equal(exempt.status, 0, exempt.stderr);
  });
});
