// The published package, as a user gets it: `npm pack` (which must build dist/ itself), the tarball's
// contents, then a fresh app outside the repo that installs the tarball with npm, imports every
// subpath export with plain `node` and type-checks against the shipped declarations with `tsc`.
// Then the README's server snippets, copied as they are into apps that have only one SDK line each,
// compiled with `tsc` and run with plain `node`, driven by the real SDK clients.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioClientTransportV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_META_KEY, type RunningState } from '../src/mcp/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface PackageJson {
  name: string;
  main?: string;
  types?: string;
  exports: Record<string, unknown>;
  peerDependencies?: Record<string, string>;
}

const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as PackageJson;
/** Every subpath export but `./package.json`, as a specifier: `mcp-async`, `mcp-async/mcp`... */
const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
const specifiers = subpaths.map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));

/**
 * The environment for child processes: without what an enclosing `npm test` put there for the repo
 * (its prefix, package and lifecycle variables), so that npm in the app works on the app, and
 * without NODE_OPTIONS, so that `node` really runs plain (no loader, no preload).
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (k === 'node_options' || k === 'init_cwd') continue;
    if (k.startsWith('npm_') && !k.startsWith('npm_config_')) continue;
    if (k === 'npm_config_prefix' || k === 'npm_config_local_prefix' || k === 'npm_config_call') continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command; throws with its output when it fails, so that a failure says why. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 150_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new Error(
              `\`${command} ${args.join(' ')}\` in ${cwd} failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
            ),
          );
        } else {
          resolvePromise(stdout);
        }
      },
    );
  });
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path, base)));
    else out.push(relative(base, path).split('\\').join('/'));
  }
  return out;
}

/** Every file path an `exports` entry names (`./dist/index.js`...), whatever its conditions. */
function targetsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(targetsOf);
  return [];
}

const tmpDirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tmpDirs.push(dir);
  // The app must not sit inside the repo, or node would find the repo's own node_modules by walking up.
  const rel = relative(repo, dir);
  expect(rel.startsWith('..') || isAbsolute(rel), `${dir} is inside the repo`).toBe(true);
  return dir;
}

// A file put in dist/ before packing: `npm pack` must rebuild dist/ from scratch (the build starts
// with `rm -rf dist`), so it must be gone afterwards and not in the tarball. Without a prepack build,
// a stale or missing dist/ would be shipped as it is.
const sentinel = join(repo, 'dist', 'stale-file-from-package-test.txt');
let createdDist = false;

let tarball = '';
/** The tarball's files, relative to its `package/` folder. */
let shipped = new Set<string>();
let unpacked = '';
let app = '';

beforeAll(async () => {
  const packDir = await tempDir('mcp-async-pack-');
  if (!existsSync(join(repo, 'dist'))) {
    await mkdir(join(repo, 'dist'));
    createdDist = true;
  }
  await writeFile(sentinel, 'stale\n');

  // `npm pack` runs the `prepack` script, which builds dist/. --json keeps stdout to the report.
  const report = JSON.parse(
    await run('npm', ['pack', '--json', '--pack-destination', packDir], repo),
  ) as Array<{ filename: string }>;
  expect(report).toHaveLength(1);
  tarball = join(packDir, report[0]!.filename);
  expect(existsSync(tarball)).toBe(true);

  unpacked = await tempDir('mcp-async-unpacked-');
  await run('tar', ['xzf', tarball, '-C', unpacked], unpacked);
  shipped = new Set(await listFiles(join(unpacked, 'package')));

  app = await tempDir('mcp-async-app-');
  await writeFile(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'mcp-async-package-test-app', private: true, type: 'module' }, null, 2)}\n`,
  );
  // The package's own dependencies come from the registry (or npm's cache). If npm cannot get them,
  // this throws, and the file fails with npm's error: it never passes without a real install.
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], app);
  expect(existsSync(join(app, 'node_modules', pkg.name, 'package.json'))).toBe(true);

  // The optional peer dependencies are not installed again (better-sqlite3 alone would take minutes
  // to compile): the app gets symlinks to the repo's installed copies, after `npm install` so that
  // npm does not prune them. `@types/node` is linked too, for the type-check; `tsc` is run from the
  // repo. Node and tsc follow the links to the real paths, so the peers' own dependencies resolve
  // from the repo's node_modules, while mcp-async itself is a real copy from the tarball.
  const linked = [...Object.keys(pkg.peerDependencies ?? {}), '@types/node'];
  for (const name of linked) {
    const from = join(repo, 'node_modules', name);
    expect(existsSync(from), `${name} is not installed in the repo`).toBe(true);
    const to = join(app, 'node_modules', name);
    await mkdir(dirname(to), { recursive: true });
    await symlink(from, to, 'dir');
  }
}, 240_000);

afterAll(async () => {
  await rm(sentinel, { force: true });
  if (createdDist) await rmdir(join(repo, 'dist')).catch(() => {});
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('was built by npm pack itself (dist/ rebuilt from scratch)', () => {
    expect(existsSync(sentinel)).toBe(false);
    expect(shipped.has('dist/stale-file-from-package-test.txt')).toBe(false);
  });

  it('holds the JS and the declarations of every export', () => {
    expect(subpaths.length).toBeGreaterThan(1);
    const wanted = [
      ...Object.values(pkg.exports).flatMap(targetsOf),
      ...(pkg.main === undefined ? [] : [pkg.main]),
      ...(pkg.types === undefined ? [] : [pkg.types]),
      // WorkerPool starts its threads on this file, next to worker-pool.js.
      './dist/workers/worker-entry.mjs',
    ].map((path) => posix.normalize(path));
    for (const key of subpaths) {
      const targets = targetsOf(pkg.exports[key]);
      expect(
        targets.some((t) => t.endsWith('.js')),
        `${key} has no .js target`,
      ).toBe(true);
      expect(
        targets.some((t) => t.endsWith('.d.ts')),
        `${key} has no .d.ts target`,
      ).toBe(true);
    }
    const missing = wanted.filter((path) => !shipped.has(path));
    expect(missing).toEqual([]);
  });

  it('has no sourceMappingURL naming a file it leaves out', async () => {
    const dangling: string[] = [];
    const code = [...shipped].filter((path) => /\.(?:[cm]?js|d\.[cm]?ts)$/.test(path));
    expect(code.length).toBeGreaterThan(0);
    for (const path of code) {
      const text = await readFile(join(unpacked, 'package', path), 'utf8');
      for (const match of text.matchAll(/[#@] sourceMappingURL=(\S+)/g)) {
        const url = match[1]!;
        if (url.startsWith('data:')) continue;
        const target = posix.normalize(posix.join(posix.dirname(path), decodeURIComponent(url)));
        if (!shipped.has(target)) dangling.push(`${path} -> ${url}`);
      }
    }
    expect(dangling).toEqual([]);
  });
});

describe('an app that installed the tarball', () => {
  it('imports every subpath export with plain node', async () => {
    await writeFile(
      join(app, 'work.mjs'),
      'export function double(n, { progress }) { progress(1, 1); return n * 2; }\n',
    );
    await writeFile(
      join(app, 'imports.mjs'),
      `const specifiers = ${JSON.stringify(specifiers)};
const exported = {};
for (const specifier of specifiers) exported[specifier] = Object.keys(await import(specifier)).sort();

// A little real work through the installed files, not just module loading.
const { Executor, MemoryStore } = await import('mcp-async');
const { WorkerPool } = await import('mcp-async/workers');
const { SqliteStore } = await import('mcp-async/sqlite');
const { serverFactory } = await import('mcp-async/mcp');
const v1 = await import('mcp-async/mcp/v1');
const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');

const executor = new Executor({ defaultWaitMs: 5000, store: new MemoryStore() });
const inline = await executor.execute(async () => 21 * 2, { type: 'inline' });
const pool = new WorkerPool({ maxThreads: 1 });
const worker = await executor.execute(
  pool.task({ module: new URL('./work.mjs', import.meta.url), exportName: 'double' }, 21),
  { type: 'worker' },
);
await pool.close();
const tools = v1.registerAsyncTools(new McpServer({ name: 'app', version: '1.0.0' }), executor);
const factory = serverFactory(executor, { name: 'app', version: '1.0.0' }, () => undefined);
await executor.stop();
const sqlite = new SqliteStore({ path: ':memory:' });
sqlite.close();

console.log(JSON.stringify({
  exported,
  inline: [inline.status, inline.result],
  worker: [worker.status, worker.result],
  tools: typeof tools,
  factory: typeof factory,
}));
`,
    );
    const out = await run(process.execPath, ['imports.mjs'], app);
    const result = JSON.parse(out) as {
      exported: Record<string, string[]>;
      inline: unknown[];
      worker: unknown[];
      tools: string;
      factory: string;
    };
    expect(Object.keys(result.exported).sort()).toEqual([...specifiers].sort());
    for (const specifier of specifiers) {
      expect(result.exported[specifier]!.length, `${specifier} exports nothing`).toBeGreaterThan(0);
    }
    const name = pkg.name;
    expect(result.exported[name]).toEqual(
      expect.arrayContaining(['Executor', 'MemoryStore', 'McpAsyncError']),
    );
    expect(result.exported[`${name}/mcp`]).toEqual(
      expect.arrayContaining(['registerAsyncTools', 'serverFactory', 'callToolWithContinuation']),
    );
    expect(result.exported[`${name}/mcp/v1`]).toEqual(
      expect.arrayContaining(['registerAsyncTools', 'withTasks', 'callToolWithContinuation']),
    );
    expect(result.exported[`${name}/store`]).toEqual(
      expect.arrayContaining(['serializeError', 'deserializeError']),
    );
    expect(result.exported[`${name}/workers`]).toEqual(expect.arrayContaining(['WorkerPool']));
    expect(result.exported[`${name}/sqlite`]).toEqual(expect.arrayContaining(['SqliteStore']));
    expect(result.exported[`${name}/redis`]).toEqual(expect.arrayContaining(['RedisStore']));
    expect(result.inline).toEqual(['completed', 42]);
    expect(result.worker).toEqual(['completed', 42]);
    expect(result.tools).toBe('object');
    expect(result.factory).toBe('function');
  }, 60_000);

  it('type-checks against the shipped declarations (module nodenext, strict, skipLibCheck off)', async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            target: 'ES2022',
            // DOM: the MCP SDK's own declarations (shared/transport.d.ts) use the DOM type
            // HeadersInit, which @types/node does not declare; without it, skipLibCheck: false
            // fails in the SDK, not in mcp-async.
            lib: ['ES2023', 'DOM'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            types: ['node'],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: ['app.ts'],
        },
        null,
        2,
      )}\n`,
    );
    await writeFile(
      join(app, 'app.ts'),
      `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { Executor, type ExecutorOptions, MemoryStore, type OperationResult } from 'mcp-async';
import { type AsyncTools as AsyncToolsV2, registerAsyncTools as registerV2, serverFactory } from 'mcp-async/mcp';
import { type AsyncTools, registerAsyncTools } from 'mcp-async/mcp/v1';
import { z } from 'zod';
import { RedisStore, type RedisStoreOptions } from 'mcp-async/redis';
import { SqliteStore, type SqliteStoreOptions } from 'mcp-async/sqlite';
import { type OperationStore, type SerializedResult, serializeError, serializeResult } from 'mcp-async/store';
import { WorkerPool, type WorkerTask } from 'mcp-async/workers';

const options: ExecutorOptions = { defaultWaitMs: 1000 };
const e = new Executor(options);
const r: OperationResult<number> = await e.execute(async () => 1, { type: 'x' });
if (r.status === 'completed') {
  const n: number = r.result;
  console.log(n + 1);
}

const store: OperationStore = new MemoryStore();
const sqliteOptions: SqliteStoreOptions = { path: ':memory:' };
const durable: OperationStore = new SqliteStore(sqliteOptions);
const redisOptions: RedisStoreOptions | undefined = undefined;
const redisClass: typeof RedisStore = RedisStore;
const serialized: [string, SerializedResult] = [serializeError(new Error('x')), serializeResult(1, 1000)];
const task: WorkerTask = { module: new URL('./work.mjs', import.meta.url), exportName: 'double' };
const doubled: Promise<number> = new WorkerPool().run<number>(task, 21);
const tools: AsyncTools = registerAsyncTools(new McpServer({ name: 'app', version: '1.0.0' }), e);
const toolsV2: AsyncToolsV2 = registerV2(new McpServerV2({ name: 'app', version: '1.0.0' }), e);
toolsV2.registerTool('render', { inputSchema: z.object({ frames: z.number() }), estimate: ({ frames }) => frames * 10 }, async ({ frames }) => ({
  content: [{ type: 'text', text: String(frames) }],
}));
const factory = serverFactory(e, { name: 'app', version: '1.0.0' }, (registered) => registered.toolNames);
console.log(store, durable, redisOptions, redisClass, serialized, doubled, tools, factory);

// @ts-expect-error defaultWaitMs is a number of milliseconds, not a string
new Executor({ defaultWaitMs: 'soon' });
`,
    );
    await run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], app);
  }, 60_000);
});

/** The README's TypeScript code block that follows `<!-- snippet: <name> -->`. */
async function readmeSnippet(name: string): Promise<string> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name} -->\n\`\`\`ts\n([\\s\\S]*?)\n\`\`\``).exec(readme);
  if (match === null) throw new Error(`README.md has no code block after <!-- snippet: ${name} -->`);
  return `${match[1]}\n`;
}

/** Copies an app's installed packages but the symlinked peers: mcp-async and its own dependencies. */
async function copyInstalled(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue; // a peer linked from the repo
    const source = join(from, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('@')) await copyInstalled(source, join(to, entry.name));
    else await cp(source, join(to, entry.name), { recursive: true, verbatimSymlinks: true });
  }
}

/**
 * An app with the tarball's install (copied from the first app, real files) and only `peers` linked
 * from the repo: an import of anything else, such as the other SDK line, fails in it as it would for
 * a user who never installed it. The README's snippets named `snippets` are written into it as they
 * are, and compiled by `tsc` (strict, module nodenext, skipLibCheck off) into `out/`.
 */
async function snippetApp(prefix: string, peers: string[], snippets: string[]): Promise<string> {
  const dir = await tempDir(prefix);
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: prefix, private: true, type: 'module' })}\n`,
  );
  await copyInstalled(join(app, 'node_modules'), join(dir, 'node_modules'));
  for (const name of [...peers, '@types/node']) {
    const to = join(dir, 'node_modules', name);
    await mkdir(dirname(to), { recursive: true });
    await symlink(join(repo, 'node_modules', name), to, 'dir');
  }
  for (const name of snippets) await writeFile(join(dir, `${name}.ts`), await readmeSnippet(name));
  await writeFile(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'], // DOM: see the first app's tsconfig
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        outDir: 'out',
      },
      files: snippets.map((name) => `${name}.ts`),
    })}\n`,
  );
  await run(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
  return dir;
}

type CallTool = (name: string, args: Record<string, unknown>) => Promise<unknown>;
type Answer = { content: { type: string; text?: string }[]; _meta?: Record<string, unknown> };

/** The README's `render` tool, called past its 2 s wait: "still running", then continue_operation. */
async function renderThroughContinuation(callTool: CallTool): Promise<string> {
  const first = (await callTool('render', { frames: 25 })) as Answer;
  const state = first._meta?.[OPERATION_META_KEY] as RunningState | undefined;
  expect(state?.status).toBe('running');
  const done = (await callTool('continue_operation', {
    operation_id: state!.operation_id,
    wait_seconds: 30,
  })) as Answer;
  return done.content.map((part) => part.text ?? '').join('');
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe("the README's SDK v2 snippets, in an app with only the v2 packages", () => {
  let v2App = '';
  beforeAll(async () => {
    v2App = await snippetApp(
      'mcp-async-v2-app-',
      ['@modelcontextprotocol/server', '@modelcontextprotocol/client', '@modelcontextprotocol/node', 'zod'],
      ['v2-stdio', 'v2-http'],
    );
    expect(existsSync(join(v2App, 'node_modules', '@modelcontextprotocol', 'sdk'))).toBe(false);
  }, 240_000);

  it('stdio: a render outlives its wait, and continue_operation fetches its result (2026-07-28)', async () => {
    const client = new Client(
      { name: 'readme-test', version: '0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(v2App, 'out', 'v2-stdio.js')],
        cwd: v2App,
        env: childEnv() as Record<string, string>,
        stderr: 'inherit',
      }),
    );
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const text = await renderThroughContinuation((name, args) => client.callTool({ name, arguments: args }));
    expect(text).toBe('Rendered 25 frames.');
    await client.close();
  }, 60_000);

  it('Streamable HTTP: both eras, continue_operation across requests, each on a fresh server', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(v2App, 'out', 'v2-http.js')], {
      cwd: v2App,
      env: { ...childEnv(), PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const url = await new Promise<URL>((resolveUrl, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk;
        const match = /MCP server on (http:\/\/\S+)/.exec(out);
        if (match !== null) resolveUrl(new URL(match[1]!));
      });
      child.once('exit', (code) => reject(new Error(`the snippet exited with ${code}: ${out}`)));
    });
    const eras = [{}, { versionNegotiation: { mode: { pin: '2026-07-28' as const } } }];
    const texts = await Promise.all(
      eras.map(async (options) => {
        const client = new Client({ name: 'readme-test', version: '0' }, options);
        await client.connect(new StreamableHTTPClientTransport(url));
        const text = await renderThroughContinuation((name, args) =>
          client.callTool({ name, arguments: args }),
        );
        const era = client.getNegotiatedProtocolVersion();
        await client.close();
        return `${era}: ${text}`;
      }),
    );
    expect(texts).toEqual(['2025-11-25: Rendered 25 frames.', '2026-07-28: Rendered 25 frames.']);
    child.kill('SIGTERM');
  }, 60_000);
});

describe("the README's SDK v1 snippet, in an app with only SDK 1.x", () => {
  let v1App = '';
  beforeAll(async () => {
    v1App = await snippetApp('mcp-async-v1-app-', ['@modelcontextprotocol/sdk', 'zod'], ['v1-stdio']);
    expect(existsSync(join(v1App, 'node_modules', '@modelcontextprotocol', 'server'))).toBe(false);
  }, 240_000);

  it('stdio: a render outlives its wait, and continue_operation fetches its result', async () => {
    const client = new ClientV1({ name: 'readme-test', version: '0' });
    await client.connect(
      new StdioClientTransportV1({
        command: process.execPath,
        args: [join(v1App, 'out', 'v1-stdio.js')],
        cwd: v1App,
        env: childEnv() as Record<string, string>,
        stderr: 'inherit',
      }),
    );
    const text = await renderThroughContinuation((name, args) => client.callTool({ name, arguments: args }));
    expect(text).toBe('Rendered 25 frames.');
    await client.close();
  }, 60_000);
});
