import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { sendLogs } from './support/otel.js';
import { freePort, tempDataDir } from './support/postgres.js';
import { eventually } from './support/usage.js';

const run = promisify(execFile);
const tsx = ['--import', 'tsx'];

/** The environment of a server and its CLI on `dataDir`: free loopback ports, no scheduled pipeline. */
async function serverEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  return {
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
}

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
    env = await serverEnv(dataDir);
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
    // The service logs this last, after the first-start banner when there is one.
    while (!/ai-usage-receiver listening/.test(out)) {
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

  it('prints usage as the API answers it (--json, csv, table), status with its fields, and refuses days past retention', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const dayBefore = (n: number) => new Date(Date.parse(day) - n * 86_400_000).toISOString().slice(0, 10);
    expect((await cli('tenants', 'create', 'brief', '--retention-days', '1', '--json')).code).to.equal(0);
    const token = async (scope: string) => (JSON.parse((await cli('tokens', 'create', '--tenant', 'brief', '--scope', scope, '--json')).stdout) as { token: string }).token;
    const [ingest, read] = [await token('ingest'), await token('read')];
    const kim = { 'user.email': 'kim@example.com', 'user.id': 'install-k', 'session.id': 'k1' };
    const lou = { 'user.id': 'install-l', 'session.id': 'l1' };
    const api = (who: object, model: string, cost: number, input: number) => ({
      body: 'claude_code.api_request',
      attributes: { ...who, 'event.name': 'api_request', model, cost_usd: cost, input_tokens: input, output_tokens: 3, cache_read_tokens: 0, cache_creation_tokens: 0 },
    });
    const sent = await sendLogs('http/json', { grpc: `http://127.0.0.1:${env['OTLP_GRPC_PORT']}`, http: `http://127.0.0.1:${env['OTLP_HTTP_PORT']}` }, ingest, { 'service.name': 'claude-code' }, [
      { body: 'claude_code.user_prompt', attributes: { ...kim, 'event.name': 'user_prompt', 'prompt.id': 'a' } },
      { body: 'claude_code.user_prompt', attributes: { ...kim, 'event.name': 'user_prompt', 'prompt.id': 'b' } },
      api(kim, 'opus', 0.5, 100),
      { body: 'claude_code.user_prompt', attributes: { ...lou, 'event.name': 'user_prompt', 'prompt.id': 'c' } },
      api(lou, 'haiku', 0.0625, 10),
    ]);
    expect(sent.ok, String(sent.error)).to.equal(true);
    const run = await cli('pipeline', 'run', '--tenant', 'brief', '--from', day, '--to', day, '--json');
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({ tenant: 'brief', from: day, to: day, days: 1 });

    const fromApi = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${env['API_PORT']}${path}`, { headers: { authorization: `Bearer ${read}` } });
      expect(res.status).to.equal(200);
      return res.text();
    };
    for (const by of ['seat', 'model', 'surface']) {
      const cliJson = await cli('usage', '--tenant', 'brief', '--from', day, '--to', day, '--by', by, '--json');
      expect(cliJson.code, cliJson.stderr).to.equal(0);
      expect(JSON.parse(cliJson.stdout), `--by ${by} --json`).to.deep.equal(JSON.parse(await fromApi(`/api/v1/usage/daily?from=${day}&to=${day}&by=${by}`)));
      const csv = await cli('usage', '--tenant', 'brief', '--from', day, '--to', day, '--by', by, '--format', 'csv');
      expect(csv.stdout, `--by ${by} --format csv`).to.equal(await fromApi(`/api/v1/usage/daily?from=${day}&to=${day}&by=${by}&format=csv`));
    }
    const seats = JSON.parse(await fromApi(`/api/v1/usage/daily?from=${day}&to=${day}&by=seat`)) as { rows: Record<string, unknown>[] };
    expect(seats.rows.map((r) => [r['seat'], r['sessions'], r['prompts'], r['costUsd'], r['inputTokens']])).to.deep.equal([
      ['kim@example.com', 1, 2, 0.5, 100],
      ['user:install-l', 1, 1, 0.0625, 10],
    ]);
    const table = (await cli('usage', '--tenant', 'brief', '--from', day, '--to', day)).stdout.trimEnd().split('\n').map((l) => l.split(/\s+/));
    expect(table).to.deep.equal([
      ['day', 'seat', 'sessions', 'costUsd', 'inputTokens', 'outputTokens', 'linesAdded', 'commits', 'prompts', 'toolCalls'],
      [day, 'kim@example.com', '1', '0.5', '100', '3', '0', '0', '2', '0'],
      [day, 'user:install-l', '1', '0.0625', '10', '3', '0', '0', '1', '0'],
    ]);

    const status = JSON.parse((await cli('status', '--tenant', 'brief', '--json')).stdout) as Record<string, unknown>;
    expect(status).to.deep.equal(JSON.parse(await fromApi('/api/v1/connect/status')));
    expect(Object.keys(status).sort()).to.deep.equal(['lastReceivedAt', 'receiving', 'seats', 'surfaces', 'tenant']);
    expect(status).to.include({ tenant: 'brief', receiving: true, seats: 2 });
    const surfaces = status['surfaces'] as { surface: string; lastSeenAt: string }[];
    expect(surfaces.map((s) => s.surface)).to.deep.equal(['claude_code']);
    expect(Date.now() - Date.parse(surfaces[0]?.lastSeenAt ?? '')).to.be.within(0, 120_000);
    expect(status['lastReceivedAt']).to.equal(surfaces[0]?.lastSeenAt);
    const text = (await cli('status', '--tenant', 'brief')).stdout.split('\n');
    expect(text[0]).to.equal('Receiving from 2 seat(s)');
    expect(text[1]?.split(/\s+/)).to.deep.equal(['surface', 'lastSeenAt']);
    expect(text[2]?.split(/\s+/)).to.deep.equal(['claude_code', surfaces[0]?.lastSeenAt]);

    // Retention 1: yesterday is the oldest day with all its raw records; older days are refused, nothing runs.
    const refused = await cli('pipeline', 'run', '--tenant', 'brief', '--from', dayBefore(3), '--to', day, '--json');
    expect(refused.code).to.not.equal(0);
    expect(refused.stdout).to.equal('');
    expect(refused.stderr).to.include(`error: cannot recompute ${dayBefore(3)}`);
    expect(refused.stderr).to.include(`the first day that can be recomputed is ${dayBefore(1)}`);
    expect((await cli('pipeline', 'run', '--tenant', 'brief', '--from', dayBefore(1), '--to', day)).stdout).to.match(/^recomputed 2 day\(s\) for brief in \d+ ms\n$/);
  });
});

/**
 * `ai-usage serve --json` on a DATA_DIR of its own (so its first start is its own): one JSON
 * document on stdout once it listens, with the ports and, on the first start only, the tenant
 * and both tokens; logs go to stderr.
 */
describe('ai-usage serve --json', function () {
  this.timeout(120_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ChildProcess | null = null;

  before(async () => {
    dataDir = await tempDataDir('serve-json');
    env = await serverEnv(dataDir);
  });
  after(async () => {
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts `serve --json` and resolves with its stdout once that holds a whole JSON document. */
  async function serveJson(): Promise<{ info: Record<string, unknown>; stdout: () => string; stderr: () => string }> {
    const child = spawn(process.execPath, [...tsx, 'src/cli/main.ts', 'serve', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const deadline = Date.now() + 90_000;
    for (;;) {
      try {
        return { info: JSON.parse(out) as Record<string, unknown>, stdout: () => out, stderr: () => err };
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve --json printed no JSON:\nstdout: ${out}\nstderr: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  async function stop(): Promise<number | null> {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    child.kill('SIGTERM');
    return new Promise((r) => child.on('exit', (code) => r(code)));
  }

  it('prints the ports and the first-start tenant and tokens as JSON, and only JSON, on stdout', async () => {
    const first = await serveJson();
    const info = first.info;
    expect(Object.keys(info).sort()).to.deep.equal(['endpoints', 'firstStart', 'ports', 'store']);
    expect(info['ports']).to.deep.equal({ grpc: Number(env['OTLP_GRPC_PORT']), http: Number(env['OTLP_HTTP_PORT']), api: Number(env['API_PORT']) });
    expect(info['store']).to.equal('postgres');
    expect(info['endpoints']).to.deep.equal({
      grpc: `http://localhost:${env['OTLP_GRPC_PORT']}`,
      http: `http://localhost:${env['OTLP_HTTP_PORT']}`,
      dashboard: `http://localhost:${env['API_PORT']}/`,
    });
    const fs = info['firstStart'] as { tenant: string; ingest: Record<string, string>; read: Record<string, string> };
    expect(fs.tenant).to.equal('default');
    expect(fs.ingest).to.include({ tenant: 'default', scope: 'ingest' });
    expect(fs.read).to.include({ tenant: 'default', scope: 'read' });
    expect(fs.ingest['token']).to.match(/^aiu_[A-Za-z0-9_-]{43}$/);
    expect(fs.read['token']).to.match(/^aiu_[A-Za-z0-9_-]{43}$/);
    expect(fs.read['token']).to.not.equal(fs.ingest['token']);
    // No banner and no log lines on stdout: the whole of it is the one document.
    expect(first.stdout()).to.not.match(/first start|"level"/);
    // The logs went to stderr (a pipe of their own, so they may arrive after the document).
    await eventually(async () => expect(first.stderr()).to.match(/listening/));
    expect(first.stderr()).to.not.include(fs.read['token']);

    // Both printed tokens are live: the read token reads the tenant, the ingest token sends.
    const whoami = await fetch(`http://127.0.0.1:${env['API_PORT']}/api/v1/whoami`, { headers: { authorization: `Bearer ${fs.read['token']}` } });
    expect(whoami.status).to.equal(200);
    expect(await whoami.json()).to.include({ tenant: 'default', scope: 'read', tokenId: fs.read['id'] });
    const sent = await fetch(`http://127.0.0.1:${env['OTLP_HTTP_PORT']}/v1/logs`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${fs.ingest['token']}` },
    });
    expect(sent.status).to.equal(200);
    expect(await stop()).to.equal(0);

    // A later start creates nothing and says so.
    const second = await serveJson();
    expect(second.info['firstStart']).to.equal(null);
    expect(second.info['ports']).to.deep.equal(info['ports']);
    expect(second.stdout()).to.not.include('aiu_');
    expect(await stop()).to.equal(0);
  });

  it('stops before starting anything on a pipeline schedule Agenda could not run, naming the variable', async () => {
    for (const [key, value] of [['PIPELINE_INTERVAL', 'soon'], ['PIPELINE_DAILY_CRON', '1 day']] as const) {
      // A serve that did start would not exit: the timeout ends it, and the exit check fails.
      const r = await run(process.execPath, [...tsx, 'src/cli/main.ts', 'serve', '--json'], { env: { ...env, [key]: value }, timeout: 60_000 }).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(r.code, key).to.not.equal(0);
      expect(r.stdout, key).to.equal('');
      expect(r.stderr, key).to.include(`${key}: "${value}"`);
    }
  });
});
