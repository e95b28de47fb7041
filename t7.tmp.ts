import { decodeJson } from './src/otlp/decode-json.js';
const n = (l: number) => '{"arrayValue":{"values":['.repeat(l) + '{}' + ']}}'.repeat(l);
const rec = (f: string) => `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{${f}}]}]}]}`;
try { decodeJson('logs', rec(`"severityText":"a: 12345678901234567]","timeUnixNano":1795315549135000001,"body":${n(200000)}`)); } catch (e) { console.log((e as Error).message); }
try { decodeJson('logs', rec(`"body":${n(200000)}`)); } catch (e) { console.log((e as Error).message.slice(0, 200)); }
console.log(decodeJson('logs', rec(`"severityText":"a: 12345678901234567]","timeUnixNano":1795315549135000001,"body":${n(3)}`)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.timeUnixNano);
