import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { configKeys, configSchema } from '../src/config.js';

/** The README is the user's manual: every setting is documented with its real default, and CI runs its test command. */
describe('README', () => {
  let readme: string;
  before(async () => {
    readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  });

  it('documents every setting with its default', () => {
    const defaults = configSchema.parse({}) as Record<string, unknown>;
    for (const key of configKeys) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
      expect(row, `README settings table lacks ${key}`).to.be.a('string');
      const value = defaults[key];
      if (value !== undefined) expect(row, key).to.include(`\`${String(value)}\``);
    }
  });

  it('gives the quick-start commands that CI runs', async () => {
    expect(readme).to.include('npm ci');
    expect(readme).to.include('npm start');
    expect(readme).to.include('npm test');
    const ci = await readFile(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(ci).to.match(/^npm ci\b/m);
    expect(ci).to.match(/^npm test$/m);
  });
});
