import { describe, expect, it } from 'vitest';
import { FakeClient, runWith } from './test-helpers.js';

describe('longshore dev ecs-endpoint', () => {
  it('refuses a bad --listen, --cluster or --stop-timeout before starting anything, naming the flag', async () => {
    for (const [args, message] of [
      [['--listen', '4566'], /--listen "4566": give HOST:PORT \(e\.g\. --listen 127\.0\.0\.1:4566/],
      [['--listen', '127.0.0.1:99999'], /--listen/],
      [['--cluster', 'no spaces'], /--cluster "no spaces"/],
      [['--stop-timeout', '1.5'], /--stop-timeout "1.5": give whole seconds/],
    ] as const) {
      const r = await runWith(new FakeClient(), ['dev', 'ecs-endpoint', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('refuses to listen beyond loopback without --allow-remote, saying why', async () => {
    const r = await runWith(new FakeClient(), ['dev', 'ecs-endpoint', '--listen', '0.0.0.0:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to listen on 0\.0\.0\.0.*--allow-remote/);
  });

  it('shows examples and the environment to point clients at it in its help', async () => {
    const r = await runWith(new FakeClient(), ['dev', 'ecs-endpoint', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('AWS_ENDPOINT_URL_ECS=');
    expect(r.stdout).toContain('AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=');
    expect(r.stdout).toContain('$ longshore dev ecs-endpoint');
  });
});
