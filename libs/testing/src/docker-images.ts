import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { DockerUnavailableError } from './dockerd.js';

/** The image every Docker test can run: busybox-static's applets and nothing else. */
export const TEST_IMAGE = 'longshore-test/busybox:1';
/** An image `docker build` makes on top of {@link TEST_IMAGE}: see {@link buildTestAppImage}. */
export const TEST_APP_IMAGE = 'longshore-test/app:1';

/** The applets linked into /bin of {@link TEST_IMAGE}. */
const APPLETS = ['sh', 'echo', 'cat', 'sleep', 'true', 'false', 'env', 'id', 'head', 'yes', 'dd', 'kill', 'ls', 'ps', 'tr', 'wc', 'printf', 'test', 'seq'];

/**
 * Makes `tag` (default {@link TEST_IMAGE}) in `docker` unless it exists: a rootfs of Debian's
 * static busybox (`/bin/busybox`, its applets as symlinks, /tmp, and an /etc/passwd with root
 * and nobody), packed with `tar` and imported. No registry is involved.
 * Throws {@link DockerUnavailableError} when there is no static busybox.
 */
export async function buildTestImage(docker: Docker, tag: string = TEST_IMAGE): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  const busybox = findStaticBusybox();
  const dir = await mkdtemp(join(tmpdir(), 'longshore-rootfs-'));
  try {
    const root = join(dir, 'rootfs');
    for (const sub of ['bin', 'tmp', 'etc']) await mkdir(join(root, sub), { recursive: true });
    await copyFile(busybox, join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    await writeFile(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    // GNU tar rather than a tar library: it is on every machine these tests run on, and keeps
    // modes, symlinks and owners (root, as the image needs) without another dependency.
    const tarball = join(dir, 'rootfs.tar');
    await promisify(execFile)('tar', ['-C', root, '--owner=0', '--group=0', '--mode=u+w,go-w', '-cf', tarball, '.']);
    const [repo, version] = splitTag(tag);
    await followProgress(docker, await docker.importImage(tarball, { repo, tag: version }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return tag;
}

/**
 * `docker build`s `tag` (default {@link TEST_APP_IMAGE}) FROM `base` (default {@link TEST_IMAGE},
 * which must exist): a file, an env var, a label and an entrypoint, so a build with no registry
 * and no network (`networkmode: none`) is proven to work. Idempotent like {@link buildTestImage}
 * unless `label` is given (a value of the image's `longshore.test` label, to make a distinct image).
 */
export async function buildTestAppImage(docker: Docker, tag: string = TEST_APP_IMAGE, base: string = TEST_IMAGE, label?: string): Promise<string> {
  if (label === undefined && (await imageExists(docker, tag))) return tag;
  const dir = await mkdtemp(join(tmpdir(), 'longshore-build-'));
  try {
    const dockerfile = [
      `FROM ${base}`,
      'ENV LONGSHORE_TEST_APP=1',
      `LABEL longshore.test=${JSON.stringify(label ?? 'app')}`,
      'COPY greeting.txt /app/greeting.txt',
      'RUN ["/bin/sh", "-c", "echo built >> /app/greeting.txt"]',
      'ENTRYPOINT ["/bin/cat", "/app/greeting.txt"]',
    ].join('\n');
    await writeFile(join(dir, 'Dockerfile'), `${dockerfile}\n`);
    await writeFile(join(dir, 'greeting.txt'), 'hello from longshore-test/app\n');
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', 'greeting.txt'] }, { t: tag, networkmode: 'none', rm: true, forcerm: true });
    await followProgress(docker, stream);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return tag;
}

/** Whether `docker` has an image named `ref`. */
export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** One JSON event of a build, import, push or pull stream. */
export interface ProgressEvent {
  status?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Reads a build, import, push or pull stream to its end and resolves with its events; rejects
 * on the first `error` event, which the engine sends with status 200 (a failed RUN, an unknown
 * base, a refused push) and dockerode's `followProgress` passes on as data.
 */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<ProgressEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, events: ProgressEvent[]) => {
      if (err) return reject(err);
      const failed = events.find((e) => e.error !== undefined);
      if (failed) {
        const output = events.map((e) => e.stream ?? e.status ?? '').join('').trim();
        return reject(new Error(`docker: ${failed.errorDetail?.message ?? failed.error}${output === '' ? '' : `\n${output}`}`));
      }
      resolve(events);
    });
  });
}

/**
 * Finds a statically linked busybox (Debian's busybox-static puts it at /bin/busybox): a
 * dynamic one cannot run in an image without its libc. Throws {@link DockerUnavailableError}
 * naming the fix.
 */
export function findStaticBusybox(candidates: readonly string[] = ['/bin/busybox', '/usr/bin/busybox']): string {
  for (const file of candidates) {
    if (isStaticElf(file)) return file;
  }
  throw new DockerUnavailableError(`no statically linked busybox at ${candidates.join(', ')}: run bash scripts/install.sh (it installs busybox-static)`);
}

/** Whether `file` is a 64-bit little-endian ELF executable without a PT_INTERP (dynamic loader) header. */
function isStaticElf(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(64);
    if (readSync(fd, header, 0, 64, 0) < 64 || header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) return false;
    const phoff = Number(header.readBigUInt64LE(32));
    const phentsize = header.readUInt16LE(54);
    const phnum = header.readUInt16LE(56);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

/** `repo:tag` → [repo, tag]; a colon inside a registry's host:port is not the tag's. */
function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}
