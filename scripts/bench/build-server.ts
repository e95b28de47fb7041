import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/**
 * Compiles src/ and the benchmark's server entry to plain JavaScript under
 * bench-results/build (same layout, one file per module, names kept), so a
 * `--cpu-prof` profile shows real files and lines and no tsx loader thread.
 * Returns the path of the compiled server entry.
 */
export async function buildServer(root: string): Promise<string> {
  const outdir = path.join(root, 'bench-results', 'build');
  const sources = (await fs.readdir(path.join(root, 'src'), { recursive: true }))
    .filter((f) => f.endsWith('.ts') && !f.startsWith('dashboard'))
    .map((f) => path.join(root, 'src', f));
  await build({
    entryPoints: [...sources, path.join(root, 'scripts', 'bench', 'server-child.ts')],
    outbase: root,
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  // proto.ts finds the .proto files two levels above itself.
  await fs.rm(path.join(outdir, 'proto'), { force: true, recursive: true });
  await fs.symlink(path.join(root, 'proto'), path.join(outdir, 'proto'));
  return path.join(outdir, 'scripts', 'bench', 'server-child.js');
}
