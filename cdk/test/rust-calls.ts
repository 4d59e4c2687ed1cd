/**
 * Which AWS operations each binary and mode of the crate can call, read from
 * the Rust sources the way the compiler sees them:
 *
 * - the operations are every module of the SDK crates' `src/operation/`
 *   (aws-sdk-ec2, aws-sdk-config, aws-sdk-sts and any other `aws-sdk-*` the
 *   crate depends on), located with `cargo metadata`; an operation
 *   `describe_vpcs` is called as the method `.describe_vpcs(` (or
 *   `Client::describe_vpcs(`) anywhere in a function body;
 * - every function of every `src/**\/*.rs` (comments, strings and test code
 *   removed) is a node of a call graph; a body references a function by
 *   name: free functions by a plain or module-qualified call or by value (a
 *   function passed to `map`), methods and associated functions by `.name(`
 *   or `Type::name(`. Names imported from other crates (`use
 *   lambda_runtime::run`) and paths into other crates are not the crate's;
 * - `aws_config::sts::AssumeRoleProvider` calls sts:AssumeRole.
 *
 * Name resolution over-approximates (two functions of one name are both
 * reached), never under-approximates: a call can be attributed to a
 * deployment that does not make it, never missed.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CrateInfo {
  readonly srcDir: string;
  /** Each `[[bin]]` target: name and main file. */
  readonly bins: Array<{ name: string; file: string }>;
  /** IAM service prefix → operation method name → IAM action. */
  readonly operations: Map<string, string>;
  /** Crate names (underscored) of every dependency: paths starting with them are not the crate's. */
  readonly externalCrates: Set<string>;
}

interface Metadata {
  packages: Array<{
    name: string;
    manifest_path: string;
    dependencies: Array<{ name: string; rename: string | null }>;
    targets: Array<{ name: string; kind: string[]; src_path: string }>;
  }>;
}

/** SDK operations an indirect construct calls: the credentials provider assumes a role. */
const INDIRECT_OPERATIONS: Record<string, string> = { AssumeRoleProvider: 'sts:AssumeRole' };

/** Reads the crate's targets and its SDK crates' operations with `cargo metadata` (offline, host platform only). */
export function crateInfo(crateDir: string): CrateInfo {
  const host = /host: (\S+)/.exec(execFileSync('rustc', ['-vV'], { encoding: 'utf8' }))?.[1];
  const metadata: Metadata = JSON.parse(
    execFileSync(
      'cargo',
      ['metadata', '--format-version', '1', '--offline', ...(host ? ['--filter-platform', host] : []), '--manifest-path', path.join(crateDir, 'Cargo.toml')],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const root = metadata.packages.find((p) => path.dirname(p.manifest_path) === path.resolve(crateDir));
  if (!root) throw new Error(`cargo metadata names no package at ${crateDir}`);
  const directSdks = root.dependencies.map((d) => d.name).filter((n) => n.startsWith('aws-sdk-'));
  const sdkNames = new Set(['aws-sdk-ec2', 'aws-sdk-config', 'aws-sdk-sts', ...directSdks]);
  const operations = new Map<string, string>();
  for (const name of sdkNames) {
    const pkg = metadata.packages.find((p) => p.name === name);
    if (!pkg) throw new Error(`cargo metadata lists no ${name}`);
    const service = name.slice('aws-sdk-'.length);
    const dir = path.join(path.dirname(pkg.manifest_path), 'src', 'operation');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.rs') && f !== 'mod.rs')) {
      const method = file.slice(0, -3);
      const struct = /pub struct (\w+);/.exec(fs.readFileSync(path.join(dir, file), 'utf8'))?.[1];
      if (!struct) throw new Error(`${name}: no operation struct in ${file}`);
      if (operations.has(method)) throw new Error(`operation ${method} is in two SDK crates; the test cannot tell them apart`);
      operations.set(method, `${service}:${struct}`);
    }
  }
  const externalCrates = new Set(['std', 'core', 'alloc']);
  for (const pkg of metadata.packages) externalCrates.add(pkg.name.replace(/-/g, '_'));
  for (const dep of root.dependencies) externalCrates.add((dep.rename ?? dep.name).replace(/-/g, '_'));
  for (const target of root.targets.filter((t) => t.kind.includes('lib'))) externalCrates.delete(target.name);
  return {
    srcDir: path.join(path.resolve(crateDir), 'src'),
    bins: root.targets.filter((t) => t.kind.includes('bin')).map((t) => ({ name: t.name, file: t.src_path })),
    operations,
    externalCrates,
  };
}

/** The text with comments, string and char literals blanked (same length, so offsets hold). */
export function blankNonCode(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') (depth++, (j += 2));
        else if (text[j] === '*' && text[j + 1] === '/') (depth--, (j += 2));
        else j++;
      }
      blank(i, j);
      i = j;
    } else if ((c === 'r' || (c === 'b' && next === 'r')) && /^b?r#*"/.test(text.slice(i, i + 260)) && !/[\w]/.test(text[i - 1] ?? '')) {
      const m = /^b?r(#*)"/.exec(text.slice(i))!;
      const close = `"${m[1]}`;
      const end = text.indexOf(close, i + m[0].length);
      const stop = end < 0 ? text.length : end + close.length;
      blank(i + m[0].length, stop - close.length);
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      blank(i + 1, j);
      i = j + 1;
    } else if (c === "'") {
      // A char literal ('x', '\n', '\u{1F600}', 'é') or a lifetime ('a, 'static).
      const m = /^'(\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|\\.|[^\\'\n]{1,2})'/u.exec(text.slice(i, i + 14));
      if (m) {
        blank(i + 1, i + m[0].length - 1);
        i += m[0].length;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return out.join('');
}

/** The index just past the brace block that opens at `open` (a `{`). */
function blockEnd(code: string, open: number): number {
  let depth = 0;
  for (let j = open; j < code.length; j++) {
    if (code[j] === '{') depth++;
    else if (code[j] === '}' && --depth === 0) return j + 1;
  }
  return code.length;
}

/** Where the body of the item whose header starts at `from` opens: the first `{` (or `;`, none) outside parentheses. */
function bodyOpen(code: string, from: number): number | undefined {
  let parens = 0;
  for (let j = from; j < code.length; j++) {
    const ch = code[j];
    if (ch === '(' || ch === '[') parens++;
    else if (ch === ')' || ch === ']') parens--;
    else if (parens === 0 && ch === ';') return undefined;
    else if (parens === 0 && ch === '{') return j;
  }
  return undefined;
}

export interface RustFunction {
  readonly name: string;
  readonly file: string;
  /** Defined in an `impl` or `trait` block: called as `.name(` or `Type::name(`. */
  readonly method: boolean;
  readonly body: string;
}

export interface RustFile {
  readonly file: string;
  readonly code: string;
  /** Names this file imports from other crates (`use lambda_runtime::{run, …}`). */
  readonly externalNames: Set<string>;
}

/** Every `.rs` file under a directory. */
function rustFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? rustFiles(path.join(dir, e.name)) : e.name.endsWith('.rs') ? [path.join(dir, e.name)] : []));
}

/** Test-only code: `#[cfg(test)]` items and `#[test]`/`#[tokio::test]` functions, blanked. */
function blankTestCode(code: string): string {
  let out = code;
  const attribute = /#\[\s*(cfg\s*\(\s*test\s*\)|test|tokio\s*::\s*test[^\]]*)\s*\]/g;
  let m: RegExpExecArray | null;
  while ((m = attribute.exec(out))) {
    const open = bodyOpen(out, m.index + m[0].length);
    if (open === undefined) continue;
    const end = blockEnd(out, open);
    out = out.slice(0, m.index) + out.slice(m.index, end).replace(/[^\n]/g, ' ') + out.slice(end);
  }
  return out;
}

/** Names a file imports from other crates. */
function externalImports(code: string, externalCrates: Set<string>): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/\buse\s+([^;]+);/g)) {
    const tree = m[1].replace(/\s+as\s+/g, ' as ').replace(/\s*(::|[{},])\s*/g, '$1').trim();
    const first = tree.replace(/^::/, '').split('::')[0];
    if (!externalCrates.has(first)) continue;
    for (const piece of tree.split(/[{},]/)) {
      const [target, alias] = piece.split(' as ');
      const name = (alias ?? target.split('::').pop() ?? '').trim();
      if (/^[A-Za-z_]\w*$/.test(name) && name !== 'self') names.add(name);
    }
  }
  return names;
}

/** Every function of the crate's sources, with its body. */
export function parseCrate(info: CrateInfo): { files: Map<string, RustFile>; functions: RustFunction[] } {
  const files = new Map<string, RustFile>();
  const functions: RustFunction[] = [];
  for (const file of rustFiles(info.srcDir)) {
    const code = blankTestCode(blankNonCode(fs.readFileSync(file, 'utf8')));
    files.set(file, { file, code, externalNames: externalImports(code, info.externalCrates) });
    const impls: Array<[number, number]> = [];
    for (const m of code.matchAll(/\b(impl|trait)\b/g)) {
      const open = bodyOpen(code, m.index! + m[0].length);
      if (open !== undefined) impls.push([open, blockEnd(code, open)]);
    }
    for (const m of code.matchAll(/\bfn\s+([A-Za-z_]\w*)/g)) {
      const open = bodyOpen(code, m.index! + m[0].length);
      if (open === undefined) continue;
      const at = m.index!;
      functions.push({
        name: m[1],
        file,
        method: impls.some(([a, b]) => a < at && at < b),
        body: code.slice(open, blockEnd(code, open)),
      });
    }
  }
  return { files, functions };
}

const KEYWORDS = new Set(['if', 'while', 'for', 'match', 'loop', 'return', 'fn', 'let', 'mut', 'move', 'async', 'await', 'in', 'as', 'ref', 'where', 'impl', 'dyn', 'unsafe', 'else', 'break', 'continue', 'crate', 'self', 'super', 'Self', 'pub', 'use', 'mod', 'struct', 'enum', 'type', 'const', 'static', 'true', 'false']);

export interface Reach {
  /** The IAM actions of the SDK operations reached. */
  readonly actions: Set<string>;
  /** For each action, one chain of functions that reaches it (for messages). */
  readonly via: Map<string, string>;
}

/** What a piece of code (a function body, a `match` arm) calls, transitively. */
export class CallGraph {
  private readonly byName = new Map<string, RustFunction[]>();

  constructor(
    private readonly info: CrateInfo,
    private readonly crate: { files: Map<string, RustFile>; functions: RustFunction[] },
  ) {
    for (const fn of crate.functions) this.byName.set(fn.name, [...(this.byName.get(fn.name) ?? []), fn]);
  }

  get functions(): RustFunction[] {
    return this.crate.functions;
  }

  /** The operations a body calls itself, and the crate functions it references. */
  private direct(body: string, file: string): { actions: string[]; callees: RustFunction[] } {
    const code = body.replace(/\s*::\s*/g, '::').replace(/\.\s+/g, '.');
    const external = this.crate.files.get(file)?.externalNames ?? new Set<string>();
    const actions: string[] = [];
    const callees = new Set<RustFunction>();
    for (const [construct, action] of Object.entries(INDIRECT_OPERATIONS)) {
      if (new RegExp(`\\b${construct}\\b`).test(code)) actions.push(action);
    }
    for (const m of code.matchAll(/\.([a-z_]\w*)\s*(?:::<[^>]*>)?\s*\(/g)) {
      const operation = this.info.operations.get(m[1]);
      if (operation) actions.push(operation);
      for (const fn of this.byName.get(m[1]) ?? []) if (fn.method) callees.add(fn);
    }
    for (const m of code.matchAll(/(?<![\w.:])((?:[A-Za-z_]\w*::)*)([A-Za-z_]\w*)/g)) {
      const segments = m[1] === '' ? [] : m[1].slice(0, -2).split('::');
      const name = m[2];
      if (KEYWORDS.has(name) && segments.length === 0) continue;
      const first = segments[0];
      if (first !== undefined && (this.info.externalCrates.has(first) || external.has(first))) {
        // A path into another crate: only the SDK client's own operations count.
        if (segments[segments.length - 1] === 'Client' && this.info.operations.has(name)) actions.push(this.info.operations.get(name)!);
        continue;
      }
      if (first === undefined && external.has(name)) continue;
      const last = segments[segments.length - 1];
      const viaType = last !== undefined && (/^[A-Z]/.test(last) || last === 'Self');
      for (const fn of this.byName.get(name) ?? []) if (fn.method === viaType) callees.add(fn);
    }
    return { actions, callees: [...callees] };
  }

  /** Everything reachable from `body` (in `file`). */
  reach(body: string, file: string, label: string): Reach {
    const actions = new Set<string>();
    const via = new Map<string, string>();
    const seen = new Set<RustFunction>();
    const queue: Array<{ body: string; file: string; trail: string }> = [{ body, file, trail: label }];
    while (queue.length > 0) {
      const next = queue.shift()!;
      const { actions: found, callees } = this.direct(next.body, next.file);
      for (const action of found) {
        actions.add(action);
        if (!via.has(action)) via.set(action, next.trail);
      }
      for (const fn of callees) {
        if (seen.has(fn)) continue;
        seen.add(fn);
        queue.push({ body: fn.body, file: fn.file, trail: `${next.trail} → ${fn.name} (${path.relative(this.info.srcDir, fn.file)})` });
      }
    }
    return { actions, via };
  }

  /** The operations called in each function itself (not through callees). */
  calledIn(fn: RustFunction): string[] {
    return this.direct(fn.body, fn.file).actions;
  }
}

/**
 * The body of the `match` arm (or `if` branch) of `main` that runs for a mode
 * string: `"rule" => { … }`, `"" | "rule" => …,`.
 */
export function modeArm(mainFile: string, mode: string): string {
  const original = fs.readFileSync(mainFile, 'utf8');
  const code = blankTestCode(blankNonCode(original));
  const arm = new RegExp(`"${mode}"(\\s*\\|\\s*"[^"]*")*\\s*=>`).exec(original);
  if (!arm || code.slice(arm.index, arm.index + arm[0].length).trim().endsWith('=>') === false) {
    throw new Error(`${mainFile}: no match arm for SG_EGRESS_MODE "${mode}" (the test splits main by these arms)`);
  }
  let start = arm.index + arm[0].length;
  while (/\s/.test(code[start])) start++;
  if (code[start] === '{') return code.slice(start, blockEnd(code, start));
  let depth = 0;
  for (let j = start; j < code.length; j++) {
    const ch = code[j];
    if ('({['.includes(ch)) depth++;
    else if (')}]'.includes(ch)) {
      if (depth === 0) return code.slice(start, j);
      depth--;
    } else if (ch === ',' && depth === 0) return code.slice(start, j);
  }
  return code.slice(start);
}

/** The body of `fn main` of a file. */
export function mainBody(file: string): string {
  const code = blankTestCode(blankNonCode(fs.readFileSync(file, 'utf8')));
  const m = /\bfn\s+main\s*\(/.exec(code);
  if (!m) throw new Error(`${file} has no fn main`);
  const open = bodyOpen(code, m.index + m[0].length - 1)!;
  return code.slice(open, blockEnd(code, open));
}
