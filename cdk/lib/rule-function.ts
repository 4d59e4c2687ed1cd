/**
 * One deployment of the Rust binary: the function, its log group and its
 * role, with exactly the IAM actions that mode of the binary calls.
 */
import { Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REMEDIATION_FUNCTION_ACTIONS, RULE_FUNCTION_ACTIONS } from './definitions';

export interface RuleFunctionProps {
  readonly code: lambda.Code;
  readonly mode: 'rule' | 'remediation';
  readonly architecture: 'arm64' | 'x86_64';
  readonly logRetentionDays: number;
  /** A fixed role name (organization mode: member roles trust it by name). */
  readonly roleName?: string;
  /** The rule's InputParameters, for the remediation to judge as the rule does. */
  readonly ruleParameters?: Record<string, string>;
}

/** The resource each action can be scoped to, in this account and region. */
export function resourcesFor(action: string, stack: Stack): string[] {
  const scopes: Record<string, string> = { ...RULE_FUNCTION_ACTIONS, ...REMEDIATION_FUNCTION_ACTIONS };
  const scope = scopes[action];
  switch (scope) {
    case 'the rule':
      return [`arn:${Aws.PARTITION}:config:${Aws.REGION}:${Aws.ACCOUNT_ID}:config-rule/*`];
    case 'prefix lists':
      // Lists owned by this account, shared with it, or managed by AWS.
      return [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:*:prefix-list/*`];
    case 'security groups':
      return [`arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:security-group/*`];
    case 'no resource-level permissions':
      return ['*'];
    default:
      throw new Error(`${action} has no scope in definitions.ts (${stack.stackName})`);
  }
}

/** One statement per resource scope, granting exactly `actions`. */
export function actionStatements(actions: Record<string, string>, stack: Stack): iam.PolicyStatement[] {
  const byResource = new Map<string, string[]>();
  for (const action of Object.keys(actions)) {
    const key = JSON.stringify(resourcesFor(action, stack));
    byResource.set(key, [...(byResource.get(key) ?? []), action]);
  }
  return [...byResource].map(
    ([resources, grouped]) => new iam.PolicyStatement({ actions: grouped.sort(), resources: JSON.parse(resources) }),
  );
}

/** Why each scope is as narrow as IAM allows, for cdk-nag's AwsSolutions-IAM5. */
const SCOPE_REASONS: Record<string, [string, string]> = {
  'no resource-level permissions': [
    'Resource::*',
    'These actions (ec2:Describe*, config:PutEvaluations, config:GetResourceConfigHistory) support no resource-level permissions.',
  ],
  'the rule': [
    'Resource::arn:<AWS::Partition>:config:<AWS::Region>:<AWS::AccountId>:config-rule/*',
    'Config assigns the rule id at creation, after this policy exists; config-rule/* in this account and region is the narrowest ARN.',
  ],
  'prefix lists': [
    'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:prefix-list/*',
    'Security groups may reference prefix lists owned by this account, shared with it, or managed by AWS; the action only reads entries.',
  ],
  'security groups': [
    'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*',
    'Remediation acts on whichever group Config finds non-compliant in this account and region, and the runbook alone can invoke it.',
  ],
};

/** Acknowledges, with its reason, each wildcard scope the actions need. */
export function acknowledgeScopes(scope: Construct, actions: Record<string, string>): void {
  for (const kind of new Set(Object.values(actions))) {
    const [finding, reason] = SCOPE_REASONS[kind];
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}

export class RuleFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RuleFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      roleName: props.roleName,
      description: `sg-egress-rule ${props.mode} function`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'Logs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const actions = props.mode === 'rule' ? RULE_FUNCTION_ACTIONS : REMEDIATION_FUNCTION_ACTIONS;
    actionStatements(actions, stack).forEach((statement) => this.role.addToPolicy(statement));
    acknowledgeScopes(this.role, actions);
    this.function = new lambda.Function(this, 'Function', {
      description:
        props.mode === 'rule'
          ? 'AWS Config rule: security groups whose egress opens all traffic, all TCP or all UDP ports to the internet'
          : 'Remediation of sg-egress-rule findings: revokes the open egress rules (invoked by the SSM runbook)',
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      code: props.code,
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: 256,
      timeout: props.mode === 'rule' ? Duration.minutes(5) : Duration.minutes(1),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        SG_EGRESS_MODE: props.mode,
        ...(props.mode === 'remediation' ? { SG_EGRESS_RULE_PARAMETERS: JSON.stringify(props.ruleParameters ?? {}) } : {}),
      },
    });
  }
}
