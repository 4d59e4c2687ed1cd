/** Builds the whole app from its context: used by bin/app.ts and by the tests. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MemberRoleStack } from './member-role-stack';
import { readSettings, Settings } from './settings';
import { functionRoleName, SgEgressRuleStack } from './stack';

export interface BuiltApp {
  readonly settings: Settings;
  readonly stack: SgEgressRuleStack;
  readonly memberRoleStack?: MemberRoleStack;
}

export function buildApp(app: App): BuiltApp {
  const settings = readSettings(app.node);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stack = new SgEgressRuleStack(app, 'SgEgressRule', { settings, env, description: 'sg-egress-rule: AWS Config custom rule' });
  const memberRoleStack = settings.organization
    ? new MemberRoleStack(app, 'SgEgressRuleMemberRole', {
        memberRoleName: settings.memberRoleName,
        functionRoleName: functionRoleName(settings.ruleName),
        description: 'sg-egress-rule: member-account role for the organization rule (deploy with StackSets)',
      })
    : undefined;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { settings, stack, memberRoleStack };
}
