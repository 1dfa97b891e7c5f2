import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAssets } from './assets.js';

describe('the UI built at build time', () => {
  it('is read from dist/public, where npm run build bundles it', async () => {
    const assets = await loadAssets();
    expect(assets.get('/app.js')?.body.length).toBeGreaterThan(1000);
    expect(assets.get('/app.css')?.contentType).toMatch(/^text\/css/);
  });

  it('missing, fails with an error that names npm run build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'console-public-'));
    await expect(loadAssets(empty)).rejects.toThrow(/app\.js is missing\): run "npm run build" first/);
  });
});
