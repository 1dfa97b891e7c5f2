// The image's one entrypoint: `registry`, `dispatcher`, `agent` or `cli …` picks what runs, in
// this process (no child), so SIGTERM from tini reaches the service and its drain runs.
// It runs the compiled service where the image holds one (`npm run build`), else its TypeScript
// through tsx; the image's `node --conditions=@longshore/source` makes the workspace packages
// resolve to their sources in that case.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const APP = join(import.meta.dirname, '..', '..');
/** Each service's compiled entry, then its source. */
const SERVICES = {
  registry: ['services/pool-registry/dist/main.js', 'services/pool-registry/src/main.ts'],
  dispatcher: ['services/dispatcher/dist/main.js', 'services/dispatcher/src/main.ts'],
  agent: ['services/worker-agent/dist/main.js', 'services/worker-agent/src/main.ts'],
  cli: ['services/cli/dist/longshore.js', 'services/cli/src/main.ts'],
};

const [name, ...rest] = process.argv.slice(2);
const entries = SERVICES[name ?? ''];
if (!entries) {
  process.stderr.write(`usage: docker run IMAGE ${Object.keys(SERVICES).join('|')} [ARGS…]\n` + (name ? `unknown service "${name}"\n` : ''));
  process.exit(2);
}
const file = entries.map((e) => join(APP, e)).find((f) => existsSync(f));
if (!file) {
  process.stderr.write(`${entries.join(' and ')} are missing from the image: rebuild it from a full checkout\n`);
  process.exit(2);
}
if (file.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
// The service reads its own arguments (the CLI's command line) from process.argv.slice(2).
process.argv = [process.argv[0], file, ...rest];
await import(file);
