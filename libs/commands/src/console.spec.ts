import { describe, expect, it } from 'vitest';
import { FakeClient, runWith } from './test-helpers.js';

describe('longshore console', () => {
  it('refuses a bad --listen before starting anything, naming the flag and an example', async () => {
    for (const bad of ['7480', 'localhost:99999', 'a b:80']) {
      const r = await runWith(new FakeClient(), ['console', '--listen', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--listen "${bad}": give HOST:PORT (e.g. --listen 127.0.0.1:7480`);
    }
  });
});
