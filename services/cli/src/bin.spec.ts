import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
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
