/**
 * Builds the whole app from its context: used by bin/app.ts and by the tests.
 *
 * - No `regions`: one stack, `SgEgressRule`, for the CLI's account and region.
 * - `regions`: one stack per region, `SgEgressRule-<region>`, bound to it.
 * - Organization mode (needs `regions`): those stacks hold the function and an
 *   OrganizationConfigRule each, and `SgEgressRuleMembers` (in the first
 *   listed region) holds the StackSet of the member role; the region stacks
 *   depend on it, so `cdk deploy --all` deploys the member roles first.
 * - Organization mode from a delegated administrator (`delegatedAdmin`):
 *   also `SgEgressRuleManagementMemberRole`, bound to `managementAccountId`
 *   and the first listed region: the member role in the management account,
 *   where StackSets never deploy but the organization rule runs (unless it is
 *   in `excludedAccounts`). It is deployed with that account's credentials
 *   and needs no CDK bootstrap there (management-stack.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MANAGEMENT_STACK_ID, ManagementMemberRoleStack } from './management-stack';
import { MembersStack } from './members-stack';
import { readSettings, Settings, SettingsError } from './settings';
import { functionRoleName, functionRoleNamePrefix, SgEgressRuleStack } from './stack';

export interface BuiltApp {
  readonly settings: Settings;
  /** One per region (or the one region-agnostic stack). */
  readonly stacks: SgEgressRuleStack[];
  /** The first of `stacks`. */
  readonly stack: SgEgressRuleStack;
  readonly membersStack?: MembersStack;
  /** Delegated administrator mode: the member role in the management account. */
  readonly managementStack?: ManagementMemberRoleStack;
}

/** The id of a region's stack. */
export function stackId(region: string | undefined): string {
  return region === undefined ? 'SgEgressRule' : `SgEgressRule-${region}`;
}

export function buildApp(app: App): BuiltApp {
  const settings = readSettings(app.node);
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  if (settings.organization) {
    const longest = settings.regions.map((r) => functionRoleName(settings.ruleName, r)).sort((a, b) => b.length - a.length)[0];
    if (longest.length > 64) {
      throw new SettingsError(`context ruleName: the function role name ${longest} would be over IAM's 64 characters; choose a shorter ruleName`);
    }
  }
  const membersStack = settings.organization
    ? new MembersStack(app, 'SgEgressRuleMembers', {
        settings,
        functionRoleNamePrefix: functionRoleNamePrefix(settings.ruleName),
        env: { account, region: settings.regions[0] },
        description: 'sg-egress-rule: the member-account role, deployed to the organization by a StackSet',
      })
    : undefined;
  // The management account is excluded from the organization rule, or gets the member role.
  const managementStack =
    membersStack && settings.delegatedAdmin && settings.managementAccountId !== undefined && !settings.excludedAccounts.includes(settings.managementAccountId)
      ? new ManagementMemberRoleStack(app, MANAGEMENT_STACK_ID, {
          memberTemplate: membersStack.memberTemplate,
          env: { account: settings.managementAccountId, region: settings.regions[0] },
        })
      : undefined;
  const regions: Array<string | undefined> = settings.regions.length > 0 ? settings.regions : [undefined];
  const stacks = regions.map((region) => {
    const stack = new SgEgressRuleStack(app, stackId(region), {
      settings,
      env: { account, region: region ?? process.env.CDK_DEFAULT_REGION },
      description: `sg-egress-rule: AWS Config custom rule${settings.organization ? ' for the organization' : ''}${settings.functionOnly ? ' (function only)' : ''}`,
    });
    if (membersStack) stack.addStackDependency(membersStack, 'member roles exist before the organization rule invokes the function');
    return stack;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { settings, stacks, stack: stacks[0], membersStack, managementStack };
}
