/**
 * For StackSets, one instance per member account: the role the organization
 * rule's function assumes there (`ExecutionRoleName`), trusting only that
 * function's role, with the actions the function calls.
 */
import { Aws, CfnParameter, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RULE_FUNCTION_ACTIONS } from './definitions';
import { acknowledgeScopes, actionStatements } from './rule-function';

export interface MemberRoleStackProps extends StackProps {
  readonly memberRoleName: string;
  readonly functionRoleName: string;
}

export class MemberRoleStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MemberRoleStackProps) {
    super(scope, id, props);
    const admin = new CfnParameter(this, 'AdministratorAccountId', {
      type: 'String',
      allowedPattern: '^[0-9]{12}$',
      description: 'The account that holds the rule function (management or delegated administrator)',
    });
    this.role = new iam.Role(this, 'MemberRole', {
      roleName: props.memberRoleName,
      assumedBy: new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${admin.valueAsString}:role/${props.functionRoleName}`),
      description: 'Assumed by the sg-egress-rule function to evaluate this account',
    });
    actionStatements(RULE_FUNCTION_ACTIONS, this).forEach((statement) => this.role.addToPolicy(statement));
    acknowledgeScopes(this.role, RULE_FUNCTION_ACTIONS);
  }
}
