/**
 * The rule's definitions, in one place: the parameter names of the contract,
 * the triggers, the IAM actions the Rust code calls, and the remediation
 * runbook. The stacks and the conformance pack are both generated from these,
 * so they cannot drift apart.
 */

/** The resource type the rule evaluates. */
export const RESOURCE_TYPE = 'AWS::EC2::SecurityGroup';

/** InputParameters names and types, exactly as SPEC.md defines them. */
export const PARAMETERS = {
  CheckIpv6: 'boolean',
  ExemptGroupIds: 'sg-ids',
  ExemptVpcIds: 'vpc-ids',
  ExemptTagKey: 'string',
  IgnoreUnusedGroups: 'boolean',
  ResolvePrefixLists: 'boolean',
  ExecutionRoleName: 'role-name',
} as const;

export type ParameterName = keyof typeof PARAMETERS;

/** Valid periods of the scheduled sweep. */
export const FREQUENCIES = ['One_Hour', 'Three_Hours', 'Six_Hours', 'Twelve_Hours', 'TwentyFour_Hours'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** Config message types that trigger the function. */
export const TRIGGERS = [
  'ConfigurationItemChangeNotification',
  'OversizedConfigurationItemChangeNotification',
  'ScheduledNotification',
] as const;

/**
 * The IAM actions the rule function calls (src/aws/ec2.rs, src/aws/config.rs),
 * and where each can be scoped. `sts:AssumeRole` is added only in
 * organization mode.
 */
export const RULE_FUNCTION_ACTIONS = {
  'config:PutEvaluations': 'no resource-level permissions',
  'config:GetResourceConfigHistory': 'no resource-level permissions',
  'config:GetComplianceDetailsByConfigRule': 'the rule',
  'ec2:DescribeSecurityGroups': 'no resource-level permissions',
  'ec2:DescribeNetworkInterfaces': 'no resource-level permissions',
  'ec2:GetManagedPrefixListEntries': 'prefix lists',
} as const;

/** The IAM actions the remediation function calls (src/aws/remediate.rs, src/aws/ec2.rs). */
export const REMEDIATION_FUNCTION_ACTIONS = {
  'ec2:DescribeSecurityGroups': 'no resource-level permissions',
  'ec2:DescribeSecurityGroupRules': 'no resource-level permissions',
  'ec2:GetManagedPrefixListEntries': 'prefix lists',
  'ec2:AuthorizeSecurityGroupEgress': 'security groups',
  'ec2:RevokeSecurityGroupEgress': 'security groups',
} as const;

/** Parameters of the remediation runbook. */
export interface RunbookOptions {
  /** ARN of the remediation function the runbook invokes. */
  readonly functionArn: string;
}

/** The SSM Automation document (schema 0.3) that invokes the remediation function. */
export function runbookContent(options: RunbookOptions): Record<string, unknown> {
  return {
    schemaVersion: '0.3',
    description:
      'Revokes the egress rules that open a security group to the whole internet (all traffic, all TCP or all UDP ports), ' +
      'as decided by the sg-egress-rule Config rule. Dry run by default. Refuses, changing nothing, when the group is open ' +
      'only through a combination of narrower rules that no single revocation closes.',
    assumeRole: '{{ AutomationAssumeRole }}',
    parameters: {
      GroupId: {
        type: 'String',
        description: 'The security group to remediate (the Config resource id).',
        allowedPattern: '^sg-[0-9a-f]{8,17}$',
      },
      DryRun: {
        type: 'Boolean',
        description: 'Report what would be revoked without revoking.',
        default: true,
      },
      KeepEgress: {
        type: 'String',
        description: 'Narrower rules to add back to the same destinations before revoking, e.g. tcp:443,tcp:80.',
        default: '',
        allowedPattern: '^$|^(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?(,(tcp|udp):[0-9]{1,5}(-[0-9]{1,5})?)*$',
      },
      AutomationAssumeRole: {
        type: 'String',
        description: 'The role the automation assumes; it may only invoke the remediation function.',
        default: '',
      },
    },
    mainSteps: [
      {
        name: 'Remediate',
        action: 'aws:invokeLambdaFunction',
        description: 'Invokes the remediation function, which revokes by SecurityGroupRuleId.',
        inputs: {
          FunctionName: options.functionArn,
          InvocationType: 'RequestResponse',
          InputPayload: { GroupId: '{{ GroupId }}', DryRun: '{{ DryRun }}', KeepEgress: '{{ KeepEgress }}' },
        },
      },
      {
        name: 'FailOnFunctionError',
        action: 'aws:branch',
        description: 'A refusal or an error of the function fails the automation.',
        inputs: {
          Choices: [{ NextStep: 'Refused', Variable: '{{ Remediate.FunctionError }}', StringEquals: 'Unhandled' }],
          Default: 'Done',
        },
      },
      {
        name: 'Refused',
        action: 'aws:executeScript',
        description: 'Fails with the function’s message (nothing was changed).',
        inputs: {
          Runtime: 'python3.11',
          Handler: 'fail',
          Script: 'def fail(events, context):\n    raise Exception(events["Result"])\n',
          InputPayload: { Result: '{{ Remediate.Payload }}' },
        },
        isEnd: true,
      },
      {
        name: 'Done',
        action: 'aws:sleep',
        description: 'The function succeeded; its JSON output lists the revoked and added rules.',
        inputs: { Duration: 'PT1S' },
        isEnd: true,
      },
    ],
    outputs: ['Remediate.Payload'],
  };
}

/** What the rule's CloudFormation properties are built from. */
export interface RuleDefinition {
  readonly ruleName: string;
  /** The rule function's ARN (a token or a template reference). */
  readonly functionArn: unknown;
  readonly maximumExecutionFrequency: Frequency;
  /** InputParameters, values as strings. */
  readonly inputParameters: Record<string, string>;
}

/** `AWS::Config::ConfigRule` properties (template form, PascalCase). */
export function configRuleProperties(rule: RuleDefinition): Record<string, unknown> {
  return {
    ConfigRuleName: rule.ruleName,
    Description:
      'Security groups whose egress opens all traffic, all TCP ports or all UDP ports to the whole IPv4 or IPv6 internet. ' +
      'Recommended action: restrict egress to only the addresses, ranges and ports that require it.',
    Scope: { ComplianceResourceTypes: [RESOURCE_TYPE] },
    Source: {
      Owner: 'CUSTOM_LAMBDA',
      SourceIdentifier: rule.functionArn,
      SourceDetails: TRIGGERS.map((messageType) => ({
        EventSource: 'aws.config',
        MessageType: messageType,
        ...(messageType === 'ScheduledNotification' ? { MaximumExecutionFrequency: rule.maximumExecutionFrequency } : {}),
      })),
    },
    InputParameters: rule.inputParameters,
  };
}

/** `AWS::Config::OrganizationConfigRule` properties. */
export function organizationRuleProperties(rule: RuleDefinition, excludedAccounts: string[]): Record<string, unknown> {
  return {
    OrganizationConfigRuleName: rule.ruleName,
    OrganizationCustomRuleMetadata: {
      Description: (configRuleProperties(rule).Description as string).slice(0, 256),
      LambdaFunctionArn: rule.functionArn,
      OrganizationConfigRuleTriggerTypes: TRIGGERS,
      ResourceTypesScope: [RESOURCE_TYPE],
      InputParameters: JSON.stringify(rule.inputParameters),
      MaximumExecutionFrequency: rule.maximumExecutionFrequency,
    },
    ...(excludedAccounts.length > 0 ? { ExcludedAccounts: excludedAccounts } : {}),
  };
}

/** What the remediation configuration is built from. */
export interface RemediationDefinition {
  readonly ruleName: unknown;
  readonly documentName: unknown;
  readonly automationRoleArn: unknown;
  readonly automatic: boolean;
  readonly dryRun: boolean;
  readonly keepEgress: string;
  readonly maximumAutomaticAttempts: number;
  readonly retryAttemptSeconds: number;
}

/** `AWS::Config::RemediationConfiguration` properties. */
export function remediationProperties(r: RemediationDefinition): Record<string, unknown> {
  return {
    ConfigRuleName: r.ruleName,
    TargetType: 'SSM_DOCUMENT',
    TargetId: r.documentName,
    ResourceType: RESOURCE_TYPE,
    Automatic: r.automatic,
    MaximumAutomaticAttempts: r.maximumAutomaticAttempts,
    RetryAttemptSeconds: r.retryAttemptSeconds,
    Parameters: {
      GroupId: { ResourceValue: { Value: 'RESOURCE_ID' } },
      DryRun: { StaticValue: { Values: [String(r.dryRun)] } },
      ...(r.keepEgress !== '' ? { KeepEgress: { StaticValue: { Values: [r.keepEgress] } } } : {}),
      AutomationAssumeRole: { StaticValue: { Values: [r.automationRoleArn] } },
    },
  };
}
