/**
 * The member-account template the StackSet deploys: one role per member
 * account (IAM is global), valid in every region the rule covers, that the
 * organization rule's function assumes (`ExecutionRoleName`).
 *
 * Written as a plain template, not a CDK stack, so that it carries nothing
 * a member account would need CDK for: no BootstrapVersion parameter, no
 * CheckBootstrapVersion rule, no assets, no CDK metadata.
 *
 * Trust: the administrator account (management or delegated administrator)
 * as principal, limited by `aws:PrincipalArn` to the function roles' name
 * pattern and by `aws:PrincipalOrgID` to the organization. A role ARN as
 * principal would be replaced by the role's unique id inside IAM, and
 * recreating the function role would silently break every member; a
 * condition on the ARN survives that.
 */
import { RULE_FUNCTION_ACTIONS, Scope } from './definitions';

export interface MemberTemplateOptions {
  readonly memberRoleName: string;
  /** The function roles' names, one per region, all starting with this prefix. */
  readonly functionRoleNamePrefix: string;
  readonly organizationId: string;
  /** The regions the rule covers: the role's permissions hold there and nowhere else. */
  readonly regions: string[];
}

/** The parameter the StackSet sets to the administrator account's id. */
export const ADMINISTRATOR_ACCOUNT_PARAMETER = 'AdministratorAccountId';

/** Resources of each scope, in any region of the member account. */
function memberResources(scope: Scope): string | Record<string, string> {
  switch (scope) {
    case 'no resource-level permissions':
      return '*';
    case 'the rule':
      return { 'Fn::Sub': 'arn:${AWS::Partition}:config:*:${AWS::AccountId}:config-rule/*' };
    case 'prefix lists':
      return { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:*:*:prefix-list/*' };
    default:
      throw new Error(`the member role grants nothing scoped to ${scope}`);
  }
}

/** Why each wildcard of the member role is as narrow as IAM allows (cdk-nag AwsSolutions-IAM5, checked in the tests). */
export const MEMBER_SCOPE_REASONS: Record<string, string> = {
  'no resource-level permissions':
    'These actions (ec2:Describe*, config:PutEvaluations, config:GetResourceConfigHistory) support no resource-level permissions; aws:RequestedRegion limits them to the rule\'s regions.',
  'the rule':
    'Config assigns rule ids in each member account and region (an organization rule names its member rules itself); config-rule/* of this account, in the rule\'s regions only.',
  'prefix lists':
    'Security groups may reference prefix lists owned by the account, shared with it, or managed by AWS; the action only reads entries, in the rule\'s regions only.',
};

/** cdk-nag's id for the wildcard finding of each scope of the member role (acknowledged with MEMBER_SCOPE_REASONS). */
export const MEMBER_SCOPE_FINDINGS: Record<string, string> = {
  'no resource-level permissions': 'AwsSolutions-IAM5[Resource::*]',
  'the rule': 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:config:*:<AWS::AccountId>:config-rule/*]',
  'prefix lists': 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:*:*:prefix-list/*]',
};

/** The member template, as an object (the StackSet's TemplateBody is its JSON). */
export function memberTemplate(options: MemberTemplateOptions): Record<string, unknown> {
  const byScope = new Map<Scope, string[]>();
  for (const [action, scope] of Object.entries(RULE_FUNCTION_ACTIONS)) {
    byScope.set(scope, [...(byScope.get(scope) ?? []), action]);
  }
  const statements = [...byScope].map(([scope, actions]) => ({
    Effect: 'Allow',
    Action: actions.sort(),
    Resource: memberResources(scope),
    Condition: { StringEquals: { 'aws:RequestedRegion': options.regions } },
  }));
  const admin = `\${${ADMINISTRATOR_ACCOUNT_PARAMETER}}`;
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'sg-egress-rule: the role the organization rule\'s function assumes in this account (deployed by the StackSet; in the management account of a delegated-administrator deployment, by the stack SgEgressRuleManagementMemberRole)',
    Parameters: {
      [ADMINISTRATOR_ACCOUNT_PARAMETER]: {
        Type: 'String',
        AllowedPattern: '^[0-9]{12}$',
        Description: 'The account that holds the rule function (management account or delegated administrator)',
      },
    },
    Resources: {
      MemberRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: options.memberRoleName,
          Description: 'Assumed by the sg-egress-rule function to evaluate this account\'s security groups',
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${admin}:root` } },
                Action: 'sts:AssumeRole',
                Condition: {
                  ArnLike: {
                    'aws:PrincipalArn': { 'Fn::Sub': `arn:\${AWS::Partition}:iam::${admin}:role/${options.functionRoleNamePrefix}*` },
                  },
                  StringEquals: { 'aws:PrincipalOrgID': options.organizationId },
                },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'sg-egress-rule-evaluate',
              PolicyDocument: { Version: '2012-10-17', Statement: statements },
            },
          ],
        },
      },
    },
    Outputs: {
      MemberRoleArn: { Value: { 'Fn::GetAtt': ['MemberRole', 'Arn'] } },
    },
  };
}
