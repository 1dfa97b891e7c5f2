import { freePort } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from './server.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the console server (no cluster behind it)', () => {
  let server: ConsoleServer;
  let dispatcher: string;
  let registry: string;
  beforeAll(async () => {
    // Nothing listens at these ports: every API call fails as UNAVAILABLE.
    dispatcher = `127.0.0.1:${await freePort()}`;
    registry = `127.0.0.1:${await freePort()}`;
    server = await startConsoleServer({ listen: '127.0.0.1:0', dispatcher, registry, env: {}, logger: silent });
  });
  afterAll(() => server?.close());

  const url = (path: string) => new URL(path, server.url).toString();

  it('serves the bundled page with a strict CSP, no sniffing and no framing', async () => {
    const page = await fetch(url('/'));
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).not.toMatch(/<script>|<style>| on[a-z]+=/); // nothing inline for the CSP to forbid
    const js = await fetch(url('/app.js'));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    expect((await fetch(url('/app.css'))).headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('maps the API\'s failure to an HTTP status once, with its message', async () => {
    const res = await fetch(url('/api/pools'));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('Unavailable');
    expect(body.error.message.length).toBeGreaterThan(0);
  });

  it('names the service it cannot reach, and the setting that points at it', async () => {
    const pools = (await (await fetch(url('/api/pools'))).json()) as { error: { message: string } };
    expect(pools.error.message).toContain(`the console cannot reach the registry at ${registry} (is the cluster running? the console server's --registry/LONGSHORE_REGISTRY points there): `);
    const jobs = (await (await fetch(url('/api/jobs'))).json()) as { error: { message: string } };
    expect(jobs.error.message).toContain(`the console cannot reach the dispatcher at ${dispatcher} (is the cluster running? the console server's --dispatcher/LONGSHORE_DISPATCHER points there): `);
  });

  it('refuses a bad filter by name before calling the cluster', async () => {
    const res = await fetch(url('/api/jobs?state=done'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^state: "done" is not a job state/);
  });

  it('refuses cross-site and non-JSON state changes', async () => {
    const foreign = await fetch(url('/api/jobs/j1/cancel'), { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{}' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toContain('cross-site request refused');
    // A plain HTML form can post text/plain or urlencoded bodies cross-site without a preflight.
    const form = await fetch(url('/api/jobs'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"command":["x"]}' });
    expect(form.status).toBe(400);
    expect(((await form.json()) as { error: { message: string } }).error.message).toContain('Content-Type: application/json');
  });

  it('answers only to loopback names on a loopback address (no DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(server.url);
      const req = request({ host: u.hostname, port: u.port, path: '/api/pools', headers: { host: `attacker.example:${u.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('refuses a spent or unknown login code', async () => {
    const link = server.loginLink('the-admin-token');
    const code = link.slice(link.indexOf('#login=') + 7);
    const post = (c: string) => fetch(url('/api/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: c }) });
    const first = await post(code);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ token: 'the-admin-token' });
    const again = await post(code);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('this login link was used already');
  });
});
