#!/usr/bin/env node
// Runs the test files with node's test runner, with a temporary directory of
// their own (TMPDIR, inherited by cfn-lint, the CDK CLI, Python), and fails
// when they leave anything in it: tests remove what they create
// (test/helpers.ts tempDir). tsx's compile cache is the one thing allowed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const files = fs.readdirSync(path.join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join('test', f));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-egress-cdk-tests-'));
let status;
try {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...process.argv.slice(2), ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: tmp, TMP: tmp, TEMP: tmp },
  });
  status = run.status ?? 1;
  const left = fs.readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name));
  if (left.length > 0) {
    console.error(`the tests left ${left.length} entries in their temporary directory: ${left.join(', ')}`);
    status = status || 1;
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
