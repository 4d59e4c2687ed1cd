import * as path from 'node:path';
import { CallGraph, crateInfo, mainBody, modeArm, parseCrate } from './rust-calls';
const dir = process.env.CRATE ?? path.join(__dirname, '..', '..');
const t0 = Date.now();
const info = crateInfo(dir);
const g = new CallGraph(info, parseCrate(info));
console.log('ops', info.operations.size, 'fns', g.functions.length, 'ms', Date.now() - t0, info.bins);
const lambda = info.bins.find((b) => b.name === 'sg-egress-rule')!;
for (const mode of ['rule', 'remediation']) {
  const r = g.reach(modeArm(lambda.file, mode), lambda.file, mode);
  console.log(mode, [...r.actions].sort());
}
for (const b of info.bins.filter((b) => b.name !== 'sg-egress-rule')) {
  const r = g.reach(mainBody(b.file), b.file, b.name);
  console.log(b.name, [...r.actions].sort(), r.via.get('sts:AssumeRole'));
}
const all = new Set(g.functions.flatMap((f) => g.calledIn(f)));
console.log('all', [...all].sort());
{
const r = g.reach(modeArm(lambda.file, 'rule'), lambda.file, 'rule');
console.log(r.via.get('config:DescribeConfigRules')); console.log(r.via.get('ec2:DescribeSecurityGroupRules'));
const c = info.bins.find((b) => b.name === 'sg-egress')!;
const r2 = g.reach(mainBody(c.file), c.file, 'cli');
console.log(r2.via.get('config:DescribeConfigRules')); console.log(r2.via.get('ec2:DescribeSecurityGroupRules'));
}
