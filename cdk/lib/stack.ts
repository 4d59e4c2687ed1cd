/**
 * One region's stack: the rule function, the Config rule (or, with
 * functionOnly, only the permission a conformance pack's rule needs),
 * optional remediation, and the optional CloudFormation hooks.
 */
import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { EgressConfigRule } from './config-rule';
import { FUNCTION_ENVIRONMENT, ORGANIZATION_FUNCTION_ACTIONS } from './definitions';
import { EgressHook } from './hook';
import { EgressRemediation } from './remediation';
import { RuleFunction } from './rule-function';
import { Settings } from './settings';

export interface SgEgressRuleStackProps extends StackProps {
  readonly settings: Settings;
}

/**
 * The prefix of the organization function roles' names, which member roles
 * trust (IAM names are global to an account, so each region's role has its own).
 */
export function functionRoleNamePrefix(ruleName: string): string {
  return `${ruleName}-function-`;
}

/** The organization function role's name in one region. */
export function functionRoleName(ruleName: string, region: string): string {
  return `${functionRoleNamePrefix(ruleName)}${region}`;
}

export class SgEgressRuleStack extends Stack {
  readonly ruleFunction: RuleFunction;
  readonly configRule: EgressConfigRule;
  readonly remediation?: EgressRemediation;
  readonly hook?: EgressHook;

  constructor(scope: Construct, id: string, props: SgEgressRuleStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    const organization = settings.organization && settings.organizationId !== undefined;
    if (settings.organization && (props.env?.region === undefined || settings.organizationId === undefined)) {
      throw new Error('an organization stack is bound to a region and needs organizationId');
    }
    this.ruleFunction = new RuleFunction(this, 'RuleFunction', {
      mode: 'rule',
      architecture: settings.architecture,
      functionCodePath: settings.functionCodePath,
      logRetentionDays: settings.logRetentionDays,
      alarmTopicName: settings.alarmTopicName,
      roleName: organization ? functionRoleName(settings.ruleName, props.env!.region!) : undefined,
      reservedConcurrency: organization ? settings.reservedConcurrency : undefined,
      // The function refuses events whose ExecutionRoleName is another role.
      environment: organization ? { [FUNCTION_ENVIRONMENT.executionRoleName]: settings.memberRoleName } : {},
    });
    if (organization) {
      // Each member account's role, and only roles inside the organization.
      this.ruleFunction.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeMemberRole',
          actions: Object.keys(ORGANIZATION_FUNCTION_ACTIONS),
          resources: [`arn:${this.partition}:iam::*:role/${settings.memberRoleName}`],
          conditions: { StringEquals: { 'aws:ResourceOrgID': settings.organizationId } },
        }),
      );
      Validations.of(this.ruleFunction.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${settings.memberRoleName}]`,
        reason: 'The member role exists in every account of the organization; aws:ResourceOrgID limits it to roles inside the organization.',
      });
    }
    this.configRule = new EgressConfigRule(this, 'ConfigRule', settings, this.ruleFunction.function);
    if (settings.remediation) {
      this.remediation = new EgressRemediation(this, 'Remediation', settings, this.configRule.rule);
      new CfnOutput(this, 'RemediationRunbook', { value: this.remediation.document.ref });
      new CfnOutput(this, 'AutomationAssumeRoleArn', { value: this.remediation.automationRole.roleArn });
    }
    if (settings.hook) {
      if (organization) throw new Error('the hooks are for one account (settings refuse hook with organization)');
      this.hook = new EgressHook(this, 'Hook', settings);
      new CfnOutput(this, 'ResourceHookArn', { value: this.hook.resourceHook.attrHookArn });
      new CfnOutput(this, 'StackHookArn', { value: this.hook.stackHook.attrHookArn });
      new CfnOutput(this, 'HookFunctionArn', { value: this.hook.function.function.functionArn });
    }
    new CfnOutput(this, 'RuleFunctionArn', { value: this.ruleFunction.function.functionArn });
    new CfnOutput(this, 'RuleFunctionRoleArn', { value: this.ruleFunction.role.roleArn });
    if (this.ruleFunction.failedInvocations) {
      new CfnOutput(this, 'FailedInvocationsQueueUrl', { value: this.ruleFunction.failedInvocations.queueUrl });
    }
  }
}
