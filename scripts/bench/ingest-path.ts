import { decodeProtobuf } from '../../src/otlp/decode-protobuf.js';
import { decodeJson } from '../../src/otlp/decode-json.js';
import { Rejections } from '../../src/ingest/normalize-common.js';
import { normalizeLogs } from '../../src/ingest/normalize-logs.js';
import { prepareBatch } from '../../src/store/postgres/write-batch.js';
import { createSeenCache } from '../../src/store/postgres/seen.js';
import { benchNormalizeOptions } from './normalize-options.js';
import { createRng } from './rng.js';
import { fmt, table } from './report.js';
import { logTemplates, materialize, type Encoding } from './templates.js';

/**
 * The receiver's own CPU per log record, stage by stage, in this process (no network, no
 * database): decode, normalize, and the PostgreSQL adapter's COPY serialization. Steadier
 * than the end-to-end benchmark for judging a change to one stage.
 *   node --import tsx scripts/bench/ingest-path.ts [records] [protobuf|json]
 */

const RECORDS = Number(process.argv[2] ?? 200_000);
const encoding = (process.argv[3] ?? 'protobuf') as Encoding;
const rng = createRng(42);
const tenantId = 'bench';
const sizes = [1, 4, 16, 64, 128, 256, 512];
const templates = sizes.map((n) => logTemplates(rng, tenantId, n)[encoding]);
const requests: Buffer[] = [];
let total = 0;
let ns = (BigInt(Date.now()) - 3_600_000n) * 1_000_000n;
for (let i = 0; total < RECORDS; i++) {
  const t = templates[i % templates.length]!;
  requests.push(materialize(t, { seat: Buffer.from(String(i % 1000).padStart(6, '0')), session: Buffer.from(rng.uuid()), firstNs: ns, stepNs: 1000n, intervalNs: 60_000_000_000n }));
  ns += BigInt(t.records) * 1000n;
  total += t.records;
}

const opts = benchNormalizeOptions(tenantId);
const decode = (b: Buffer) => (encoding === 'json' ? decodeJson('logs', b.toString('utf8')) : decodeProtobuf('logs', b));

function pass() {
  const seen = createSeenCache();
  let decodeMs = 0;
  let normalizeMs = 0;
  let prepareMs = 0;
  let bytes = 0;
  for (const body of requests) {
    const t0 = performance.now();
    const req = decode(body);
    const t1 = performance.now();
    const events = normalizeLogs(req, opts, new Rejections());
    const t2 = performance.now();
    bytes += prepareBatch(seen, tenantId, { events, points: [], spans: [] }).bytes;
    prepareMs += performance.now() - t2;
    normalizeMs += t2 - t1;
    decodeMs += t1 - t0;
  }
  return { decodeMs, normalizeMs, prepareMs, bytes };
}

pass();
const rows: (string | number)[][] = [];
for (let round = 1; round <= 3; round++) {
  const r = pass();
  const us = (ms: number) => (ms * 1000) / total;
  rows.push([round, us(r.decodeMs), us(r.normalizeMs), us(r.prepareMs), us(r.decodeMs + r.normalizeMs + r.prepareMs), r.bytes / total]);
}
process.stdout.write(`${total.toLocaleString('en-US')} log records in ${requests.length} ${encoding} requests of ${sizes.join('/')} records\n`);
process.stdout.write(`${table(['pass', 'decode µs/rec', 'normalize µs/rec', 'COPY rows µs/rec', 'total µs/rec', 'COPY bytes/rec'], rows)}\n`);
process.stdout.write(`(best total ${fmt(Math.min(...rows.map((r) => r[4] as number)))} µs/rec)\n`);
