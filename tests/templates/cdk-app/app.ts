// A tiny CDK app whose cloud assembly (cdk.out/) is test data for
// `sg-egress check`: security groups open and closed, in a stack, a nested
// stack and a Stage. See README.md for how cdk.out was made and what each
// group's verdict must be (EXPECTED.json).
//
// aws-cdk-lib and constructs come from the repository's cdk/node_modules
// (cdk.json puts it on NODE_PATH); nothing is installed here.
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

// An existing VPC by its attributes: no lookup, no VPC resources in the template.
function vpcOf(scope: Construct): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a'],
  });
}

class Inner extends cdk.NestedStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    const vpc = vpcOf(this);
    // NON_COMPLIANT: the allow-all egress, written out as an item.
    new ec2.SecurityGroup(this, 'InnerOpen', { vpc, allowAllOutbound: true });
  }
}

class CheckDemo extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    const vpc = vpcOf(this);

    // NON_COMPLIANT: CDK writes the egress item -1 to 0.0.0.0/0.
    new ec2.SecurityGroup(this, 'Open', { vpc, allowAllOutbound: true });

    // COMPLIANT: a closed list, TCP 443 to 10.0.0.0/8 only.
    const closed = new ec2.SecurityGroup(this, 'Closed', { vpc, allowAllOutbound: false });
    closed.addEgressRule(ec2.Peer.ipv4('10.0.0.0/8'), ec2.Port.tcp(443), 'HTTPS inside the network');

    // NON_COMPLIANT: all IPv6 traffic to ::/0 (allowAllIpv6Outbound), no IPv4 egress.
    new ec2.SecurityGroup(this, 'OpenIpv6', { vpc, allowAllOutbound: false, allowAllIpv6Outbound: true });

    new Inner(this, 'Inner');
  }
}

class ProdStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    const vpc = vpcOf(this);
    // COMPLIANT: no rules, so CDK writes its "Disallow all traffic" item
    // (ICMP type 252 code 86 to 255.255.255.255/32).
    new ec2.SecurityGroup(this, 'ProdClosed', { vpc, allowAllOutbound: false });
  }
}

class Prod extends cdk.Stage {
  constructor(scope: Construct, id: string, props?: cdk.StageProps) {
    super(scope, id, props);
    new ProdStack(this, 'ProdStack');
  }
}

// No stack traces in the assembly: they would hold this machine's paths.
const app = new cdk.App({
  stackTraces: false,
  context: { 'aws:cdk:disable-creation-stack-traces': true },
});
new CheckDemo(app, 'CheckDemo');
new Prod(app, 'Prod');
app.synth();
