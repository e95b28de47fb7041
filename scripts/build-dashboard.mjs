#!/usr/bin/env node
// Bundles the dashboard (src/dashboard/main.ts, its CSS and uPlot) into dist/dashboard/{index.html, app.js, app.css}.
// Plain ESM JavaScript so it runs at install time without tsx. `--sourcemap` adds inline source maps for debugging.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceDir = `${root}src/dashboard/`;
const outDir = `${root}dist/dashboard/`;
const sourcemap = process.argv.includes('--sourcemap');

async function main() {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: { app: `${sourceDir}main.ts` },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: sourcemap ? 'inline' : false,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => file.split('/').pop());
  for (const expected of ['app.js', 'app.css']) {
    if (!outputs.includes(expected)) throw new Error(`esbuild did not produce ${expected} (got ${outputs.join(', ')})`);
  }
  // A content hash in the asset URLs, so a new build is never mixed with a cached old one.
  const html = await readFile(`${sourceDir}index.html`, 'utf8');
  const versioned = html
    .replace('href="app.css"', `href="app.css?v=${await hashOf('app.css')}"`)
    .replace('src="app.js"', `src="app.js?v=${await hashOf('app.js')}"`);
  await writeFile(`${outDir}index.html`, versioned);
  const sizes = await Promise.all(
    ['index.html', 'app.js', 'app.css'].map(async (f) => `${f} ${((await readFile(outDir + f)).length / 1024).toFixed(1)} KiB`),
  );
  console.log(`dashboard built into dist/dashboard: ${sizes.join(', ')}`);
}

async function hashOf(file) {
  return createHash('sha256').update(await readFile(outDir + file)).digest('hex').slice(0, 12);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
