/**
 * How the Rust binary reaches the stack. Either a directory holding a prebuilt
 * `bootstrap` (context `functionCodePath`), or the crate's sources, which
 * CDK bundles at synth time by running `cargo lambda build --release` on this
 * machine (no Docker). Tests skip bundling (`aws:cdk:bundling-stacks: []`), so
 * they never compile the binary.
 */
import * as crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Settings, SettingsError } from './settings';

/** The repository root (the crate), two levels above this file. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The files the binary is built from. */
const SOURCES = ['Cargo.toml', 'Cargo.lock', 'src'];

function copySources(): string {
  const hash = crypto.createHash('sha256');
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(REPO_ROOT, rel);
    if (fs.statSync(abs).isDirectory()) {
      for (const entry of fs.readdirSync(abs).sort()) walk(path.join(rel, entry));
    } else {
      files.push(rel);
      hash.update(rel).update('\0').update(fs.readFileSync(abs));
    }
  };
  SOURCES.forEach(walk);
  const dir = path.join(os.tmpdir(), `sg-egress-rule-src-${hash.digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(dir)) {
    for (const rel of files) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, rel), path.join(dir, rel));
    }
  }
  return dir;
}

export function functionCode(settings: Settings): lambda.Code {
  if (settings.functionCodePath !== undefined) {
    const dir = path.resolve(settings.functionCodePath);
    if (!fs.existsSync(path.join(dir, 'bootstrap'))) {
      throw new SettingsError(
        `context functionCodePath: ${dir} holds no bootstrap; build it with ` +
          `cargo lambda build --release --${settings.architecture === 'arm64' ? 'arm64' : 'x86-64'} --bin sg-egress-rule`,
      );
    }
    return lambda.Code.fromAsset(dir);
  }
  const target = settings.architecture === 'arm64' ? '--arm64' : '--x86-64';
  return lambda.Code.fromAsset(copySources(), {
    bundling: {
      // Only local bundling is used; the image is never pulled.
      image: DockerImage.fromRegistry('scratch'),
      local: {
        tryBundle(outputDir: string): boolean {
          const lambdaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-egress-rule-build-'));
          try {
            execFileSync('cargo', ['lambda', 'build', '--release', target, '--bin', 'sg-egress-rule', '--lambda-dir', lambdaDir], {
              cwd: REPO_ROOT,
              stdio: ['ignore', process.stderr, process.stderr],
            });
          } catch (e) {
            throw new Error(
              `building the function failed (${(e as Error).message}). It needs cargo-lambda (pip install cargo-lambda); ` +
                'or build it yourself and pass -c functionCodePath=DIR',
            );
          }
          fs.copyFileSync(path.join(lambdaDir, 'sg-egress-rule', 'bootstrap'), path.join(outputDir, 'bootstrap'));
          return true;
        },
      },
    },
  });
}
