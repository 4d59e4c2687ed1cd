/**
 * How the Rust binary reaches the stack.
 *
 * - By default `cargo-lambda-cdk`'s `RustFunction` builds the crate's
 *   `sg-egress-rule` binary at synth time with `cargo lambda build --release
 *   --arm64|--x86-64` on this machine, straight from the crate (no copy of the
 *   sources). Its asset hash is the hash of the built `bootstrap` (or, when a
 *   test skips bundling, of the bundling command, which names the target), so
 *   switching `architecture` always gives a new asset.
 * - With context `functionCodePath`, a directory holding a prebuilt
 *   `bootstrap`: its ELF header must name the architecture being deployed
 *   (e_machine 62 for x86_64, 183 for aarch64), or the synth stops.
 *
 * Tests skip bundling (`aws:cdk:bundling-stacks: []`), so they never compile
 * the binary.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { cargoLambdaVersion, RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { SettingsError } from './settings';

/** The repository root (the crate), two levels above this file. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The binary the stack deploys (a `[[bin]]` of the crate). */
export const BINARY_NAME = 'sg-egress-rule';

export type Architecture = 'arm64' | 'x86_64';

/** ELF `e_machine` of each architecture. */
export const ELF_MACHINES: Record<Architecture, number> = { x86_64: 62, arm64: 183 };

function cargoLambdaFlag(architecture: Architecture): string {
  return architecture === 'arm64' ? '--arm64' : '--x86-64';
}

/** The ELF machine of a file, or a sentence saying why it is not an ELF executable. */
export function elfMachine(file: string): number | string {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read < 20 || header.readUInt32BE(0) !== 0x7f454c46) return 'it is not an ELF executable';
  const data = header[5];
  if (data === 1) return header.readUInt16LE(18);
  if (data === 2) return header.readUInt16BE(18);
  return `its ELF header names no byte order (EI_DATA ${data})`;
}

/** Checks a prebuilt `bootstrap` against the architecture; the message says how to build the right one. */
export function checkPrebuilt(dir: string, architecture: Architecture): void {
  const build = `cargo lambda build --release ${cargoLambdaFlag(architecture)} --bin ${BINARY_NAME} --lambda-dir OUT, then pass -c functionCodePath=OUT/${BINARY_NAME}`;
  const bootstrap = path.join(dir, 'bootstrap');
  if (!fs.existsSync(bootstrap)) {
    throw new SettingsError(`context functionCodePath: ${dir} holds no bootstrap; build it with ${build}`);
  }
  const machine = elfMachine(bootstrap);
  if (machine !== ELF_MACHINES[architecture]) {
    const found =
      typeof machine === 'string'
        ? machine
        : `it is built for ${Object.entries(ELF_MACHINES).find(([, m]) => m === machine)?.[0] ?? `ELF machine ${machine}`}`;
    throw new SettingsError(
      `context functionCodePath: ${bootstrap} cannot run on ${architecture} (ELF e_machine ${ELF_MACHINES[architecture]}): ${found}. ` +
        `Build it with ${build}, or set -c architecture to match the binary`,
    );
  }
}

export interface FunctionCodeOptions extends Omit<lambda.FunctionProps, 'code' | 'runtime' | 'handler' | 'architecture'> {
  readonly architecture: Architecture;
  /** A directory holding a prebuilt `bootstrap`; otherwise RustFunction builds it. */
  readonly functionCodePath?: string;
}

/** The Rust function: built by `RustFunction`, or from a checked prebuilt binary. */
export function rustFunction(scope: Construct, id: string, options: FunctionCodeOptions): lambda.Function {
  const { architecture, functionCodePath, ...props } = options;
  const lambdaArchitecture = architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
  if (functionCodePath !== undefined) {
    const dir = path.resolve(functionCodePath);
    checkPrebuilt(dir, architecture);
    return new lambda.Function(scope, id, {
      ...props,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler: 'bootstrap',
      architecture: lambdaArchitecture,
      code: lambda.Code.fromAsset(dir),
    });
  }
  if (Stack.of(scope).bundlingRequired && !cargoLambdaVersion()) {
    // RustFunction would fall back to Docker, which a deployment here does not use.
    throw new SettingsError(
      'building the function needs cargo-lambda on PATH (pip install cargo-lambda); or build it yourself and pass -c functionCodePath=DIR',
    );
  }
  return new RustFunction(scope, id, {
    ...props,
    manifestPath: path.join(REPO_ROOT, 'Cargo.toml'),
    binaryName: BINARY_NAME,
    architecture: lambdaArchitecture,
    bundling: { architecture: lambdaArchitecture, forcedDockerBundling: false },
  });
}
