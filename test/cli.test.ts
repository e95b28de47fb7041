import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { freePort, tempDataDir } from './support/postgres.js';

const run = promisify(execFile);
const tsx = ['--import', 'tsx'];

/**
 * The service and the `ai-usage` CLI as separate processes on one DATA_DIR with
 * the embedded PostgreSQL: first start prints the tenant and tokens once, the
 * CLI works next to the running server, and errors go to stderr with a non-zero exit.
 */
describe('first start and the ai-usage CLI', function () {
  this.timeout(120_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | null = null;

  before(async () => {
    dataDir = await tempDataDir('cli');
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      OTLP_GRPC_PORT: String(await freePort()),
      OTLP_HTTP_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      BIND_HOST: '127.0.0.1',
      PIPELINE_ENABLED: 'false',
      LOG_LEVEL: 'info',
    };
  });
  after(async () => {
    await stopServer();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startServer(): Promise<string> {
    const child = spawn(process.execPath, [...tsx, 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    const deadline = Date.now() + 60_000;
    // The banner, when there is one, is printed right after the listening line.
    while (!/pipeline|listening/.test(out) || (/first start/.test(out) && !/={20,}\n\s*$/.test(out))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    return out;
  }
  async function stopServer(): Promise<number | null> {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    child.kill('SIGTERM');
    return new Promise((r) => child.on('exit', (code) => r(code)));
  }
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [...tsx, 'src/cli/main.ts', ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  it('prints the default tenant, its tokens and the Claude Code lines on first start only', async () => {
    const first = await startServer();
    expect(first).to.match(/Created tenant "default"/);
    expect(first).to.match(/ingest token: aiu_[A-Za-z0-9_-]{43}/);
    expect(first).to.match(/OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/localhost:\d+/);
    expect(first).to.match(/OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer aiu_/);
    const ingest = /ingest token: (aiu_\S+)/.exec(first)?.[1] as string;
    // The printed token is live.
    const res = await fetch(`http://127.0.0.1:${env['OTLP_HTTP_PORT']}/v1/logs`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${ingest}` },
    });
    expect(res.status).to.equal(200);
    expect(await stopServer()).to.equal(0);
    const second = await startServer();
    expect(second).to.not.match(/first start|aiu_/);
  });

  it('manages tenants and tokens next to the running server, with --json', async () => {
    const created = await cli('tenants', 'create', 'acme', '--name', 'Acme Inc', '--timezone', 'Europe/Berlin', '--json');
    expect(created.code, created.stderr).to.equal(0);
    expect(JSON.parse(created.stdout)).to.include({ id: 'acme', name: 'Acme Inc', timezone: 'Europe/Berlin' });

    const list = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as { tenants: { id: string }[] };
    expect(list.tenants.map((t) => t.id).sort()).to.deep.equal(['acme', 'default']);

    const tok = JSON.parse((await cli('tokens', 'create', '--tenant', 'acme', '--scope', 'ingest', '--json')).stdout) as Record<string, string>;
    expect(Object.keys(tok).sort()).to.deep.equal(['id', 'scope', 'tenant', 'token']);
    expect(tok).to.include({ tenant: 'acme', scope: 'ingest' });
    const send = (token: string) => fetch(`http://127.0.0.1:${env['OTLP_HTTP_PORT']}/v1/logs`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect((await send(tok['token'] as string)).status).to.equal(200);

    const rotated = JSON.parse((await cli('tokens', 'rotate', tok['id'] as string, '--json')).stdout) as Record<string, string>;
    expect(rotated['replaces']).to.equal(tok['id']);
    expect(rotated['token']).to.not.equal(tok['token']);
    const listed = JSON.parse((await cli('tokens', 'list', '--tenant', 'acme', '--json')).stdout) as { tokens: { id: string; revokedAt: string | null }[] };
    expect(listed.tokens.find((t) => t.id === tok['id'])?.revokedAt).to.be.a('string');
    expect(listed.tokens.find((t) => t.id === rotated['id'])?.revokedAt).to.equal(null);
    expect(JSON.stringify(listed)).to.not.include(rotated['token'] as string);

    // Revocation reaches the running server within the token cache TTL (5 s by default).
    const revoked = await cli('tokens', 'revoke', rotated['id'] as string, '--json');
    expect(revoked.code).to.equal(0);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await send(rotated['token'] as string)).status;
    }
    expect(status).to.equal(401);
  });

  it('puts errors on stderr with a non-zero exit', async () => {
    for (const args of [
      ['tenants', 'create', 'Bad Id!'],
      ['tenants', 'create', 'acme'],
      ['tenants', 'create', 'zed', '--timezone', 'Mars/Olympus'],
      ['tokens', 'create', '--tenant', 'nobody', '--scope', 'ingest'],
      ['tokens', 'create', '--tenant', 'acme', '--scope', 'root'],
      ['tokens', 'revoke', 'tok_doesnotexist'],
      ['usage', '--tenant', 'acme', '--from', '2026-02-30', '--to', '2026-03-01'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).to.not.equal(0);
      expect(r.stderr, args.join(' ')).to.match(/error|invalid|unknown|no |exists|not a date/i);
      expect(r.stdout, args.join(' ')).to.equal('');
    }
  });

  it('runs the pipeline and prints usage and status as JSON', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const run1 = JSON.parse((await cli('pipeline', 'run', '--tenant', 'acme', '--from', day, '--to', day, '--json')).stdout) as { days: number };
    expect(run1.days).to.equal(1);
    const usage = JSON.parse((await cli('usage', '--tenant', 'acme', '--from', day, '--to', day, '--by', 'seat', '--json')).stdout) as Record<string, unknown>;
    expect(usage).to.include({ tenant: 'acme', from: day, to: day });
    expect(usage['rows']).to.be.an('array');
    const status = JSON.parse((await cli('status', '--tenant', 'acme', '--json')).stdout) as Record<string, unknown>;
    expect(status).to.include({ tenant: 'acme' });
    expect(status['seats']).to.be.a('number');
  });
});
