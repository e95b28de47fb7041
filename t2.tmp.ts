import { readFileSync } from 'node:fs';
import { decodeJson } from './src/otlp/decode-json.js';
import { decodeProtobuf } from './src/otlp/decode-protobuf.js';
import { encodeRequestProtobuf } from './src/otlp/encode-request.js';
import { requestType } from './src/otlp/proto.js';
import { isDeepStrictEqual } from 'node:util';
for (const s of ['logs', 'metrics', 'traces'] as const) {
  const text = JSON.stringify(JSON.parse(readFileSync(`/work/shared/reference/claude-code-2.1.328-capture/${s}.json`, 'utf8')).body);
  const j = decodeJson(s, text);
  const pb = encodeRequestProtobuf(s, text);
  const p = decodeProtobuf(s, pb);
  console.log(s, pb.length, isDeepStrictEqual(j, p));
  const viaPbjs = requestType(s).toObject(requestType(s).decode(pb), { longs: String, bytes: String });
  if (s === 'traces') console.log(JSON.stringify(viaPbjs).slice(0, 300), JSON.stringify(p, (k, v) => typeof v === 'bigint' ? v.toString() : v).slice(0, 300));
}
