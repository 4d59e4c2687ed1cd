/**
 * Every configuration of the app synthesizes with no unacknowledged cdk-nag
 * finding and passes cfn-lint; so do the member template the StackSet
 * deploys and every variant of the conformance pack. The README's commands
 * run as written.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';
import { conformancePackTemplate, conformancePackYaml } from '../lib/conformance-pack';
import { MEMBER_SCOPE_REASONS } from '../lib/member-template';
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
    targetOus: 'ou-ab12-abcdefgh,ou-ab12-ijklmnop',
  },
  'organization, function only': { ...ORG, regions: 'us-east-1', functionOnly: true },
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
      // The reasons live in member-template.ts; the finding ids are cdk-nag's rendering of each scope.
      const ids: Record<string, string> = {
        'no resource-level permissions': 'AwsSolutions-IAM5[Resource::*]',
        'the rule': 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:*:<AWS::AccountId>:config-rule/*]',
        'prefix lists': 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:*:prefix-list/*]',
      };
      if (acknowledged) {
        Validations.of(stack).acknowledge(...Object.entries(MEMBER_SCOPE_REASONS).map(([scope, reason]) => ({ id: ids[scope], reason })));
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
});
