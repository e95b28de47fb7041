import { readFileSync } from 'node:fs';
import { decodeJson } from './src/otlp/decode-json.js';
import { decodeProtobuf } from './src/otlp/decode-protobuf.js';
import { encodeRequest } from './src/otlp/encode-request.js';
import { requestType } from './src/otlp/proto.js';
const body = JSON.parse(readFileSync('/work/shared/reference/claude-code-2.1.328-capture/logs.json', 'utf8')).body;
const recs = body.resourceLogs[0].scopeLogs[0].logRecords;
const many = []; for (let i = 0; i < 1000; i++) many.push(recs[i % recs.length]);
body.resourceLogs[0].scopeLogs[0].logRecords = many;
const text = JSON.stringify(body);
const req = decodeJson('logs', text);
const pb = encodeRequest('logs', req);
console.log('bytes pb', pb.length, 'json', text.length);
function bench(name: string, fn: () => void) {
  for (let i = 0; i < 20; i++) fn();
  const t = process.hrtime.bigint(); let n = 0;
  while (process.hrtime.bigint() - t < 2_000_000_000n) { fn(); n++; }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(name, Math.round(n * 1000 / s), 'records/s');
}
bench('protobuf', () => decodeProtobuf('logs', pb));
const T = requestType('logs');
bench('protobufjs Type.decode only', () => T.decode(pb));
bench('json', () => decodeJson('logs', text));
bench('JSON.parse only', () => JSON.parse(text));
const textBig = text.replace(/"(\d{19})"/g, '$1');
bench('json lossless path', () => decodeJson('logs', textBig));
