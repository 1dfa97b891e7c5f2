// deploy/compose.yaml, as `docker-compose config` (Debian's docker-compose) resolves it: Redis
// keeps what Longshore's guarantees need, the agents drain before they are killed and scale with
// --scale, and every service runs with the least rights and only variables Longshore reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDurationMs } from '@longshore/domain';
import { afterAll, describe, expect, it } from 'vitest';
import { drainMs, haveTool, parseYamlStream, ROOT, variablesTheConfigReads } from './deploy-support.js';

interface Service {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
  read_only?: boolean;
  ports?: unknown[];
  container_name?: string;
  stop_grace_period?: string;
  profiles?: string[];
  depends_on?: Record<string, unknown> | string[];
  volumes?: ({ source?: string; target?: string } | string)[];
  healthcheck?: { test?: string[] };
}

const FILE = join(ROOT, 'deploy', 'compose.yaml');
const compose = haveTool('docker-compose', ['version'], 'run scripts/install.sh (Debian package docker-compose)');
/** The variables a user puts in deploy/.env; none of these values is real. */
const DOT_ENV = { LONGSHORE_REDIS_PASSWORD: 'redis-password-for-the-test', LONGSHORE_BOOTSTRAP_TOKEN: 'bootstrap-token-for-the-test-0123456789', LONGSHORE_AGENT_TOKEN: 'lst_x_y' };

// An empty env file, so a developer's deploy/.env is not read: only `env` is.
const scratch = mkdtempSync(join(tmpdir(), 'longshore-compose-'));
const emptyEnvFile = join(scratch, 'empty.env');
writeFileSync(emptyEnvFile, '');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function config(env: Record<string, string>, ...args: string[]) {
  return spawnSync('docker-compose', ['--project-directory', join(ROOT, 'deploy'), '--env-file', emptyEnvFile, '-f', FILE, ...args, 'config'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe.skipIf(!compose)('deploy/compose.yaml', () => {
  const resolved = compose ? config(DOT_ENV, '--profile', 'otel', '--profile', 'cli') : undefined;
  const services = resolved?.status === 0 ? (parseYamlStream(resolved.stdout)[0] as { services: Record<string, Service> }).services : {};
  const svc = (name: string) => {
    expect(services[name], `service ${name}`).toBeDefined();
    return services[name]!;
  };
  const longshore = () => Object.entries(services).filter(([, s]) => s.image?.startsWith('longshore'));

  it('is valid for docker-compose config', () => {
    expect(resolved?.stderr).toBe('');
    expect(resolved?.status).toBe(0);
    expect(Object.keys(services).sort()).toEqual(['agent', 'cli', 'console', 'dispatcher', 'otel-collector', 'redis', 'registry']);
  });

  it('refuses to start without a Redis password, naming the variable', () => {
    const r = config({ LONGSHORE_BOOTSTRAP_TOKEN: 'x' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set LONGSHORE_REDIS_PASSWORD');
  });

  it('keeps the OTel collector and the CLI out of a plain `up` (profiles)', () => {
    expect(svc('otel-collector').profiles).toEqual(['otel']);
    expect(svc('cli').profiles).toEqual(['cli']);
    for (const name of ['redis', 'registry', 'dispatcher', 'agent', 'console']) expect(svc(name).profiles, name).toBeUndefined();
  });

  it('runs Redis with AOF, noeviction and the password, which every service uses', () => {
    const redis = svc('redis');
    const script = redis.command!.join(' ');
    expect(script).toMatch(/--appendonly yes/);
    expect(script).toMatch(/--maxmemory-policy noeviction/);
    expect(script).toMatch(/requirepass/);
    expect(redis.environment?.REDIS_PASSWORD).toBe(DOT_ENV.LONGSHORE_REDIS_PASSWORD);
    for (const [name, s] of longshore().filter(([n]) => n !== 'cli' && n !== 'console')) {
      expect(s.environment?.LONGSHORE_REDIS_URL, name).toBe(`redis://default:${DOT_ENV.LONGSHORE_REDIS_PASSWORD}@redis:6379`);
    }
  });

  it('gives an agent a stop grace above its drain, and nothing that would stop --scale', () => {
    const agent = svc('agent');
    expect(parseDurationMs('stop_grace_period', agent.stop_grace_period ?? '10s')).toBeGreaterThan(drainMs(agent.environment ?? {}));
    expect(agent.container_name).toBeUndefined();
    expect(agent.ports ?? []).toEqual([]);
  });

  it('runs the servers as non-root without capabilities, the agent as root with only those it needs', () => {
    for (const name of ['registry', 'dispatcher', 'console']) {
      const s = svc(name);
      expect(s.user, name).toBe('1000:1000');
      expect(s.cap_drop).toEqual(['ALL']);
      expect(s.cap_add ?? []).toEqual([]);
      expect(s.read_only).toBe(true);
    }
    const agent = svc('agent');
    expect(agent.user).toBe('0:0');
    expect(agent.cap_drop).toEqual(['ALL']);
    expect(new Set(agent.cap_add)).toEqual(new Set(['SETUID', 'SETGID', 'KILL', 'CHOWN', 'FOWNER', 'DAC_OVERRIDE', 'NET_ADMIN', 'NET_RAW']));
  });

  it('runs the console as a service of its own, with no rights or Redis access, on loopback of the host', () => {
    const c = svc('console');
    expect(c.image).toBe(svc('registry').image);
    expect(c.command).toEqual(['cli', 'console']);
    const env = c.environment ?? {};
    // It talks to the cluster through the dispatcher and registry only, with each user's token.
    expect(env.LONGSHORE_REDIS_URL).toBeUndefined();
    expect(Object.keys(env).filter((n) => /TOKEN|PASSWORD/.test(n))).toEqual([]);
    expect(env.LONGSHORE_DISPATCHER).toBe('dispatcher:7400');
    expect(env.LONGSHORE_REGISTRY).toBe('registry:7401');
    expect(env.LONGSHORE_TLS_CA).toBe('/tls/ca.crt');
    // It listens on every interface of its container, published on the host's loopback only.
    expect(env.LONGSHORE_CONSOLE_ADDR).toBe('0.0.0.0:7480');
    expect(c.ports).toEqual(['127.0.0.1:7480:7480/tcp']);
    expect(c.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:7480/');
    const deps = Array.isArray(c.depends_on) ? c.depends_on : Object.keys(c.depends_on ?? {});
    expect(deps.sort()).toEqual(['dispatcher', 'registry']);
  });

  it('sets only variables the services read', () => {
    const known = variablesTheConfigReads();
    const used = longshore().flatMap(([, s]) => Object.keys(s.environment ?? {}));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((n) => !known.has(n))).toEqual([]);
  });
});
