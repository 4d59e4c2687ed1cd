/**
 * Delegated administrator mode: the member role in the management account.
 *
 * The organization rule runs in the management account too (unless it is in
 * `excludedAccounts`), but service-managed StackSets never deploy there, and
 * from a delegated administrator the management account is not the
 * function's own account: the function assumes the member role there as in
 * any member. This stack puts the same member-role template the StackSet
 * deploys (member-template.ts) in the management account.
 *
 * It is deployed with the management account's credentials and needs no CDK
 * bootstrap there: `LegacyStackSynthesizer` deploys with the CLI's current
 * credentials and, for a template this small and with no assets, sends it as
 * the TemplateBody; it adds no BootstrapVersion parameter or rule and names
 * no bootstrap role or bucket. (`CliCredentialsStackSynthesizer` would upload
 * the template to the bootstrap bucket, and `DefaultStackSynthesizer` assumes
 * the bootstrap roles.) The template is exactly the member template: the test
 * compares them.
 *
 * `AdministratorAccountId` stays a parameter (the delegated administrator's
 * account), given at deploy time:
 * `--parameters AdministratorAccountId=<delegated administrator account id>`.
 */
import { CfnOutput, CfnParameter, LegacyStackSynthesizer, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ADMINISTRATOR_ACCOUNT_PARAMETER, MEMBER_SCOPE_FINDINGS, MEMBER_SCOPE_REASONS } from './member-template';

/** The id (and CloudFormation stack name) of the management account's stack. */
export const MANAGEMENT_STACK_ID = 'SgEgressRuleManagementMemberRole';

export interface ManagementMemberRoleStackProps extends Omit<StackProps, 'synthesizer' | 'analyticsReporting' | 'description'> {
  /** The member template (member-template.ts), deployed as it is. */
  readonly memberTemplate: Record<string, unknown>;
}

interface MemberTemplateShape {
  AWSTemplateFormatVersion: string;
  Description: string;
  Parameters: Record<string, { Type: string; AllowedPattern: string; Description: string }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, unknown>;
}

export class ManagementMemberRoleStack extends Stack {
  readonly role: iam.CfnRole;

  constructor(scope: Construct, id: string, props: ManagementMemberRoleStackProps) {
    const template = props.memberTemplate as unknown as MemberTemplateShape;
    super(scope, id, {
      ...props,
      description: template.Description,
      synthesizer: new LegacyStackSynthesizer(),
      // No AWS::CDK::Metadata resource: the template is the member template, nothing more.
      analyticsReporting: false,
    });
    // Nor aws:cdk:path metadata on the resources.
    this.node.setContext('aws:cdk:enable-path-metadata', false);
    this.templateOptions.templateFormatVersion = template.AWSTemplateFormatVersion;

    const resources = Object.entries(template.Resources);
    const parameters = Object.entries(template.Parameters);
    if (resources.length !== 1 || resources[0][1].Type !== 'AWS::IAM::Role' || parameters.length !== 1 || parameters[0][0] !== ADMINISTRATOR_ACCOUNT_PARAMETER) {
      throw new Error('the member template changed shape: update management-stack.ts');
    }
    const [parameterId, parameter] = parameters[0];
    new CfnParameter(this, parameterId, { type: parameter.Type, allowedPattern: parameter.AllowedPattern, description: parameter.Description });
    const [roleId, role] = resources[0];
    const p = role.Properties as {
      RoleName: string;
      Description: string;
      MaxSessionDuration: number;
      AssumeRolePolicyDocument: unknown;
      Policies: Array<{ PolicyName: string; PolicyDocument: unknown }>;
    };
    // An L1 role (not a raw CfnResource) so that cdk-nag inspects it.
    this.role = new iam.CfnRole(this, roleId, {
      roleName: p.RoleName,
      description: p.Description,
      maxSessionDuration: p.MaxSessionDuration,
      assumeRolePolicyDocument: p.AssumeRolePolicyDocument,
      policies: p.Policies.map((policy) => ({ policyName: policy.PolicyName, policyDocument: policy.PolicyDocument })),
    });
    new CfnOutput(this, 'MemberRoleArn', { value: this.role.attrArn });
    Validations.of(this).acknowledge(
      ...Object.entries(MEMBER_SCOPE_REASONS).map(([scope, reason]) => ({ id: MEMBER_SCOPE_FINDINGS[scope], reason })),
    );
  }
}
