/** The stack: the rule function, the Config rule, and optional remediation. */
import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EgressConfigRule } from './config-rule';
import { functionCode } from './function-code';
import { EgressRemediation } from './remediation';
import { RuleFunction } from './rule-function';
import { Settings } from './settings';
import * as iam from 'aws-cdk-lib/aws-iam';

export interface SgEgressRuleStackProps extends StackProps {
  readonly settings: Settings;
}

/** The function role's name in organization mode, which member roles trust. */
export function functionRoleName(ruleName: string): string {
  return `${ruleName}-function`;
}

export class SgEgressRuleStack extends Stack {
  readonly ruleFunction: RuleFunction;
  readonly configRule: EgressConfigRule;
  readonly remediation?: EgressRemediation;

  constructor(scope: Construct, id: string, props: SgEgressRuleStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    const code = functionCode(settings);
    this.ruleFunction = new RuleFunction(this, 'RuleFunction', {
      code,
      mode: 'rule',
      architecture: settings.architecture,
      logRetentionDays: settings.logRetentionDays,
      roleName: settings.organization ? functionRoleName(settings.ruleName) : undefined,
    });
    if (settings.organization) {
      // Each member account's role, and only roles inside the organization.
      this.ruleFunction.role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeMemberRole',
          actions: ['sts:AssumeRole'],
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
      this.remediation = new EgressRemediation(this, 'Remediation', settings, code, this.configRule.rule);
      new CfnOutput(this, 'RemediationRunbook', { value: this.remediation.document.ref });
    }
    new CfnOutput(this, 'RuleFunctionArn', { value: this.ruleFunction.function.functionArn });
    new CfnOutput(this, 'RuleFunctionRoleArn', { value: this.ruleFunction.role.roleArn });
  }
}
