import { readFileSync } from 'node:fs';
import { decodeJson } from './src/otlp/decode-json.js';
import { decodeProtobuf } from './src/otlp/decode-protobuf.js';
import { encodeRequest } from './src/otlp/encode-request.js';
const body = JSON.parse(readFileSync('/work/shared/reference/claude-code-2.1.328-capture/logs.json', 'utf8')).body;
const recs = body.resourceLogs[0].scopeLogs[0].logRecords;
const many = []; for (let i = 0; i < 1000; i++) { const r = structuredClone(recs[i % recs.length]); for (const a of r.attributes) if (a.value.stringValue) a.value.stringValue += '-' + i; many.push(r); }
body.resourceLogs[0].scopeLogs[0].logRecords = many;
const text = JSON.stringify(body);
const pb = encodeRequest('logs', decodeJson('logs', text));
function bench(name: string, fn: () => void) {
  for (let i = 0; i < 20; i++) fn();
  const t = process.hrtime.bigint(); let n = 0;
  while (process.hrtime.bigint() - t < 2_000_000_000n) { fn(); n++; }
  console.log(name, Math.round(n * 1000 / (Number(process.hrtime.bigint() - t) / 1e9)), 'records/s');
}
bench('protobuf all values unique', () => decodeProtobuf('logs', pb));
bench('json all values unique', () => decodeJson('logs', text));
