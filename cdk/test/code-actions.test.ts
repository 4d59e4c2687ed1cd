/**
 * The IAM actions granted equal the AWS operations the Rust code calls, read
 * from the source: a new SDK call without its permission, or a permission the
 * code no longer needs, fails here.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PARAMETERS, REMEDIATION_FUNCTION_ACTIONS, RULE_FUNCTION_ACTIONS } from '../lib/definitions';

const SRC = path.join(__dirname, '..', '..', 'src');

/** Client methods that are not AWS operations. */
const NOT_OPERATIONS = ['clone', 'config'];

function pascal(snake: string): string {
  return snake.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** Operations called on an SDK `client` in a Rust file, as IAM actions. */
function operations(file: string, service: string): string[] {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const ops = [...text.matchAll(/\bclient\s*\.\s*([a-z_]+)\(\)/g)]
    .map((m) => m[1])
    .filter((method) => !NOT_OPERATIONS.includes(method))
    .map((method) => `${service}:${pascal(method)}`);
  return [...new Set(ops)].sort();
}

/** The body of a Rust function, up to the next top-level item. */
function functionBody(file: string, name: string): string {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8');
  const match = new RegExp(`async fn ${name}[(<]`).exec(text);
  const start = match ? match.index : -1;
  assert.ok(start >= 0, `${name} not found in ${file}`);
  const next = text.indexOf('\n}\n', start);
  return text.slice(start, next);
}

describe('IAM actions equal the actions the code calls', () => {
  it('the rule function', () => {
    const called = [...operations('aws/ec2.rs', 'ec2'), ...operations('aws/config.rs', 'config')].sort();
    assert.deepEqual(called, Object.keys(RULE_FUNCTION_ACTIONS).sort());
  });

  it('the remediation function', () => {
    const body = functionBody('handler.rs', 'remediate');
    // Besides remediate.rs, it reads prefix lists through aws/ec2.rs.
    assert.ok(body.includes('prefix_lists_for('));
    assert.ok(functionBody('handler.rs', 'prefix_lists_for').includes('prefix_list_entries('));
    assert.ok(!body.includes('describe_all_security_groups(') && !body.includes('group_ids_in_use('));
    const called = [...operations('aws/remediate.rs', 'ec2'), 'ec2:GetManagedPrefixListEntries'].sort();
    assert.deepEqual(called, Object.keys(REMEDIATION_FUNCTION_ACTIONS).sort());
  });

  it('sts:AssumeRole only where ExecutionRoleName is handled', () => {
    const aws = fs.readFileSync(path.join(SRC, 'aws', 'mod.rs'), 'utf8');
    assert.match(aws, /AssumeRoleProvider/);
    assert.match(functionBody('handler.rs', 'handle'), /execution_role_name/);
  });
});

describe('parameter names', () => {
  it('are the ones the function accepts (src/params.rs)', () => {
    const text = fs.readFileSync(path.join(SRC, 'params.rs'), 'utf8');
    const list = /PARAMETER_NAMES: \[&str; \d+\] = \[([^\]]+)\]/.exec(text);
    assert.ok(list);
    const names = [...list[1].matchAll(/"([A-Za-z0-9]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names.sort(), Object.keys(PARAMETERS).sort());
  });
});
