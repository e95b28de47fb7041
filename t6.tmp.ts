import { readFileSync } from 'node:fs';
import { decodeJson } from './src/otlp/decode-json.js';
import { decodeProtobuf } from './src/otlp/decode-protobuf.js';
import { encodeRequest } from './src/otlp/encode-request.js';
const body = JSON.parse(readFileSync('/work/shared/reference/claude-code-2.1.328-capture/logs.json', 'utf8')).body;
const recs = body.resourceLogs[0].scopeLogs[0].logRecords;
const uniq = process.argv[2] === 'unique';
const many = []; for (let i = 0; i < 1000; i++) { const r = structuredClone(recs[i % recs.length]); if (uniq) for (const a of r.attributes) if (a.value.stringValue) a.value.stringValue += '-' + i; many.push(r); }
body.resourceLogs[0].scopeLogs[0].logRecords = many;
const text = JSON.stringify(body).replace(/"(\d{19})"/g, '$1');
const pb = encodeRequest('logs', decodeJson('logs', text));
const fmt = process.argv[3] ?? 'pb';
const fn = fmt === 'pb' ? () => decodeProtobuf('logs', pb) : () => decodeJson('logs', text);
for (let i = 0; i < 30; i++) fn();
let best = 0;
for (let round = 0; round < 5; round++) {
  const c = process.cpuUsage(); let n = 0;
  do { fn(); n++; } while (process.cpuUsage(c).user + process.cpuUsage(c).system < 400_000);
  const u = process.cpuUsage(c); best = Math.max(best, n * 1000 / ((u.user + u.system) / 1e6));
}
console.log(process.argv.slice(2).join(' '), Math.round(best), 'records/cpu-s');
