// The packed CLI: `npm pack` of services/cli, installed with `npm install -g --prefix` into an
// empty directory outside the checkout, runs against a real cluster. The @longshore/* packages
// are not published, so the tarball must hold everything the CLI runs (its bundle and chunks)
// and list no dependency npm would have to fetch.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startCluster, type Cluster } from '@longshore/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('the packed CLI (npm pack of services/cli, installed globally into a fresh prefix)', () => {
  let cluster: Cluster;
  let dir: string;
  let tarball: string;
  let prefix: string;
  /** npm with a cache of its own, from outside the checkout (no workspace in sight). */
  const npm = (args: string[]) => {
    const r = spawnSync('npm', [...args, '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  /** The installed `longshore`, as a user runs it: through the bin npm linked, with its shebang. */
  const longshore = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(join(prefix, 'bin', 'longshore'), args, { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'longshore-tarball-'));
    prefix = join(dir, 'prefix');
    const packed = JSON.parse(npm(['pack', join(repoRoot, 'services', 'cli'), '--pack-destination', dir, '--json'])) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, packed[0]!.filename);
    console.log(`packed ${packed[0]!.filename}: ${packed[0]!.files.length} files`);
    cluster = await startCluster({ agents: 1 });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the bin, the bundle and its chunks, and no sources', () => {
    const listed = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    expect(listed).toContain('package/bin/longshore.js');
    expect(listed).toContain('package/dist/longshore.js');
    expect(listed.some((f) => /^package\/dist\/chunks\/deferred-[A-Z0-9]+\.js$/.test(f))).toBe(true);
    expect(listed.filter((f) => f.endsWith('.ts') || f.includes('/src/') || f.endsWith('.map'))).toEqual([]);
  });

  it('installs with `npm install -g --prefix` without fetching anything: it depends on no package', () => {
    npm(['install', '-g', '--prefix', prefix, '--offline', tarball]);
    const installed = join(prefix, 'lib', 'node_modules', 'longshore');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
    expect(readdirSync(join(prefix, 'lib', 'node_modules'))).toEqual(['longshore']);
  });

  it('runs `longshore --help` and, against the cluster, `jobs ls` and `submit --wait`', () => {
    const help = longshore(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: longshore');
    const submitted = longshore(['submit', '--wait', '--', 'sh', '-c', 'echo from-the-packed-cli'], cluster.clientEnv);
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(submitted.stdout).toBe('from-the-packed-cli\n');
    const ls = longshore(['jobs', 'ls'], cluster.clientEnv);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('succeeded');
  });

  it('says that `up` needs the checkout, whose servers the packed CLI does not carry', () => {
    const up = longshore(['up'], { LONGSHORE_HOME: join(dir, 'home') });
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('longshore up runs the servers, which the installed CLI does not include');
  });
});
