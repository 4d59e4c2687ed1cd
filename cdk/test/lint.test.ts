/**
 * Every configuration of the app synthesizes with no unacknowledged cdk-nag
 * finding and passes cfn-lint; so do the member template the StackSet
 * deploys and every variant of the conformance pack. The README's commands
 * run as written.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { conformancePackTemplate, conformancePackYaml } from '../lib/conformance-pack';
import { MEMBER_SCOPE_FINDINGS, MEMBER_SCOPE_REASONS } from '../lib/member-template';
import { settingsFromContext } from '../lib/settings';
import { fakeElf, synth, tempDir } from './helpers';

const ORG = { organization: true, organizationId: 'o-abcdefghij' };

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'single account': {},
  'single account, two regions, x86_64': { regions: 'us-east-1,eu-west-1', architecture: 'x86_64' },
  'with remediation': { remediation: true, automaticRemediation: true, remediationKeepEgress: 'tcp:443', alarmTopicName: 'security-alerts' },
  'function only, with remediation (for a pack)': { functionOnly: true, remediation: true },
  'organization, two regions': { ...ORG, regions: 'us-east-1,eu-west-1', excludedAccounts: '111122223333' },
  'organization from a delegated administrator, given OUs': {
    ...ORG,
    regions: ['eu-central-1'],
    delegatedAdmin: true,
    managementAccountId: '999988887777',
    targetOus: 'ou-ab12-abcdefgh,ou-ab12-ijklmnop',
  },
  'organization, function only': { ...ORG, regions: 'us-east-1', functionOnly: true },
  'with the hook': { hook: true },
  'with the hook failing operations, remediation and parameters, two regions': {
    hook: true,
    hookFailureMode: 'FAIL',
    remediation: true,
    ruleParameters: { CheckIpv6: 'false', ExemptTagKey: 'egress-ok' },
    regions: 'us-east-1,eu-west-1',
    alarmTopicName: 'security-alerts',
  },
  'function only, with the hook (a member account of an organization)': { functionOnly: true, hook: true },
};

/** cfn-lint, errors and warnings; W3005 is CDK's redundant DependsOn. */
function cfnLint(files: string[]): void {
  try {
    execFileSync('cfn-lint', ['--ignore-checks', 'W3005', '--', ...files], { encoding: 'utf8' });
  } catch (e) {
    const err = e as { status?: number; stdout?: string; message: string };
    assert.fail(`cfn-lint exit ${err.status ?? '?'}:\n${err.stdout ?? err.message}`);
  }
}

describe('every configuration', () => {
  for (const [name, context] of Object.entries(CONFIGURATIONS)) {
    it(`${name}: synthesizes with no unacknowledged cdk-nag finding and passes cfn-lint`, () => {
      const { files, memberTemplate } = synth(context);
      assert.ok(files.length >= 1);
      const all = [...files];
      if (memberTemplate) {
        const file = path.join(tempDir('member'), 'member-role.json');
        fs.writeFileSync(file, JSON.stringify(memberTemplate.toJSON(), null, 1));
        all.push(file);
      }
      cfnLint(all);
    });
  }

  it('the member template passes cdk-nag, each wildcard with its reason', () => {
    const { memberTemplate } = synth(CONFIGURATIONS['organization, two regions']);
    const file = path.join(tempDir('member'), 'member-role.json');
    fs.writeFileSync(file, JSON.stringify(memberTemplate!.toJSON()));
    const probe = (acknowledged: boolean) => {
      const app = new App({ outdir: tempDir('nag') });
      const stack = new Stack(app, 'Member');
      new CfnInclude(stack, 'Template', { templateFile: file });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      // The reasons and cdk-nag's finding id for each scope live in member-template.ts.
      if (acknowledged) {
        Validations.of(stack).acknowledge(
          ...Object.entries(MEMBER_SCOPE_REASONS).map(([scope, reason]) => ({ id: MEMBER_SCOPE_FINDINGS[scope], reason })),
        );
      }
      return () => app.synth();
    };
    // cdk-nag does inspect the included template: unacknowledged, the wildcards fail it.
    assert.throws(probe(false), /Validation failed/);
    probe(true)();
  });

  it('cdk-nag is active: an unacknowledged wildcard fails the synth', () => {
    const app = new App({ outdir: tempDir('nag') });
    const stack = new Stack(app, 'Probe');
    new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] }),
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth(), /Validation failed/);
  });
});

describe('conformance pack', () => {
  const VARIANTS: Record<string, Record<string, unknown>> = {
    account: { ruleParameters: { CheckIpv6: 'false' } },
    'account, with remediation': { ruleParameters: { CheckIpv6: 'false' }, remediation: true, remediationKeepEgress: 'tcp:443' },
    organization: { ruleParameters: { CheckIpv6: 'false' }, organization: true },
  };
  for (const [name, context] of Object.entries(VARIANTS)) {
    it(`${name}: generated from the stack's definitions, within the pack limits, cfn-lint clean`, () => {
      const settings = settingsFromContext(context, 'pack');
      const template = conformancePackTemplate(settings) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const stackContext = settings.organization ? { ...context, ...ORG, regions: 'us-east-1' } : context;
      const { template: stackTemplate } = synth(stackContext);
      const stackRule = settings.organization
        ? Object.values(stackTemplate.findResources('AWS::Config::OrganizationConfigRule'))[0].Properties
        : Object.values(stackTemplate.findResources('AWS::Config::ConfigRule'))[0].Properties;
      const packRule = template.Resources.SgEgressRule.Properties;
      // The same parameters (with ExecutionRoleName in the organization) as the stack's rule.
      const stackParameters = settings.organization
        ? JSON.parse(stackRule.OrganizationCustomRuleMetadata.InputParameters)
        : stackRule.InputParameters;
      assert.deepEqual(packRule.InputParameters, stackParameters);
      if (!settings.organization) {
        const strip = (p: Record<string, unknown>) => JSON.stringify({ ...p, Source: { ...(p.Source as object), SourceIdentifier: null } });
        assert.equal(strip(packRule), strip(stackRule));
      }
      assert.equal(template.Resources.SgEgressRemediation !== undefined, settings.remediation);
      const file = path.join(tempDir('pack'), 'pack.yaml');
      fs.writeFileSync(file, conformancePackYaml(settings));
      cfnLint([file]);
    });
  }

  it('the organization pack always carries ExecutionRoleName and names no runbook or role of the administrator account', () => {
    const settings = settingsFromContext({ organization: true, memberRoleName: 'egress-audit' }, 'pack');
    const template = conformancePackTemplate(settings) as { Parameters: object; Resources: Record<string, { Type: string; Properties: { InputParameters: object } }> };
    assert.deepEqual(template.Resources.SgEgressRule.Properties.InputParameters, { ExecutionRoleName: 'egress-audit' });
    assert.deepEqual(Object.keys(template.Parameters), ['RuleFunctionArn']);
    assert.deepEqual(Object.values(template.Resources).map((r) => r.Type), ['AWS::Config::ConfigRule']);
    assert.throws(() => settingsFromContext({ organization: true, remediation: true }, 'pack'), /context remediation: an organization rule cannot carry/);
  });

  it('with remediation, passes the pack rule\'s own name to the runbook (Config renames a pack\'s rules)', () => {
    const template = conformancePackTemplate(settingsFromContext({ remediation: true }, 'pack')) as {
      Resources: Record<string, { Properties: { Parameters: Record<string, unknown> } }>;
    };
    assert.deepEqual(template.Resources.SgEgressRemediation.Properties.Parameters.ConfigRuleName, {
      StaticValue: { Values: [{ Ref: 'SgEgressRule' }] },
    });
  });

  it('refuses a pack over the TemplateBody limit', () => {
    const settings = settingsFromContext({}, 'pack');
    const big = { ...settings, ruleName: settings.ruleName, ruleParameters: { ExemptTagKey: 'x'.repeat(128) } };
    assert.ok(conformancePackYaml(big).length < 51_200);
    const huge = { ...settings, ruleParameters: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`K${i}`, 'v'.repeat(20)])) };
    assert.throws(() => conformancePackYaml(huge), /TemplateBody may be at most 51200/);
  });

  it('the README command writes it', () => {
    const cwd = path.join(__dirname, '..');
    const account = execFileSync('npx', ['tsx', 'bin/conformance-pack.ts', '--remediation'], { cwd, encoding: 'utf8' });
    assert.match(account, /Type: AWS::Config::ConfigRule/);
    assert.match(account, /Owner: CUSTOM_LAMBDA/);
    assert.match(account, /Type: AWS::Config::RemediationConfiguration/);
    const organization = execFileSync('npx', ['tsx', 'bin/conformance-pack.ts', '--organization'], { cwd, encoding: 'utf8' });
    assert.match(organization, /ExecutionRoleName: sg-egress-rule-member/);
    assert.doesNotMatch(organization, /RemediationConfiguration/);
  });

  it('ExposureMode reaches the pack’s rule like the other parameters, and a bad value stops the command naming it', () => {
    const cwd = path.join(__dirname, '..');
    const run = (parameters: string, ...args: string[]) =>
      spawnSync('npx', ['tsx', 'bin/conformance-pack.ts', ...args, '-c', `ruleParameters=${parameters}`], { cwd, encoding: 'utf8' });
    for (const args of [[], ['--organization']]) {
      const good = run('{"ExposureMode": "Relax-Isolated", "CheckIpv6": "false"}', ...args);
      assert.equal(good.status, 0, good.stderr);
      const rule = (parse(good.stdout) as { Resources: { SgEgressRule: { Properties: { InputParameters: Record<string, string> } } } }).Resources.SgEgressRule;
      assert.deepEqual(rule.Properties.InputParameters, {
        ExposureMode: 'relax-isolated',
        CheckIpv6: 'false',
        ...(args.length > 0 ? { ExecutionRoleName: 'sg-egress-rule-member' } : {}),
      });
    }
    const bad = run('{"ExposureMode": "loud"}');
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, 'sg-egress-rule: context ruleParameters.ExposureMode: expected annotate, off or relax-isolated, found "loud"\n');
  });

  it('--organization prints the --excluded-accounts flag put-organization-conformance-pack needs, and the targetOus warning', () => {
    const cwd = path.join(__dirname, '..');
    const run = (...args: string[]) => {
      const result = spawnSync('npx', ['tsx', 'bin/conformance-pack.ts', '--organization', ...args], { cwd, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      return result;
    };
    // Context values are text, as with the CDK CLI: one account id stays a (12-digit) string.
    const one = run('-c', 'excludedAccounts=011122223333');
    assert.match(one.stdout, /ExecutionRoleName: sg-egress-rule-member/);
    assert.equal(
      one.stderr,
      'sg-egress-rule: pass --excluded-accounts 011122223333 to put-organization-conformance-pack: ' +
        "excludedAccounts have no member role, and the pack's rule would fail there\n",
    );
    const two = run('-c', 'excludedAccounts=111122223333,444455556666', '-c', 'targetOus=ou-ab12-abcdefgh');
    const lines = two.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^sg-egress-rule: pass --excluded-accounts 111122223333 444455556666 to put-organization-conformance-pack: /);
    assert.match(lines[1], /^sg-egress-rule: targetOus: only the accounts of ou-ab12-abcdefgh get the member role, but the pack covers every account of the organization that is not excluded/);
    assert.equal(run().stderr, 'sg-egress-rule: excludedAccounts is empty: put-organization-conformance-pack needs no --excluded-accounts\n');
    // The account pack needs none of this.
    const account = spawnSync('npx', ['tsx', 'bin/conformance-pack.ts'], { cwd, encoding: 'utf8' });
    assert.equal(account.status, 0, account.stderr);
    assert.equal(account.stderr, '');
  });
});

describe('cdk synth', () => {
  it('runs offline with no AWS credentials, from a prebuilt bootstrap, every region in one synth', () => {
    const code = tempDir('code');
    fs.writeFileSync(path.join(code, 'bootstrap'), fakeElf(183));
    const out = tempDir('cdkout');
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
    for (const key of Object.keys(env).filter((k) => k.startsWith('AWS_') || k.startsWith('CDK_DEFAULT_'))) delete env[key];
    execFileSync(
      'npx',
      ['cdk', 'synth', '--no-notices', '-q', '-c', `functionCodePath=${code}`, '-c', 'organization=true', '-c', 'organizationId=o-abcdefghij',
        '-c', 'regions=us-east-1,eu-west-1', '-o', out],
      { cwd: path.join(__dirname, '..'), env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const stacks = fs.readdirSync(out).filter((f) => f.endsWith('.template.json')).sort();
    assert.deepEqual(stacks, ['SgEgressRule-eu-west-1.template.json', 'SgEgressRule-us-east-1.template.json', 'SgEgressRuleMembers.template.json']);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'SgEgressRule-eu-west-1.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::Lambda::Function');
    assert.equal(functions.length, 1);
  });

  /**
   * The CDK CLI, offline, with a stand-in `cargo` first on PATH that fails
   * (and logs its arguments): a command that needs the function built fails,
   * and no real cargo ever runs.
   */
  function cdk(args: string[]): { status: number | null; stdout: string; stderr: string; cargoCalls: string } {
    const bin = tempDir('failing-cargo');
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'cargo'), `#!/bin/sh\necho "$@" >> '${log}'\nexit 1\n`, { mode: 0o755 });
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', PATH: `${bin}:${process.env.PATH}` };
    for (const key of Object.keys(env).filter((k) => k.startsWith('AWS_') || k.startsWith('CDK_DEFAULT_'))) delete env[key];
    const result = spawnSync('npx', ['cdk', ...args, '--no-notices', '-o', tempDir('cdkout')], { cwd: path.join(__dirname, '..'), env, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, cargoCalls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' };
  }

  const ORGANIZATION_OPTIONS = ['-c', 'organization=true', '-c', 'organizationId=o-abcdefghij', '-c', 'regions=us-east-1,eu-west-1'];

  it('the README’s member-template command prints it without building the function (-e)', () => {
    const synthesized = cdk(['synth', 'SgEgressRuleMembers', '-e', ...ORGANIZATION_OPTIONS, '--json']);
    assert.equal(synthesized.status, 0, synthesized.stderr);
    assert.doesNotMatch(synthesized.cargoCalls, /build/);
    const body = JSON.parse(JSON.parse(synthesized.stdout).Resources.MemberRoles.Properties.TemplateBody);
    assert.deepEqual(Object.keys(body.Resources), ['MemberRole']);
    // Without -e the CLI bundles every stack's function, which needs cargo lambda.
    const bundling = cdk(['synth', 'SgEgressRuleMembers', ...ORGANIZATION_OPTIONS, '--json']);
    assert.notEqual(bundling.status, 0);
    assert.match(bundling.stderr, /building the function needs cargo-lambda on PATH/);
  });

  it('-c hook=true (text, as the CLI passes it) adds the hooks; with organization=true the synth stops saying why and what to do', () => {
    const code = tempDir('code');
    fs.writeFileSync(path.join(code, 'bootstrap'), fakeElf(183));
    const synthesized = cdk(['synth', 'SgEgressRule', '-c', `functionCodePath=${code}`, '-c', 'hook=true', '-c', 'hookFailureMode=FAIL', '--json']);
    assert.equal(synthesized.status, 0, synthesized.stderr);
    const resources = Object.values(JSON.parse(synthesized.stdout).Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
    const hooks = resources.filter((r) => r.Type === 'AWS::CloudFormation::LambdaHook');
    assert.deepEqual(hooks.map((h) => [h.Properties.Alias, h.Properties.FailureMode]).sort(), [
      ['Private::SgEgressRule::ResourceHook', 'FAIL'],
      ['Private::SgEgressRule::StackHook', 'FAIL'],
    ]);
    const refused = cdk(['synth', ...ORGANIZATION_OPTIONS, '-c', 'hook=true']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /sg-egress-rule: context hook: not with organization=true: a Lambda hook invokes a function in its own account only/);
  });

  it('delegated administrator: the README’s step 2 selects every stack but the management account’s', () => {
    const listed = cdk(['ls', 'SgEgressRuleMembers', 'SgEgressRule-*', ...ORGANIZATION_OPTIONS, '-c', 'delegatedAdmin=true', '-c', 'managementAccountId=999988887777']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['SgEgressRule-eu-west-1', 'SgEgressRule-us-east-1', 'SgEgressRuleMembers']);
  });

  it('delegated administrator: the management account’s stack synthesizes through the CLI with no CDK bootstrap artefact', () => {
    const synthesized = cdk(['synth', 'SgEgressRuleManagementMemberRole', '-e', ...ORGANIZATION_OPTIONS,
      '-c', 'delegatedAdmin=true', '-c', 'managementAccountId=999988887777', '--json']);
    assert.equal(synthesized.status, 0, synthesized.stderr);
    // With the CLI's context (path metadata and version reporting on), still the bare member template.
    const template = JSON.parse(synthesized.stdout);
    assert.deepEqual(Object.keys(template.Parameters), ['AdministratorAccountId']);
    assert.deepEqual(Object.keys(template.Resources), ['MemberRole']);
    for (const artefact of ['BootstrapVersion', 'CheckBootstrapVersion', 'cdk-hnb659fds', 'AWS::CDK::Metadata', 'aws:cdk']) {
      assert.ok(!synthesized.stdout.includes(artefact), `the management template mentions ${artefact}`);
    }
  });
});
