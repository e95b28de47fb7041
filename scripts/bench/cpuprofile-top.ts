import fs from 'node:fs';
import path from 'node:path';

/**
 * Summarizes V8 .cpuprofile files (from node --cpu-prof): self time by function, by
 * source file, and inclusive time of chosen functions, so a profile reads without DevTools.
 * Usage: node --import tsx scripts/bench/cpuprofile-top.ts <file.cpuprofile> [top N] [inclusive=name,name]
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, inclusiveArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpuprofile-top.ts <file.cpuprofile> [top N] [inclusive=fn1,fn2]\n');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((s, [, us]) => s + us, 0);

const shortUrl = (url: string) => {
  if (url === '') return '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  return path.relative(process.cwd(), p);
};
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of selfUs) {
  const f = byId.get(id)?.callFrame;
  if (!f || f.functionName === '(idle)') continue;
  add(fns, `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}:${f.lineNumber + 1}`, us);
  add(files, shortUrl(f.url), us);
}

// Inclusive time: a sample counts for a function when the function is anywhere on its stack (once).
const wanted = (inclusiveArg ?? '').replace(/^inclusive=/, '').split(',').filter(Boolean);
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)?.callFrame.functionName ?? '';
    if (wanted.includes(name) && !seen.has(name)) {
      seen.add(name);
      add(inclusive, name, us);
    }
  }
}

const busy = total - idle;
const print = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (% of ${(busy / 1e6).toFixed(2)} s busy; ${(idle / 1e6).toFixed(2)} s idle not counted)\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}\n`);
  }
};
print('self time by function', fns);
print('self time by file', files);
if (wanted.length > 0) print('inclusive time', inclusive);
