/**
 * Organization mode: the StackSet that puts the member role in every member
 * account of the target OUs (service-managed, so new accounts get it as they
 * join), with stack instances in one region only, since IAM is global. Run
 * from the management account (CallAs SELF) or a delegated administrator
 * (CallAs DELEGATED_ADMIN, context delegatedAdmin=true).
 *
 * Target OUs default to the organization root, which an offline synth cannot
 * know: a custom resource reads it at deploy time (organizations:ListRoots,
 * which the management account and delegated administrators may call).
 */
import { Aws, CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ADMINISTRATOR_ACCOUNT_PARAMETER, memberTemplate } from './member-template';
import { Settings } from './settings';

/** CloudFormation's limit on a TemplateBody, in bytes. */
export const TEMPLATE_BODY_LIMIT = 51_200;

export interface MembersStackProps extends StackProps {
  readonly settings: Settings;
  /** The prefix every region's function role name starts with. */
  readonly functionRoleNamePrefix: string;
}

export class MembersStack extends Stack {
  readonly stackSet: cloudformation.CfnStackSet;
  /** The member template the StackSet deploys. */
  readonly memberTemplate: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: MembersStackProps) {
    super(scope, id, props);
    const settings = props.settings;
    if (settings.organizationId === undefined) throw new Error('organization mode needs organizationId');
    this.memberTemplate = memberTemplate({
      memberRoleName: settings.memberRoleName,
      functionRoleNamePrefix: props.functionRoleNamePrefix,
      organizationId: settings.organizationId,
      regions: settings.regions,
    });
    const body = JSON.stringify(this.memberTemplate);
    if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
      throw new Error(`the member template is ${Buffer.byteLength(body)} bytes, over CloudFormation's ${TEMPLATE_BODY_LIMIT}`);
    }
    let targetOus: string[] = settings.targetOus;
    if (targetOus.length === 0) {
      const root = new cr.AwsCustomResource(this, 'OrganizationRoot', {
        onUpdate: {
          service: 'Organizations',
          action: 'ListRoots',
          physicalResourceId: cr.PhysicalResourceId.of(`${settings.organizationId}-root`),
          outputPaths: ['Roots.0.Id'],
        },
        policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
        installLatestAwsSdk: false,
      });
      Validations.of(this).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'The root-lookup custom resource (aws-cdk-lib AwsCustomResource) runs once per deployment and only writes its own logs.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'organizations:ListRoots supports no resource-level permissions.',
        },
        {
          id: 'AwsSolutions-L1',
          reason: 'The runtime of aws-cdk-lib\'s AwsCustomResource provider is chosen by aws-cdk-lib.',
        },
      );
      targetOus = [root.getResponseField('Roots.0.Id')];
    }
    // A delegated administrator is a member account: it evaluates itself with
    // its own credentials, so it needs no member role. (StackSets never deploy
    // to the management account: in delegated mode it gets the role from
    // SgEgressRuleManagementMemberRole, management-stack.ts.)
    const excluded = [...settings.excludedAccounts, ...(settings.delegatedAdmin ? [Aws.ACCOUNT_ID] : [])];
    this.stackSet = new cloudformation.CfnStackSet(this, 'MemberRoles', {
      stackSetName: `${settings.ruleName}-member-role`,
      description: 'sg-egress-rule: the role the organization rule\'s function assumes in each member account',
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: settings.delegatedAdmin ? 'DELEGATED_ADMIN' : 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      // For stack-set operations (creation, template or parameter updates);
      // StackSets' automatic deployment to accounts that join later ignores them.
      operationPreferences: {
        // The default, STRICT_FAILURE_TOLERANCE, would cap concurrency at the
        // failure tolerance + 1 accounts; SOFT keeps 25% at a time whatever
        // fails, and the operation still stops once failures exceed 10%
        // (accounts already in progress may then take it a little beyond).
        concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'PARALLEL',
      },
      parameters: [{ parameterKey: ADMINISTRATOR_ACCOUNT_PARAMETER, parameterValue: Aws.ACCOUNT_ID }],
      stackInstancesGroup: [
        {
          deploymentTargets: {
            organizationalUnitIds: targetOus,
            ...(excluded.length > 0 ? { accountFilterType: 'DIFFERENCE', accounts: excluded } : {}),
          },
          // IAM is global: one instance per account, in the first listed region.
          regions: [settings.regions[0]],
        },
      ],
      templateBody: body,
    });
    new CfnOutput(this, 'MemberRoleStackSet', { value: this.stackSet.stackSetName ?? '' });
  }
}
