import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { logicalId, roleActions, synth } from './helpers';

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
    const role = logicalId(template, 'AWS::IAM::Role', (p) => JSON.stringify(p).includes('lambda.amazonaws.com'));
    assert.deepEqual(roleActions(template, role), [
      'config:GetComplianceDetailsByConfigRule',
      'config:GetResourceConfigHistory',
      'config:PutEvaluations',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:GetManagedPrefixListEntries',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } }),
          Match.objectLike({ Action: 'config:GetComplianceDetailsByConfigRule', Resource: { 'Fn::Join': ['', Match.arrayWith([':config-rule/*'])] } }),
          Match.objectLike({ Action: 'ec2:GetManagedPrefixListEntries', Resource: { 'Fn::Join': ['', Match.arrayWith([':*:prefix-list/*'])] } }),
        ]),
      },
    });
    const json = JSON.stringify(template.toJSON());
    assert.ok(!json.includes('ec2:RevokeSecurityGroupEgress'), 'the rule function cannot revoke');
    assert.ok(!/"[a-z0-9]+:\*"/.test(json), 'no action wildcards');
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    assert.ok(!json.includes('ManagedPolicyArns'), 'no managed policies');
  });
});

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

  it('rejects what the function would reject, naming the key', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ruleParameters: { checkIpv6: 'true' } }, /ruleParameters\.checkIpv6: unknown parameter \(did you mean CheckIpv6\?/],
      [{ ruleParameters: { CheckIpv6: 'yes' } }, /ruleParameters\.CheckIpv6: expected true or false/],
      [{ ruleParameters: { ExemptGroupIds: 'sg-1' } }, /ruleParameters\.ExemptGroupIds: "sg-1" is not a valid id/],
      [{ ruleParameters: { ExemptTagKey: 'aws:x' } }, /ruleParameters\.ExemptTagKey: the aws: prefix is reserved/],
      [{ ruleParameters: '{"CheckIpv6": ' }, /ruleParameters: not valid JSON/],
      [{ maximumExecutionFrequency: 'Daily' }, /maximumExecutionFrequency: expected one of/],
      [{ architecture: 'arm' }, /architecture: expected arm64 or x86_64/],
      [{ logRetentionDays: 2 }, /logRetentionDays: expected one of/],
      [{ organization: true }, /organizationId: organization mode needs the organization id/],
      [{ automaticRemediation: true }, /automaticRemediation: needs remediation to be true/],
      [{ remediation: true, organization: true, organizationId: 'o-abcdefghij' }, /remediation: an organization rule cannot carry/],
      [{ remediation: true, remediationKeepEgress: 'https' }, /remediationKeepEgress: expected PROTOCOL:PORT/],
      [{ functionCodePath: '/nonexistent' }, /functionCodePath: \/nonexistent holds no bootstrap/],
    ];
    for (const [context, message] of cases) {
      assert.throws(() => synth(context), message, JSON.stringify(context));
    }
  });
});

describe('with remediation', () => {
  const { template } = synth({ remediation: true, remediationKeepEgress: 'tcp:443,tcp:80' });

  it('deploys the remediation as its own function and role, the only one allowed to revoke', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { SG_EGRESS_MODE: 'remediation', SG_EGRESS_RULE_PARAMETERS: '{}' } },
    });
    const role = logicalId(template, 'AWS::IAM::Role', (p) => p.Description === 'sg-egress-rule remediation function');
    assert.deepEqual(roleActions(template, role), [
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
          Match.objectLike({
            Action: ['ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([':security-group/*'])] },
          }),
        ]),
      },
    });
  });

  it('has a schema 0.3 runbook that invokes the remediation function, dry run by default', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Automation',
      Content: Match.objectLike({
        schemaVersion: '0.3',
        parameters: Match.objectLike({
          GroupId: Match.objectLike({ type: 'String' }),
          DryRun: Match.objectLike({ type: 'Boolean', default: true }),
          KeepEgress: Match.objectLike({ type: 'String', default: '' }),
        }),
        mainSteps: Match.arrayWith([
          Match.objectLike({
            action: 'aws:invokeLambdaFunction',
            inputs: Match.objectLike({
              FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('RemediationFunction'), 'Arn'] },
              InputPayload: { GroupId: '{{ GroupId }}', DryRun: '{{ DryRun }}', KeepEgress: '{{ KeepEgress }}' },
            }),
          }),
        ]),
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

describe('organization', () => {
  const { template, memberTemplate } = synth({ organization: true, organizationId: 'o-abcdefghij', excludedAccounts: ['111122223333'] });

  it('creates an organization rule with the function, the three triggers and ExecutionRoleName', () => {
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
  });

  it('lets member accounts’ Config invoke the function, and assumes only roles inside the organization', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'config.amazonaws.com',
      SourceAccount: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'sg-egress-rule-function' });
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
  });

  it('has a member-role stack for StackSets trusting only the function role', () => {
    assert.ok(memberTemplate);
    memberTemplate.hasParameter('AdministratorAccountId', { Type: 'String', AllowedPattern: '^[0-9]{12}$' });
    memberTemplate.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'sg-egress-rule-member',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([':role/sg-egress-rule-function'])] } },
          }),
        ],
      },
    });
    const role = logicalId(memberTemplate, 'AWS::IAM::Role', () => true);
    assert.deepEqual(roleActions(memberTemplate, role), [
      'config:GetComplianceDetailsByConfigRule',
      'config:GetResourceConfigHistory',
      'config:PutEvaluations',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSecurityGroups',
      'ec2:GetManagedPrefixListEntries',
    ]);
  });
});
