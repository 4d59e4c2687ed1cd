/** The synthesized templates, configuration by configuration. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';
import { buildApp } from '../lib/app';
import { SettingsError, validateRuleParameters } from '../lib/settings';
import { fakeElf, functionRole, logicalId, roleActions, synth, tempDir, trustedPrincipalPattern } from './helpers';
import * as fs from 'node:fs';
import * as path from 'node:path';

const TRIGGERS = ['ConfigurationItemChangeNotification', 'OversizedConfigurationItemChangeNotification', 'ScheduledNotification'];

describe('single account, defaults', () => {
  const { template } = synth();

  it('deploys the Rust function on provided.al2023, arm64, with JSON logs to a retained log group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: { Variables: { SG_EGRESS_MODE: 'rule' } },
      Timeout: 300,
      ReservedConcurrentExecutions: Match.absent(),
    });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
  });

  it('scopes the rule to security groups with the change, oversized and periodic triggers', () => {
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      ConfigRuleName: 'sg-egress-rule',
      Scope: { ComplianceResourceTypes: ['AWS::EC2::SecurityGroup'] },
      Source: {
        Owner: 'CUSTOM_LAMBDA',
        SourceIdentifier: { 'Fn::GetAtt': [Match.stringLikeRegexp('RuleFunction'), 'Arn'] },
        SourceDetails: TRIGGERS.map((t) =>
          t === 'ScheduledNotification'
            ? { EventSource: 'aws.config', MessageType: t, MaximumExecutionFrequency: 'TwentyFour_Hours' }
            : { EventSource: 'aws.config', MessageType: t },
        ),
      },
      InputParameters: {},
    });
    template.resourceCountIs('AWS::Config::OrganizationConfigRule', 0);
    template.resourceCountIs('AWS::Config::RemediationConfiguration', 0);
    template.resourceCountIs('AWS::SSM::Document', 0);
  });

  it('lets only this account’s Config invoke the function, before the rule exists', () => {
    const permission = logicalId(template, 'AWS::Lambda::Permission', () => true);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'config.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: { 'Fn::Join': ['', Match.arrayWith([':config:', ':config-rule/*'])] },
    });
    template.hasResource('AWS::Config::ConfigRule', { DependsOn: Match.arrayWith([permission]) });
  });

  it('grants the function exactly the actions it calls, scoped where IAM allows', () => {
    const role = functionRole(template, 'rule');
    assert.deepEqual(roleActions(template, role), [
      'config:GetComplianceDetailsByConfigRule',
      'config:GetResourceConfigHistory',
      'config:PutEvaluations',
      // Effective exposure of open groups (ExposureMode): the network around them.
      'ec2:DescribeEgressOnlyInternetGateways',
      'ec2:DescribeInternetGateways',
      'ec2:DescribeNatGateways',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeRouteTables',
      'ec2:DescribeSecurityGroups',
      'ec2:GetManagedPrefixListEntries',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      // The on-failure destination (CDK's grant to the queue).
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } }),
          // The actions with no resource-level permissions, named one by one.
          Match.objectLike({
            Action: [
              'config:GetResourceConfigHistory',
              'config:PutEvaluations',
              'ec2:DescribeEgressOnlyInternetGateways',
              'ec2:DescribeInternetGateways',
              'ec2:DescribeNatGateways',
              'ec2:DescribeNetworkInterfaces',
              'ec2:DescribeRouteTables',
              'ec2:DescribeSecurityGroups',
            ],
            Resource: '*',
          }),
          Match.objectLike({ Action: 'config:GetComplianceDetailsByConfigRule', Resource: { 'Fn::Join': ['', Match.arrayWith([':config-rule/*'])] } }),
          Match.objectLike({ Action: 'ec2:GetManagedPrefixListEntries', Resource: { 'Fn::Join': ['', Match.arrayWith([':*:prefix-list/*'])] } }),
        ]),
      },
    });
    const json = JSON.stringify(template.toJSON());
    assert.ok(!json.includes('ec2:RevokeSecurityGroupEgress'), 'the rule function cannot revoke');
    const allowed = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((st: { Effect: string }) => st.Effect === 'Allow').flatMap((st: { Action: string }) => [st.Action].flat()),
    );
    assert.ok(!allowed.some((a: string) => a.endsWith('*')), 'no action wildcards');
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    assert.ok(!json.includes('ManagedPolicyArns'), 'no managed policies');
  });
});

const ORG = { organization: true, organizationId: 'o-abcdefghij', regions: 'us-east-1' };

describe('context', () => {
  it('x86_64, frequency, retention and parameters come from context', () => {
    const { template } = synth({
      architecture: 'x86_64',
      maximumExecutionFrequency: 'Six_Hours',
      logRetentionDays: 30,
      ruleParameters: { CheckIpv6: false, ExemptVpcIds: 'vpc-0a1b2c3d', ExemptTagKey: 'egress-exception' },
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      Source: { SourceDetails: Match.arrayWith([Match.objectLike({ MaximumExecutionFrequency: 'Six_Hours' })]) },
      InputParameters: { CheckIpv6: 'false', ExemptVpcIds: 'vpc-0a1b2c3d', ExemptTagKey: 'egress-exception' },
    });
  });

  it('ExposureMode: annotate, off or relax-isolated, in any case, reaches the rule lower-cased; anything else is refused naming it', () => {
    const { template } = synth({ ruleParameters: { ExposureMode: ' Relax-Isolated ' } });
    template.hasResourceProperties('AWS::Config::ConfigRule', { InputParameters: { ExposureMode: 'relax-isolated' } });
    assert.deepEqual(
      ['annotate', 'OFF', 'relax-isolated', ''].map((mode) => validateRuleParameters({ ExposureMode: mode })),
      [{ ExposureMode: 'annotate' }, { ExposureMode: 'off' }, { ExposureMode: 'relax-isolated' }, { ExposureMode: '' }],
    );
    for (const [bad, found] of [['loud', '"loud"'], ['relax_isolated', '"relax_isolated"'], ['annotate,off', '"annotate,off"']]) {
      assert.throws(
        () => validateRuleParameters({ ExposureMode: bad }),
        (e: Error) => {
          assert.ok(e instanceof SettingsError, `${e}`);
          assert.equal(e.message, `context ruleParameters.ExposureMode: expected annotate, off or relax-isolated, found ${found}`);
          return true;
        },
      );
    }
    assert.throws(() => validateRuleParameters({ ExposureMode: false }), (e: Error) => e instanceof SettingsError && e.message === 'context ruleParameters.ExposureMode: expected a string, found false');
    assert.throws(() => synth({ ruleParameters: { exposureMode: 'off' } }), /ruleParameters\.exposureMode: unknown parameter \(did you mean ExposureMode\?/);
  });

  it('rejects what the function would reject, naming the key', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ruleParameters: { checkIpv6: 'true' } }, /ruleParameters\.checkIpv6: unknown parameter \(did you mean CheckIpv6\?/],
      [{ ruleParameters: { CheckIpv6: 'yes' } }, /ruleParameters\.CheckIpv6: expected true or false/],
      [{ ruleParameters: { ExemptGroupIds: 'sg-1' } }, /ruleParameters\.ExemptGroupIds: "sg-1" is not a valid id/],
      [{ ruleParameters: { ExemptTagKey: 'aws:x' } }, /ruleParameters\.ExemptTagKey: the aws: prefix is reserved/],
      [{ ruleParameters: '{"CheckIpv6": ' }, /ruleParameters: not valid JSON/],
      [{ ruleParameters: { ExposureMode: 'loud' } }, /context ruleParameters\.ExposureMode: expected annotate, off or relax-isolated, found "loud"/],
      [{ maximumExecutionFrequency: 'Daily' }, /maximumExecutionFrequency: expected one of/],
      [{ architecture: 'arm' }, /architecture: expected arm64 or x86_64/],
      [{ logRetentionDays: 2 }, /logRetentionDays: expected one of/],
      [{ organization: true }, /organizationId: organization mode needs the organization id/],
      [{ organization: true, organizationId: 'o-abcdefghij' }, /regions: organization mode needs the regions/],
      [{ organization: true, organizationId: 'o-abc' }, /organizationId: expected an organization id/],
      [{ regions: 'us-east-1,useast2' }, /regions: "useast2" is not a region name/],
      [{ regions: 'us-east-1,us-east-1' }, /regions: "us-east-1" is listed twice/],
      [{ regions: 'us-east-1,cn-north-1' }, /regions: every region must be in one partition/],
      [{ regions: 42 }, /regions: expected a list/],
      [{ targetOus: 'ou-ab12-abcdefgh' }, /targetOus: only for organization mode/],
      [{ ...ORG, targetOus: 'ou-1' }, /targetOus: "ou-1" is neither an OU id/],
      [{ delegatedAdmin: true }, /delegatedAdmin: only for organization mode/],
      [{ delegatedAdmin: 'maybe' }, /delegatedAdmin: expected true or false/],
      [{ functionOnly: 'yes' }, /functionOnly: expected true or false/],
      [{ ...ORG, reservedConcurrency: 0 }, /reservedConcurrency: expected a whole number from 1 to 1000/],
      [{ alarmTopicName: 'arn:aws:sns:us-east-1:111122223333:x' }, /alarmTopicName: expected the name of a standard SNS topic/],
      [{ excludedAccounts: '1234' }, /excludedAccounts: expected a list of 12-digit account ids/],
      [{ ...ORG, delegatedAdmin: true }, /context managementAccountId: with delegatedAdmin=true the organization rule also runs in the management account, where StackSets never deploy the member role/],
      [{ ...ORG, delegatedAdmin: true, managementAccountId: '12345' }, /context managementAccountId: expected a 12-digit account id, found "12345"/],
      [{ ...ORG, delegatedAdmin: true, managementAccountId: 999988887777 }, /context managementAccountId: expected a 12-digit account id as a string \(ids may start with 0\), found 999988887777/],
      [{ ...ORG, managementAccountId: '999988887777' }, /context managementAccountId: only with delegatedAdmin=true/],
      [{ ...ORG, ruleName: 'r'.repeat(50), regions: 'ap-southeast-3' }, /ruleName: the function role name r+-function-ap-southeast-3 would be over IAM's 64 characters/],
      [{ ruleParameters: { ExecutionRoleName: 'x' } }, /ruleParameters\.ExecutionRoleName: only for organization mode/],
      [{ automaticRemediation: true }, /automaticRemediation: needs remediation to be true/],
      [{ hook: 'yes' }, /context hook: expected true or false, found "yes"/],
      [{ hook: true, hookFailureMode: 'fail' }, /context hookFailureMode: expected WARN or FAIL \(CloudFormation's FailureMode, in capitals\), found "fail"/],
      [{ hookFailureMode: 'FAIL' }, /context hookFailureMode: only with hook=true/],
      [{ ...ORG, hook: true }, /context hook: not with organization=true: a Lambda hook invokes a function in its own account only.*-c hook=true -c functionOnly=true/],
      [{ hook: true, ruleName: 'r-' }, /context ruleName: with hook=true the hooks' aliases are made of its letters and digits \(Private::R::ResourceHook\), and CloudFormation needs at least 2/],
      [{ remediation: true, ...ORG }, /remediation: an organization rule cannot carry/],
      [{ remediation: true, remediationKeepEgress: 'https' }, /remediationKeepEgress: expected PROTOCOL:PORT/],
      [{ functionCodePath: '/nonexistent' }, /functionCodePath: \/nonexistent holds no bootstrap/],
    ];
    for (const [context, message] of cases) {
      assert.throws(() => synth(context), message, JSON.stringify(context));
    }
  });
});

describe('with the hook', () => {
  const PARAMETERS = { CheckIpv6: 'false', ExemptTagKey: 'egress-ok', ExemptVpcIds: 'vpc-0a1b2c3d' };
  const { template } = synth({ hook: true, ruleParameters: PARAMETERS });
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  const hookFunction = logicalId(template, 'AWS::Lambda::Function', (p) => (p as any).Environment?.Variables?.SG_EGRESS_MODE === 'hook');
  const ruleFunction = logicalId(template, 'AWS::Lambda::Function', (p) => (p as any).Environment?.Variables?.SG_EGRESS_MODE === 'rule');
  const executionRole = logicalId(template, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('hooks.cloudformation.amazonaws.com'));
  const hooks = Object.values(template.findResources('AWS::CloudFormation::LambdaHook')).map((h) => h.Properties);
  const byOperation = (operation: string) => {
    const found = hooks.filter((h) => JSON.stringify(h.TargetOperations) === JSON.stringify([operation]));
    assert.equal(found.length, 1, `one hook for ${operation}`);
    return found[0];
  };

  it('two hooks invoke the hook function: resource operations on groups and standalone egress rules, and stack operations', () => {
    assert.equal(hooks.length, 2);
    const common = {
      ExecutionRole: { 'Fn::GetAtt': [executionRole, 'Arn'] },
      LambdaFunction: { 'Fn::GetAtt': [hookFunction, 'Arn'] },
      FailureMode: 'WARN',
      HookStatus: 'ENABLED',
      // Never the stack that holds the hooks.
      StackFilters: { FilteringCriteria: 'ALL', StackNames: { Exclude: [{ Ref: 'AWS::StackName' }] } },
    };
    assert.deepEqual(byOperation('RESOURCE'), {
      ...common,
      Alias: 'Private::SgEgressRule::ResourceHook',
      TargetOperations: ['RESOURCE'],
      TargetFilters: {
        Actions: ['CREATE', 'UPDATE'],
        InvocationPoints: ['PRE_PROVISION'],
        TargetNames: ['AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupEgress'],
      },
    });
    // No TargetNames: a stack operation's target is STACK, no resource type.
    assert.deepEqual(byOperation('STACK'), {
      ...common,
      Alias: 'Private::SgEgressRule::StackHook',
      TargetOperations: ['STACK'],
      TargetFilters: { Actions: ['CREATE', 'UPDATE'], InvocationPoints: ['PRE_PROVISION'] },
    });
  });

  it('FAIL by context', () => {
    const { template } = synth({ hook: true, hookFailureMode: 'FAIL' });
    const modes = Object.values(template.findResources('AWS::CloudFormation::LambdaHook')).map((h) => h.Properties.FailureMode);
    assert.deepEqual(modes, ['FAIL', 'FAIL']);
  });

  it('the execution role trusts CloudFormation’s hooks and may only invoke the hook function (no wildcard)', () => {
    const role = resources[executionRole].Properties;
    assert.deepEqual(role.AssumeRolePolicyDocument, {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'hooks.cloudformation.amazonaws.com' } }],
    });
    assert.deepEqual(
      role.Policies.map((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement),
      [[{ Sid: 'InvokeHookFunction', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [hookFunction, 'Arn'] } }]],
    );
    assert.equal(role.ManagedPolicyArns, undefined);
    assert.deepEqual(roleActions(template, executionRole), [], 'no other policy is attached to it');
    assert.ok(!JSON.stringify(role).includes('*'), 'no wildcard');
    // Only this role names CloudFormation's hooks.
    const trusting = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r).includes('hooks.cloudformation'));
    assert.equal(trusting.length, 1);
  });

  it('the hook function: the rule’s code and memory, mode hook, the rule’s parameters, 30 seconds, its own log group and a role that logs and reads prefix lists and groups', () => {
    const fn = resources[hookFunction].Properties;
    const rule = resources[ruleFunction].Properties;
    assert.deepEqual(Object.keys(fn.Environment.Variables).sort(), ['SG_EGRESS_MODE', 'SG_EGRESS_PARAMETERS']);
    assert.equal(fn.Environment.Variables.SG_EGRESS_MODE, 'hook');
    const configRule = Object.values(template.findResources('AWS::Config::ConfigRule'))[0].Properties;
    assert.deepEqual(JSON.parse(fn.Environment.Variables.SG_EGRESS_PARAMETERS), configRule.InputParameters);
    assert.deepEqual(configRule.InputParameters, PARAMETERS);
    assert.equal(fn.Timeout, 30);
    assert.equal(fn.MemorySize, rule.MemorySize);
    assert.deepEqual(fn.Code, rule.Code, 'the same asset as the rule function');
    assert.deepEqual([fn.Runtime, fn.Handler, fn.Architectures], [rule.Runtime, rule.Handler, rule.Architectures]);
    assert.notDeepEqual(fn.LoggingConfig.LogGroup, rule.LoggingConfig.LogGroup);
    assert.equal(fn.ReservedConcurrentExecutions, undefined);
    assert.deepEqual(roleActions(template, functionRole(template, 'hook')), [
      'ec2:DescribeSecurityGroups',
      'ec2:GetManagedPrefixListEntries',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    assert.notEqual(functionRole(template, 'hook'), functionRole(template, 'rule'));
    // Its errors alarm; no failed-invocations queue (CloudFormation invokes it synchronously).
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === 'Errors');
    assert.equal(alarms.length, 2);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasOutput('ResourceHookArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('HookResourceHook'), 'HookArn'] } });
    template.hasOutput('StackHookArn', {});
    template.hasOutput('HookFunctionArn', {});
  });

  it('with default parameters, SG_EGRESS_PARAMETERS is {} as the rule’s InputParameters', () => {
    const { template } = synth({ hook: true });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { SG_EGRESS_MODE: 'hook', SG_EGRESS_PARAMETERS: '{}' } } });
    template.hasResourceProperties('AWS::Config::ConfigRule', { InputParameters: {} });
  });

  it('the aliases come from ruleName, within CloudFormation’s pattern', () => {
    const { template } = synth({ hook: true, ruleName: 'egress_audit-v2' });
    const aliases = Object.values(template.findResources('AWS::CloudFormation::LambdaHook')).map((h) => h.Properties.Alias).sort();
    assert.deepEqual(aliases, ['Private::EgressAuditV2::ResourceHook', 'Private::EgressAuditV2::StackHook']);
    const pattern = /^(?![Aa][Ww][Ss])[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}::[A-Za-z0-9]{2,64}$/;
    for (const alias of aliases) assert.match(alias, pattern);
    const longest = Object.values(synth({ hook: true, ruleName: 'a'.repeat(64) }).template.findResources('AWS::CloudFormation::LambdaHook'));
    for (const hook of longest) assert.match(hook.Properties.Alias, pattern);
  });

  it('each region’s stack has its own hooks, excluding that stack', () => {
    const { templates } = synth({ hook: true, regions: 'us-east-1,eu-west-1' });
    for (const template of Object.values(templates)) {
      template.resourceCountIs('AWS::CloudFormation::LambdaHook', 2);
      template.allResourcesProperties('AWS::CloudFormation::LambdaHook', {
        StackFilters: { FilteringCriteria: 'ALL', StackNames: { Exclude: [{ Ref: 'AWS::StackName' }] } },
      });
    }
  });

  it('with functionOnly (what an organization’s member accounts deploy instead): the hooks, and no rule', () => {
    const { template } = synth({ hook: true, functionOnly: true, ruleParameters: { CheckIpv6: 'false' } });
    template.resourceCountIs('AWS::CloudFormation::LambdaHook', 2);
    template.resourceCountIs('AWS::Config::ConfigRule', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SG_EGRESS_MODE: 'hook', SG_EGRESS_PARAMETERS: '{"CheckIpv6":"false"}' } },
    });
  });

  it('none without hook=true: no hook, no hook function, no role for CloudFormation’s hooks', () => {
    for (const context of [{}, { hook: false }, { hook: 'false', remediation: true }]) {
      const { template } = synth(context);
      template.resourceCountIs('AWS::CloudFormation::LambdaHook', 0);
      const modes = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment.Variables.SG_EGRESS_MODE);
      assert.ok(!modes.includes('hook'), JSON.stringify(context));
      assert.ok(!JSON.stringify(template.toJSON()).includes('hooks.cloudformation'), JSON.stringify(context));
    }
  });
});

describe('with remediation', () => {
  const { template } = synth({ remediation: true, remediationKeepEgress: 'tcp:443,tcp:80' });

  it('deploys the remediation as its own function and role, the only one allowed to revoke', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SG_EGRESS_MODE: 'remediation', SG_EGRESS_RULE_NAME: 'sg-egress-rule' } },
    });
    const role = functionRole(template, 'remediation');
    assert.deepEqual(roleActions(template, role), [
      'config:DescribeConfigRules',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:DescribeSecurityGroupRules',
      'ec2:DescribeSecurityGroups',
      'ec2:GetManagedPrefixListEntries',
      'ec2:RevokeSecurityGroupEgress',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    const revokers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('ec2:RevokeSecurityGroupEgress'),
    );
    assert.equal(revokers.length, 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'config:DescribeConfigRules', Resource: { 'Fn::Join': ['', Match.arrayWith([':config-rule/*'])] } }),
          Match.objectLike({
            Action: ['ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([':security-group/*'])] },
          }),
        ]),
      },
    });
  });

  it('has a schema 0.3 runbook whose one step invokes the remediation function, dry run by default', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Automation',
      Content: Match.objectLike({
        schemaVersion: '0.3',
        parameters: Match.objectLike({
          GroupId: Match.objectLike({ type: 'String' }),
          DryRun: Match.objectLike({ type: 'String', default: 'true', allowedValues: ['true', 'false'] }),
          KeepEgress: Match.objectLike({ type: 'String', default: '' }),
          ConfigRuleName: Match.objectLike({ type: 'String', default: '' }),
        }),
        mainSteps: [
          Match.objectLike({
            action: 'aws:executeScript',
            onFailure: 'Abort',
            inputs: Match.objectLike({
              Runtime: 'python3.11',
              InputPayload: {
                FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('RemediationFunction'), 'Arn'] },
                GroupId: '{{ GroupId }}',
                DryRun: '{{ DryRun }}',
                KeepEgress: '{{ KeepEgress }}',
                ConfigRuleName: '{{ ConfigRuleName }}',
              },
            }),
          }),
        ],
      }),
    });
  });

  it('the automation role may only invoke the remediation function', () => {
    const role = logicalId(template, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('ssm.amazonaws.com'));
    assert.deepEqual(roleActions(template, role), ['lambda:InvokeFunction']);
  });

  it('configures manual remediation with retry limits', () => {
    template.hasResourceProperties('AWS::Config::RemediationConfiguration', {
      ConfigRuleName: { Ref: Match.stringLikeRegexp('ConfigRule') },
      TargetType: 'SSM_DOCUMENT',
      TargetId: { Ref: Match.stringLikeRegexp('Runbook') },
      Automatic: false,
      MaximumAutomaticAttempts: 3,
      RetryAttemptSeconds: 60,
      Parameters: {
        GroupId: { ResourceValue: { Value: 'RESOURCE_ID' } },
        DryRun: { StaticValue: { Values: ['true'] } },
        KeepEgress: { StaticValue: { Values: ['tcp:443,tcp:80'] } },
        AutomationAssumeRole: { StaticValue: { Values: [{ 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }] } },
      },
    });
  });

  it('automatic remediation by context', () => {
    const { template } = synth({ remediation: true, automaticRemediation: true, remediationDryRun: false, remediationMaximumAutomaticAttempts: 5 });
    template.hasResourceProperties('AWS::Config::RemediationConfiguration', {
      Automatic: true,
      MaximumAutomaticAttempts: 5,
      Parameters: Match.objectLike({ DryRun: { StaticValue: { Values: ['false'] } } }),
    });
  });
});

describe('organization, two regions', () => {
  const REGIONS = ['us-east-1', 'eu-west-1'];
  const built = synth({
    organization: true,
    organizationId: 'o-abcdefghij',
    regions: REGIONS.join(','),
    excludedAccounts: ['111122223333'],
  });
  const { templates, membersTemplate, memberTemplate } = built;

  it('one synth yields a stack per region, bound to it, and the StackSet stack they depend on', () => {
    assert.deepEqual(built.stacks.map((st) => [st.node.id, st.region]), REGIONS.map((r) => [`SgEgressRule-${r}`, r]));
    assert.equal(built.membersStack?.region, 'us-east-1');
    for (const stack of built.stacks) assert.ok(stack.dependencies.includes(built.membersStack!));
  });

  it('each region: the function and an organization rule with the three triggers and ExecutionRoleName', () => {
    for (const template of Object.values(templates)) {
      template.resourceCountIs('AWS::Config::ConfigRule', 0);
      template.hasResourceProperties('AWS::Config::OrganizationConfigRule', {
        OrganizationConfigRuleName: 'sg-egress-rule',
        OrganizationCustomRuleMetadata: Match.objectLike({
          LambdaFunctionArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
          OrganizationConfigRuleTriggerTypes: TRIGGERS,
          ResourceTypesScope: ['AWS::EC2::SecurityGroup'],
          InputParameters: JSON.stringify({ ExecutionRoleName: 'sg-egress-rule-member' }),
          MaximumExecutionFrequency: 'TwentyFour_Hours',
        }),
        ExcludedAccounts: ['111122223333'],
      });
    }
  });

  it('the function refuses any other ExecutionRoleName and has reserved concurrency', () => {
    for (const template of Object.values(templates)) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { SG_EGRESS_MODE: 'rule', SG_EGRESS_EXECUTION_ROLE_NAME: 'sg-egress-rule-member' } },
        ReservedConcurrentExecutions: 20,
      });
    }
  });

  it('no name collides between regions (IAM names are global to the account)', () => {
    const GLOBAL_NAMES: Record<string, string> = {
      'AWS::IAM::Role': 'RoleName',
      'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
      'AWS::IAM::InstanceProfile': 'InstanceProfileName',
      'AWS::S3::Bucket': 'BucketName',
    };
    const names = [...Object.values(templates), membersTemplate!].flatMap((t) =>
      Object.values(t.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>)
        .filter((r) => GLOBAL_NAMES[r.Type] !== undefined && r.Properties?.[GLOBAL_NAMES[r.Type]] !== undefined)
        .map((r) => `${r.Type} ${JSON.stringify(r.Properties![GLOBAL_NAMES[r.Type]])}`),
    );
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
    assert.deepEqual(names.sort(), ['AWS::IAM::Role "sg-egress-rule-function-eu-west-1"', 'AWS::IAM::Role "sg-egress-rule-function-us-east-1"']);
  });

  it('lets member accounts’ Config invoke the function, and assumes only the member role inside the organization', () => {
    for (const template of Object.values(templates)) {
      template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'config.amazonaws.com', SourceAccount: Match.absent() });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:ResourceOrgID': 'o-abcdefghij' } },
              Resource: { 'Fn::Join': ['', Match.arrayWith([':iam::*:role/sg-egress-rule-member'])] },
            }),
          ]),
        },
      });
    }
  });

  it('the StackSet: service-managed, auto-deployed, CallAs SELF, one region, the root by default, excluded accounts left out', () => {
    assert.ok(membersTemplate);
    membersTemplate.hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      // SOFT: 25% of the accounts at a time (STRICT would cap it at the failure tolerance + 1).
      OperationPreferences: {
        ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        FailureTolerancePercentage: 10,
        MaxConcurrentPercentage: 25,
        RegionConcurrencyType: 'PARALLEL',
      },
      Parameters: [{ ParameterKey: 'AdministratorAccountId', ParameterValue: { Ref: 'AWS::AccountId' } }],
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            OrganizationalUnitIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('OrganizationRoot'), 'Roots.0.Id'] }],
            AccountFilterType: 'DIFFERENCE',
            Accounts: ['111122223333'],
          },
          Regions: ['us-east-1'],
        },
      ],
    });
    // The root is read at deploy time (an offline synth cannot know it).
    membersTemplate.hasResourceProperties('Custom::AWS', {
      Create: Match.serializedJson(Match.objectLike({ service: 'Organizations', action: 'ListRoots' })),
    });
  });

  it('from a delegated administrator: CallAs DELEGATED_ADMIN, the given OUs, no member role in the administrator account', () => {
    const { membersTemplate } = synth({ ...ORG, delegatedAdmin: true, managementAccountId: '999988887777', targetOus: ['ou-ab12-abcdefgh', 'r-ab12'] });
    membersTemplate!.hasResourceProperties('AWS::CloudFormation::StackSet', {
      CallAs: 'DELEGATED_ADMIN',
      StackInstancesGroup: [
        {
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-abcdefgh', 'r-ab12'], AccountFilterType: 'DIFFERENCE', Accounts: [{ Ref: 'AWS::AccountId' }] },
          Regions: ['us-east-1'],
        },
      ],
    });
    membersTemplate!.resourceCountIs('Custom::AWS', 0);
  });

  it('the member template needs no CDK bootstrap: no BootstrapVersion, no rules, no assets, no CDK metadata', () => {
    assert.ok(memberTemplate);
    const json = memberTemplate.toJSON();
    assert.deepEqual(Object.keys(json.Parameters), ['AdministratorAccountId']);
    assert.equal(json.Rules, undefined);
    assert.equal(json.Metadata, undefined);
    assert.deepEqual(Object.values(json.Resources as Record<string, { Type: string }>).map((r) => r.Type), ['AWS::IAM::Role']);
    const text = JSON.stringify(json);
    for (const artefact of ['BootstrapVersion', 'CheckBootstrapVersion', 'cdk-hnb659fds', 'AWS::CDK::Metadata', 'aws:cdk', 'AssetParameters']) {
      assert.ok(!text.includes(artefact), `the member template mentions ${artefact}`);
    }
  });

  it('the member role trusts the administrator account’s function roles by name pattern, inside the organization only', () => {
    memberTemplate!.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'sg-egress-rule-member',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            // The account, not a role ARN: recreating a function role does not break the trust.
            Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AdministratorAccountId}:root' } },
            Condition: {
              ArnLike: { 'aws:PrincipalArn': { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AdministratorAccountId}:role/sg-egress-rule-function-*' } },
              StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' },
            },
          },
        ],
      },
    });
  });

  it('every region’s function role, as synthesized, is one the member role trusts (aws:PrincipalArn)', () => {
    const admin = '111122223333';
    const statement = Object.values(memberTemplate!.findResources('AWS::IAM::Role'))[0].Properties.AssumeRolePolicyDocument.Statement[0];
    const pattern = trustedPrincipalPattern(statement.Condition.ArnLike['aws:PrincipalArn']['Fn::Sub'], admin);
    assert.equal(Object.keys(templates).length, REGIONS.length);
    for (const [id, template] of Object.entries(templates)) {
      const role = template.toJSON().Resources[functionRole(template, 'rule')];
      const roleName = role.Properties.RoleName;
      assert.equal(typeof roleName, 'string', `${id}: the function role has a fixed name`);
      assert.match(`arn:aws:iam::${admin}:role/${roleName}`, pattern, `${id}: ${roleName} is not trusted`);
      // And a role of another account, or another name, is not.
      assert.doesNotMatch(`arn:aws:iam::444455556666:role/${roleName}`, pattern);
      assert.doesNotMatch(`arn:aws:iam::${admin}:role/x-${roleName}`, pattern);
    }
  });

  it('the member role grants what the function calls in a member account, exposure reads included, action by action', () => {
    const role = Object.values(memberTemplate!.findResources('AWS::IAM::Role'))[0];
    const statements = role.Properties.Policies[0].PolicyDocument.Statement as Array<{ Effect: string; Action: string[]; Resource: unknown }>;
    assert.deepEqual(
      statements.map((s) => ({ Effect: s.Effect, Action: s.Action, Resource: s.Resource })),
      [
        {
          Effect: 'Allow',
          Action: [
            'config:GetResourceConfigHistory',
            'config:PutEvaluations',
            // Effective exposure of open groups (ExposureMode): the network around them.
            'ec2:DescribeEgressOnlyInternetGateways',
            'ec2:DescribeInternetGateways',
            'ec2:DescribeNatGateways',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeRouteTables',
            'ec2:DescribeSecurityGroups',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: ['config:GetComplianceDetailsByConfigRule'],
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:config:*:${AWS::AccountId}:config-rule/*' },
        },
        { Effect: 'Allow', Action: ['ec2:GetManagedPrefixListEntries'], Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:*:*:prefix-list/*' } },
      ],
    );
  });

  it('member permissions hold in every listed region, and no other: no ARN names a region', () => {
    const role = Object.values(memberTemplate!.findResources('AWS::IAM::Role'))[0];
    const statements = role.Properties.Policies[0].PolicyDocument.Statement as Array<{ Resource: unknown; Condition: unknown }>;
    assert.ok(statements.length > 0);
    for (const statement of statements) {
      const resource = JSON.stringify(statement.Resource);
      assert.ok(!resource.includes('AWS::Region'), `${resource} names the stack's region`);
      for (const region of REGIONS) assert.ok(!resource.includes(region), `${resource} names ${region}`);
      assert.deepEqual(statement.Condition, { StringEquals: { 'aws:RequestedRegion': REGIONS } });
    }
  });

  it('function only: the function, its permission and the StackSet, but no organization rule (a pack supplies it)', () => {
    const { template, membersTemplate } = synth({ ...ORG, functionOnly: true });
    template.resourceCountIs('AWS::Config::OrganizationConfigRule', 0);
    template.resourceCountIs('AWS::Config::ConfigRule', 0);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SG_EGRESS_EXECUTION_ROLE_NAME: 'sg-egress-rule-member' }) } });
    membersTemplate!.resourceCountIs('AWS::CloudFormation::StackSet', 1);
  });
});

describe('delegated administrator: the member role in the management account', () => {
  const DELEGATED = { ...ORG, regions: 'us-east-1,eu-west-1', delegatedAdmin: true, managementAccountId: '999988887777' };
  const built = synth(DELEGATED);
  const manifestOf = (files: string[]) =>
    JSON.parse(fs.readFileSync(path.join(path.dirname(files[0]), 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string; properties?: Record<string, unknown>; dependencies?: string[] }>;
    };

  it('a stack bound to the management account and the first listed region deploys exactly the member template', () => {
    const stack = built.managementStack;
    assert.ok(stack, 'no management stack');
    assert.equal(stack.node.id, 'SgEgressRuleManagementMemberRole');
    assert.equal(stack.account, '999988887777');
    assert.equal(stack.region, 'us-east-1');
    assert.deepEqual(stack.dependencies, []);
    for (const other of [...built.stacks, built.membersStack!]) assert.ok(!other.dependencies.includes(stack));
    const file = built.files.find((f) => path.basename(f) === 'SgEgressRuleManagementMemberRole.template.json');
    assert.ok(file);
    // The same template the StackSet deploys to member accounts (trust, permissions, regions), nothing more.
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), built.memberTemplate!.toJSON());
  });

  it('needs no CDK bootstrap in the management account: no bootstrap parameter, rule, role, bucket or asset', () => {
    const manifest = manifestOf(built.files);
    const artifact = manifest.artifacts.SgEgressRuleManagementMemberRole;
    assert.equal(artifact.type, 'aws:cloudformation:stack');
    assert.equal(artifact.environment, 'aws://999988887777/us-east-1');
    const BOOTSTRAP_PROPERTIES = [
      'assumeRoleArn',
      'cloudFormationExecutionRoleArn',
      'requiresBootstrapStackVersion',
      'bootstrapStackVersionSsmParameter',
      'stackTemplateAssetObjectUrl',
      'lookupRole',
    ];
    for (const key of BOOTSTRAP_PROPERTIES) assert.equal(artifact.properties?.[key], undefined, `the artifact has ${key}`);
    assert.deepEqual(artifact.dependencies ?? [], [], 'no asset manifest to publish');
    assert.equal(manifest.artifacts['SgEgressRuleManagementMemberRole.assets'], undefined);
    const file = built.files.find((f) => path.basename(f) === 'SgEgressRuleManagementMemberRole.template.json')!;
    const text = fs.readFileSync(file, 'utf8');
    const json = JSON.parse(text);
    assert.deepEqual(Object.keys(json.Parameters), ['AdministratorAccountId']);
    assert.equal(json.Rules, undefined);
    for (const artefact of ['BootstrapVersion', 'CheckBootstrapVersion', 'cdk-hnb659fds', 'AWS::CDK::Metadata', 'aws:cdk', 'AssetParameters']) {
      assert.ok(!text.includes(artefact), `the management template mentions ${artefact}`);
    }
    // The check sees bootstrap needs where they are: the region stacks have them.
    const region = manifest.artifacts['SgEgressRule-us-east-1'];
    assert.ok(region.properties?.assumeRoleArn !== undefined && region.properties?.requiresBootstrapStackVersion !== undefined);
  });

  it('none from the management account itself (its own credentials), nor when the management account is excluded', () => {
    assert.equal(synth({ ...ORG }).managementStack, undefined);
    const excluded = synth({ ...DELEGATED, excludedAccounts: '999988887777' });
    assert.equal(excluded.managementStack, undefined);
    excluded.template.hasResourceProperties('AWS::Config::OrganizationConfigRule', { ExcludedAccounts: ['999988887777'] });
  });
});

describe('excludedAccounts within AWS Config’s 1,000', () => {
  const accounts = (n: number) => Array.from({ length: n }, (_, i) => String(100000000000 + i)).join(',');

  it('1,000 accounts pass; 1,001 stop the synth naming the key', () => {
    const { template } = synth({ ...ORG, excludedAccounts: accounts(1000) });
    const rule = Object.values(template.findResources('AWS::Config::OrganizationConfigRule'))[0];
    assert.equal(rule.Properties.ExcludedAccounts.length, 1000);
    assert.throws(
      () => synth({ ...ORG, excludedAccounts: accounts(1001) }),
      /^Error: context excludedAccounts: 1001 accounts listed, and AWS Config's ExcludedAccounts takes at most 1000$/,
    );
  });
});

describe('function only, single account', () => {
  it('deploys the function, its invoke permission and the runbook, but no rule and no remediation configuration', () => {
    const { template } = synth({ functionOnly: true, remediation: true });
    template.resourceCountIs('AWS::Config::ConfigRule', 0);
    template.resourceCountIs('AWS::Config::RemediationConfiguration', 0);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.resourceCountIs('AWS::SSM::Document', 1);
    template.hasOutput('RuleFunctionArn', {});
    template.hasOutput('RemediationRunbook', {});
    template.hasOutput('AutomationAssumeRoleArn', {});
  });
});

describe('failures are visible', () => {
  const { template } = synth({ alarmTopicName: 'security-alerts' });

  it('Config’s asynchronous invocations that fail land in an encrypted queue', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue', () => true);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
    // TLS only.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('alarms on the function’s errors and on the queue, notifying the topic', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ 'Fn::Join': ['', Match.arrayWith([':sns:', ':security-alerts'])] }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
  });

  it('the remediation function’s errors (refusals included) alarm too', () => {
    const { template } = synth({ remediation: true });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === 'Errors');
    assert.equal(alarms.length, 2);
  });
});

describe('InputParameters within AWS Config’s 1,024 characters', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `sg-${i.toString(16).padStart(17, '0')}`).join(',');

  it('a long list passes until it is over, then the synth stops naming the key and the parameter', () => {
    synth({ ruleParameters: { ExemptGroupIds: ids(45) } });
    assert.throws(
      () => synth({ ruleParameters: { ExemptGroupIds: ids(60) } }),
      /context ruleParameters: InputParameters would be 1280 characters and AWS Config accepts at most 1024; the largest is ExemptGroupIds/,
    );
  });

  it('counts ExecutionRoleName in organization mode', () => {
    const fits = ids(45);
    assert.ok(JSON.stringify({ ExemptGroupIds: fits }).length <= 1024);
    assert.throws(
      () => synth({ ...ORG, memberRoleName: 'm'.repeat(64), ruleParameters: { ExemptGroupIds: ids(46) } }),
      (e: Error) => {
        assert.equal(
          e.message,
          'context ruleParameters: InputParameters would be 1073 characters and AWS Config accepts at most 1024; ' +
            'the largest is ExemptGroupIds (965 characters): exempt by tag or VPC instead of listing groups one by one',
        );
        return true;
      },
    );
  });
});

describe('packaging', () => {
  /** The S3 key (asset hash) of each function's code. */
  function assetKeys(template: Template): string[] {
    return Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Code.S3Key)
      .filter((k) => k !== undefined);
  }

  it('arm64 and x86_64 give different assets (RustFunction builds with --arm64 or --x86-64)', () => {
    const arm = assetKeys(synth({ architecture: 'arm64' }).template);
    const x86 = assetKeys(synth({ architecture: 'x86_64' }).template);
    assert.equal(arm.length, 1);
    assert.notDeepEqual(arm, x86);
    // The same architecture gives the same asset.
    assert.deepEqual(assetKeys(synth({ architecture: 'arm64' }).template), arm);
  });

  it('bundling for real: cargo lambda is run with the architecture’s flag, and the built binaries differ', () => {
    // A stand-in `cargo` that answers `cargo lambda --version` and writes a
    // bootstrap whose ELF header names the target, as cargo lambda would.
    const bin = tempDir('fake-cargo');
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(
      path.join(bin, 'cargo'),
      `#!/bin/sh\necho "$@" >> '${log}'\n[ "$2" = "--version" ] && { echo "cargo-lambda 1.0.0"; exit 0; }\n` +
        `out=""; machine=62; prev=""\nfor a in "$@"; do [ "$prev" = "--lambda-dir" ] && out="$a"; [ "$a" = "--arm64" ] && machine=183; prev="$a"; done\n` +
        `node -e 'const b=Buffer.alloc(64);b.writeUInt32BE(0x7f454c46,0);b[4]=2;b[5]=1;b.writeUInt16LE(Number(process.argv[2]),18);require("fs").writeFileSync(process.argv[1],b)' "$out/bootstrap" $machine\n`,
      { mode: 0o755 },
    );
    const pathBefore = process.env.PATH;
    process.env.PATH = `${bin}:${pathBefore}`;
    // RustFunction remembers, once per process, whether cargo lambda runs here.
    Bundling.clearRunsLocallyCache();
    try {
      const keys = (['arm64', 'x86_64'] as const).map((architecture) => {
        const outdir = tempDir('bundle');
        const app = new App({ outdir, context: { architecture } });
        const built = buildApp(app);
        app.synth();
        return assetKeys(Template.fromStack(built.stack));
      });
      assert.notDeepEqual(keys[0], keys[1]);
      const calls = fs.readFileSync(log, 'utf8');
      assert.match(calls, /lambda build .*--release.*--arm64.*--bin sg-egress-rule/);
      assert.match(calls, /lambda build .*--release.*--x86-64.*--bin sg-egress-rule/);
    } finally {
      process.env.PATH = pathBefore;
      Bundling.clearRunsLocallyCache();
    }
  });

  it('a prebuilt bootstrap must be built for the architecture (ELF e_machine)', () => {
    const dir = tempDir('code');
    fs.writeFileSync(path.join(dir, 'bootstrap'), fakeElf(62));
    synth({ functionCodePath: dir, architecture: 'x86_64' });
    assert.throws(() => synth({ functionCodePath: dir, architecture: 'arm64' }), /context functionCodePath: .*bootstrap cannot run on arm64 \(ELF e_machine 183\): it is built for x86_64\. Build it with cargo lambda build --release --arm64/);
    fs.writeFileSync(path.join(dir, 'bootstrap'), 'not a binary');
    assert.throws(() => synth({ functionCodePath: dir, architecture: 'x86_64' }), /cannot run on x86_64 \(ELF e_machine 62\): it is not an ELF executable/);
  });
});
