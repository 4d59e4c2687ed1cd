import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stringify } from 'yaml';
import { conformancePackTemplate } from '../lib/conformance-pack';
import { readSettings } from '../lib/settings';
import { synth } from './helpers';

const CONFIGURATIONS: Record<string, Record<string, unknown>> = {
  'single account': {},
  'with remediation': { remediation: true, automaticRemediation: true, remediationKeepEgress: 'tcp:443' },
  organization: { organization: true, organizationId: 'o-abcdefghij' },
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
      const { files } = synth(context);
      assert.ok(files.length >= 1);
      cfnLint(files);
    });
  }

  it('cdk-nag is active: an unacknowledged wildcard fails the synth', () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-')) });
    const stack = new Stack(app, 'Probe');
    new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['ec2:*'], resources: ['*'] }),
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth(), /Validation failed/);
  });
});

describe('conformance pack', () => {
  for (const withRemediation of [false, true]) {
    it(`${withRemediation ? 'with' : 'without'} remediation: generated from the stack's definitions, cfn-lint clean`, () => {
      const settings = readSettings(new App({ context: { ruleParameters: { CheckIpv6: 'false' } } }).node);
      const template = conformancePackTemplate(settings, withRemediation) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const { template: stackTemplate } = synth({ ruleParameters: { CheckIpv6: 'false' } });
      const stackRule = Object.values(stackTemplate.findResources('AWS::Config::ConfigRule'))[0].Properties;
      const packRule = template.Resources.SgEgressRule.Properties;
      // The same rule but for where the function's ARN comes from.
      const strip = (p: Record<string, unknown>) => JSON.stringify({ ...p, Source: { ...(p.Source as object), SourceIdentifier: null } });
      assert.equal(strip(packRule), strip(stackRule));
      assert.equal(template.Resources.SgEgressRemediation !== undefined, withRemediation);
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pack-')), 'pack.yaml');
      fs.writeFileSync(file, stringify(template));
      cfnLint([file]);
    });
  }

  it('the README command writes it', () => {
    const out = execFileSync('npx', ['tsx', 'bin/conformance-pack.ts', '--remediation'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    assert.match(out, /Type: AWS::Config::ConfigRule/);
    assert.match(out, /Owner: CUSTOM_LAMBDA/);
    assert.match(out, /Type: AWS::Config::RemediationConfiguration/);
  });
});

describe('cdk synth', () => {
  it('runs offline with no AWS credentials, from a prebuilt bootstrap', () => {
    const code = fs.mkdtempSync(path.join(os.tmpdir(), 'code-'));
    fs.writeFileSync(path.join(code, 'bootstrap'), 'placeholder binary for the synth test');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cdkout-'));
    const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
    for (const key of Object.keys(env).filter((k) => k.startsWith('AWS_'))) delete env[key];
    execFileSync('npx', ['cdk', 'synth', '--no-notices', '-q', '-c', `functionCodePath=${code}`, '-o', out], {
      cwd: path.join(__dirname, '..'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const template = JSON.parse(fs.readFileSync(path.join(out, 'SgEgressRule.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::Lambda::Function');
    assert.equal(functions.length, 1);
  });
});
