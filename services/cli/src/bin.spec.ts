import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/longshore.js', import.meta.url));
const run = promisify(execFile);

// The shim must work from any directory (npx longshore), so these run with an unrelated cwd.
describe('bin/longshore.js', () => {
  it('prints help and exits 0 from another directory', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help'], { cwd: tmpdir() });
    expect(stdout).toContain('Usage: longshore');
    expect(stdout).toContain('submit');
  });

  it('exits 2 on a usage error, with the message on stderr', async () => {
    const err = await run(process.execPath, [BIN, 'submit', '--weight', 'abc', '--', 'true'], { cwd: tmpdir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("option '--weight <w>' argument 'abc' is invalid");
  });

  it('exits 1 with the hint when nothing listens at the dispatcher address', async () => {
    const err = await run(process.execPath, [BIN, '--dispatcher', '127.0.0.1:1', 'jobs', 'ls'], { cwd: tmpdir() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('longshore: hint: is the cluster running?');
  });
});

// Start-up: a command other than `up` loads the compiled bundle and nothing else of ours (no
// servers, no TypeScript), and only the chunks it needs: the gRPC client only for a command that
// talks to the cluster. Every ES module the process resolves is logged by a resolve hook.
describe('bin/longshore.js start-up', () => {
  /** The files of ours (not node: built-ins) a run of the bin resolves, and its exit code. */
  async function resolvedBy(args: string[]): Promise<{ code: unknown; files: string[] }> {
    const dir = await mkdtemp(join(tmpdir(), 'longshore-bin-'));
    try {
      const log = join(dir, 'resolved.log');
      await writeFile(
        join(dir, 'hooks.mjs'),
        `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`,
      );
      await writeFile(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
      const code = await run(process.execPath, ['--import', join(dir, 'register.mjs'), BIN, ...args], { cwd: tmpdir() }).then(
        () => 0,
        (e: { code?: unknown }) => e.code,
      );
      const files = [...new Set((await readFile(log, 'utf8')).split('\n'))].filter((u) => u.startsWith('file:') && !u.startsWith(pathToFileURL(dir).href));
      return { code, files };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const dist = new URL('../dist/', pathToFileURL(BIN)).href;
  const chunks = (files: string[]) => files.filter((f) => f.startsWith(`${dist}chunks/`)).map((f) => f.slice(`${dist}chunks/`.length));

  it('runs the compiled bundle: `jobs ls` loads its chunks, the client among them, and neither the servers nor any source file', async () => {
    const { code, files } = await resolvedBy(['--dispatcher', '127.0.0.1:1', 'jobs', 'ls']);
    expect(code).toBe(1); // nothing listens there: the command itself ran
    expect(files.slice(0, 2)).toEqual([pathToFileURL(BIN).href, `${dist}longshore.js`]);
    expect(files.slice(2).every((f) => f.startsWith(`${dist}chunks/`) && f.endsWith('.js'))).toBe(true);
    expect(chunks(files).some((c) => c.startsWith('deferred-'))).toBe(true);
  });

  it('`--help` loads neither the gRPC client nor the configuration schemas', async () => {
    const { code, files } = await resolvedBy(['--help']);
    expect(code).toBe(0);
    expect(chunks(files).filter((c) => c.startsWith('deferred'))).toEqual([]);
  });
});
