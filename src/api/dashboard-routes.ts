import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Built by scripts/build-dashboard.mjs into dist/dashboard (two levels up from src/api or dist/api). */
const dashboardDir = fileURLToPath(new URL('../../dist/dashboard/', import.meta.url));

const files: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function registerDashboardRoutes(app: FastifyInstance): void {
  for (const [route, file] of Object.entries(files)) {
    app.get(route, async (_req, reply) => {
      const body = await readFile(dashboardDir + file).catch(() => null);
      if (body === null) return reply.code(404).type('text/plain').send(`dashboard not built: run npm run build (missing ${file})`);
      const ext = file.split('.').pop() ?? 'html';
      return reply
        .type(types[ext] ?? 'application/octet-stream')
        .header('cache-control', file === 'index.html' ? 'no-cache' : 'public, max-age=300')
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
        .send(body);
    });
  }
}
