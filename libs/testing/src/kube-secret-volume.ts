import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes (or rotates) a directory laid out as a Kubernetes Secret volume: the files in
 * `..<version>/`, `..data` a symlink to it (swapped atomically by a rename, as the kubelet does on
 * rotation) and each `NAME` a symlink to `..data/NAME`. Call it again with a new version to rotate.
 */
export function writeKubeSecretVolume(dir: string, version: string, files: Record<string, string>): void {
  mkdirSync(join(dir, `..${version}`));
  for (const [name, value] of Object.entries(files)) writeFileSync(join(dir, `..${version}`, name), value);
  symlinkSync(`..${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch {
      // Linked by an earlier version already.
    }
  }
}
