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
  /** `src/` of every local package (the crate, and the workspace members and path dependencies it builds with). */
  readonly localSrcDirs: string[];
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
    /** null for a local (path) package. */
    source: string | null;
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
    localSrcDirs: metadata.packages
      .filter((p) => p.source === null)
      .map((p) => path.join(path.dirname(p.manifest_path), 'src'))
      .filter((dir) => fs.existsSync(dir))
      .sort(),
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
  /** The module path of the file (`src/aws/ec2.rs` → aws::ec2; a binary is its own root). */
  readonly module: string;
  /** Defined in an `impl` or `trait` block. */
  readonly inImpl: boolean;
  /** The type of that `impl` (`impl Foo`, `impl Trait for Foo`). */
  readonly implType?: string;
  /** Takes `self`: callable as `.name(`. */
  readonly hasSelf: boolean;
  readonly body: string;
}

export interface RustFile {
  readonly file: string;
  readonly module: string;
  readonly code: string;
  /** `use` imports: the name in scope → the absolute path (`crate`-relative, `::`-joined), or `null` for another crate's. */
  readonly imports: Map<string, string | null>;
  /** Modules glob-imported (`use super::*`). */
  readonly globs: string[];
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

/**
 * The module path of a source file. Each binary is a crate root of its own,
 * `#bin/NAME`: `src/bin/NAME.rs`, or `src/bin/NAME/main.rs` with its modules
 * beside it (`src/bin/NAME/cli.rs` → `#bin/NAME::cli`).
 */
function moduleOf(srcDir: string, file: string): string {
  const rel = path.relative(srcDir, file).replace(/\\/g, '/').replace(/\.rs$/, '');
  if (rel.startsWith('bin/')) {
    const [, name, ...parts] = rel.split('/');
    if (parts.length === 1 && parts[0] === 'main') parts.pop();
    else if (parts[parts.length - 1] === 'mod') parts.pop();
    return [`#bin/${name}`, ...parts].join('::');
  }
  const parts = rel.split('/');
  if (parts[parts.length - 1] === 'mod' || parts[parts.length - 1] === 'lib') parts.pop();
  return parts.join('::');
}

/** The root module of the crate a module belongs to: a binary's (`#bin/NAME`), or the library's (''). */
function crateRoot(module: string): string {
  return module.startsWith('#') ? module.split('::')[0] : '';
}

function parentModule(module: string): string {
  return module.includes('::') ? module.slice(0, module.lastIndexOf('::')) : '';
}

function join(module: string, rest: string[]): string {
  return [module, ...rest].filter((p) => p !== '').join('::');
}

/** Expands a `use` tree (`crate::aws::{ec2::{a, b as c}, config::*}`) into paths and aliases. */
function expandUseTree(tree: string): Array<{ path: string[]; alias?: string; glob: boolean }> {
  const out: Array<{ path: string[]; alias?: string; glob: boolean }> = [];
  const walk = (prefix: string[], text: string) => {
    const parts: string[] = [];
    let depth = 0;
    let current = '';
    for (const ch of text) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      if (ch === ',' && depth === 0) {
        parts.push(current);
        current = '';
      } else current += ch;
    }
    parts.push(current);
    for (const raw of parts.map((p) => p.trim()).filter((p) => p !== '')) {
      const brace = raw.indexOf('{');
      if (brace >= 0) {
        const head = raw.slice(0, brace).replace(/::$/, '');
        walk([...prefix, ...head.split('::').filter((x) => x !== '')], raw.slice(brace + 1, raw.lastIndexOf('}')));
        continue;
      }
      const [target, alias] = raw.split(/\s+as\s+/);
      const segments = [...prefix, ...target.split('::').filter((x) => x !== '')];
      if (segments[segments.length - 1] === '*') out.push({ path: segments.slice(0, -1), glob: true });
      else out.push({ path: segments, alias: alias?.trim(), glob: false });
    }
  };
  walk([], tree.replace(/\s*::\s*/g, '::').replace(/^::/, ''));
  return out;
}

/** Every function of the crate's sources, with its body, and each file's imports. */
export function parseCrate(info: CrateInfo): { files: Map<string, RustFile>; functions: RustFunction[] } {
  const files = new Map<string, RustFile>();
  const functions: RustFunction[] = [];
  const libName = 'sg_egress_rule';
  for (const file of rustFiles(info.srcDir)) {
    const code = blankTestCode(blankNonCode(fs.readFileSync(file, 'utf8')));
    const module = moduleOf(info.srcDir, file);
    const imports = new Map<string, string | null>();
    const globs: string[] = [];
    for (const m of code.matchAll(/\buse\s+([^;]+);/g)) {
      for (const entry of expandUseTree(m[1])) {
        const selfImport = entry.path[entry.path.length - 1] === 'self'; // use crate::aws::{self, …}
        const segments = selfImport ? entry.path.slice(0, -1) : entry.path;
        const [first, ...rest] = segments;
        let absolute: string | null;
        if (first === 'crate') absolute = join(crateRoot(module), rest);
        else if (first === libName) absolute = join('', rest);
        else if (first === 'super') {
          let base = parentModule(module);
          while (rest[0] === 'super') (base = parentModule(base), rest.shift());
          absolute = join(base, rest);
        } else if (first === 'self') absolute = join(module, rest);
        else if (info.externalCrates.has(first)) absolute = null;
        else absolute = join(module, [first, ...rest]); // a child module
        if (entry.glob) {
          if (absolute !== null) globs.push(absolute);
          continue;
        }
        const name = entry.alias ?? segments[segments.length - 1];
        if (name) imports.set(name, absolute);
      }
    }
    files.set(file, { file, module, code, imports, globs });
    const impls: Array<[number, number, string | undefined]> = [];
    for (const m of code.matchAll(/\b(impl|trait)\b/g)) {
      const open = bodyOpen(code, m.index! + m[0].length);
      if (open === undefined) continue;
      const header = code.slice(m.index! + m[0].length, open).replace(/<[^<>]*(<[^<>]*>[^<>]*)*>/g, ' ');
      const type = m[1] === 'trait' ? undefined : /(?:\bfor\s+)?([A-Za-z_]\w*)\s*(?:where\b[\s\S]*)?$/.exec(header.replace(/\bwhere\b[\s\S]*$/, ''))?.[1];
      impls.push([open, blockEnd(code, open), type]);
    }
    for (const m of code.matchAll(/\bfn\s+([A-Za-z_]\w*)/g)) {
      const open = bodyOpen(code, m.index! + m[0].length);
      if (open === undefined) continue;
      const at = m.index!;
      const impl = impls.filter(([a, b]) => a < at && at < b).sort((x, y) => y[0] - x[0])[0];
      const signature = code.slice(at, open);
      functions.push({
        name: m[1],
        file,
        module,
        inImpl: impl !== undefined,
        implType: impl?.[2],
        hasSelf: /\(\s*(&\s*('\w+\s+)?)?(mut\s+)?self\b/.test(signature),
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
  /** Free functions by module, then name. */
  private readonly free = new Map<string, Map<string, RustFunction[]>>();
  private readonly methods = new Map<string, RustFunction[]>();
  private readonly fileOfModule = new Map<string, RustFile>();

  constructor(
    private readonly info: CrateInfo,
    private readonly crate: { files: Map<string, RustFile>; functions: RustFunction[] },
  ) {
    for (const fn of crate.functions) {
      if (fn.inImpl) {
        this.methods.set(fn.name, [...(this.methods.get(fn.name) ?? []), fn]);
      } else {
        const byName = this.free.get(fn.module) ?? new Map<string, RustFunction[]>();
        byName.set(fn.name, [...(byName.get(fn.name) ?? []), fn]);
        this.free.set(fn.module, byName);
      }
    }
    for (const file of crate.files.values()) this.fileOfModule.set(file.module, file);
  }

  get functions(): RustFunction[] {
    return this.crate.functions;
  }

  /** The free functions `name` names in `module`: defined there, imported there (following re-exports), or glob-imported. */
  private resolveFree(module: string, name: string, depth = 0): RustFunction[] {
    if (depth > 8) return [];
    const defined = this.free.get(module)?.get(name);
    if (defined) return defined;
    const file = this.fileOfModule.get(module);
    if (!file) return [];
    if (file.imports.has(name)) {
      const target = file.imports.get(name);
      if (target === null || target === undefined) return [];
      return this.resolveFree(parentModule(target), target.split('::').pop()!, depth + 1);
    }
    return file.globs.flatMap((g) => this.resolveFree(g, name, depth + 1));
  }

  /** The module a path's leading segments name, from a file's point of view. */
  private resolveModule(file: RustFile, segments: string[]): string | null {
    let [first, ...rest] = segments;
    let base: string;
    if (first === 'crate') base = crateRoot(file.module);
    else if (first === 'sg_egress_rule') base = '';
    else if (first === 'self') base = file.module;
    else if (first === 'super') {
      base = parentModule(file.module);
      while (rest[0] === 'super') (base = parentModule(base), rest.shift());
    } else if (file.imports.has(first)) {
      const target = file.imports.get(first);
      if (target === null || target === undefined) return null;
      base = target;
    } else if (this.info.externalCrates.has(first)) return null;
    else base = join(file.module, [first]);
    return join(base, rest);
  }

  /** The operations a body calls itself, and the crate functions it references. */
  private direct(body: string, file: string, implType?: string): { actions: string[]; callees: RustFunction[] } {
    const code = body.replace(/\s*::\s*/g, '::').replace(/\.\s+/g, '.');
    const rustFile = this.crate.files.get(file)!;
    const actions: string[] = [];
    const callees = new Set<RustFunction>();
    for (const [construct, action] of Object.entries(INDIRECT_OPERATIONS)) {
      if (new RegExp(`\\b${construct}\\b`).test(code)) actions.push(action);
    }
    // Method calls: an SDK operation, or any of the crate's methods of that name.
    for (const m of code.matchAll(/\.([a-z_]\w*)\s*(?:::<[^>]*>)?\s*\(/g)) {
      const operation = this.info.operations.get(m[1]);
      if (operation) actions.push(operation);
      for (const fn of this.methods.get(m[1]) ?? []) if (fn.hasSelf) callees.add(fn);
    }
    // Paths and names: calls, and functions passed by value.
    for (const m of code.matchAll(/(?<![\w.:])((?:[A-Za-z_]\w*::)*)([A-Za-z_]\w*)(?!\w)(?!\s*:[^:])/g)) {
      const segments = m[1] === '' ? [] : m[1].slice(0, -2).split('::');
      const name = m[2];
      if (segments.length === 0 && KEYWORDS.has(name)) continue;
      const last = segments[segments.length - 1];
      if (last === 'Client' && this.info.operations.has(name)) {
        actions.push(this.info.operations.get(name)!); // aws_sdk_ec2::Client::describe_vpcs(&client)
        continue;
      }
      if (last !== undefined && (last === 'Self' || /^[A-Z]/.test(last))) {
        // Type::name( — an associated function of a type of the crate.
        const type = last === 'Self' ? implType : last;
        for (const fn of this.methods.get(name) ?? []) if (fn.implType === type) callees.add(fn);
        continue;
      }
      const module = segments.length === 0 ? rustFile.module : this.resolveModule(rustFile, segments);
      if (module === null) continue;
      for (const fn of this.resolveFree(module, name)) callees.add(fn);
    }
    return { actions, callees: [...callees] };
  }

  /** Everything reachable from `body` (in `file`). */
  reach(body: string, file: string, label: string): Reach {
    const actions = new Set<string>();
    const via = new Map<string, string>();
    const seen = new Set<RustFunction>();
    const queue: Array<{ body: string; file: string; implType?: string; trail: string }> = [{ body, file, trail: label }];
    while (queue.length > 0) {
      const next = queue.shift()!;
      const { actions: found, callees } = this.direct(next.body, next.file, next.implType);
      for (const action of found) {
        actions.add(action);
        if (!via.has(action)) via.set(action, next.trail);
      }
      for (const fn of callees) {
        if (seen.has(fn)) continue;
        seen.add(fn);
        queue.push({
          body: fn.body,
          file: fn.file,
          implType: fn.implType,
          trail: `${next.trail} → ${fn.implType ? `${fn.implType}::` : ''}${fn.name} (${path.relative(this.info.srcDir, fn.file)})`,
        });
      }
    }
    return { actions, via };
  }

  /** The operations called in each function itself (not through callees). */
  calledIn(fn: RustFunction): string[] {
    return this.direct(fn.body, fn.file, fn.implType).actions;
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
