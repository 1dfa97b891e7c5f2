// The image's one entrypoint: `registry`, `dispatcher`, `agent` or `cli …` picks what runs, in
// this process (no child), so SIGTERM from tini reaches the service and its drain runs.
// The services are TypeScript run through tsx until the compiled build lands.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const APP = join(import.meta.dirname, '..', '..');
const SERVICES = {
  registry: 'services/pool-registry/src/main.ts',
  dispatcher: 'services/dispatcher/src/main.ts',
  agent: 'services/worker-agent/src/main.ts',
  cli: 'services/cli/src/main.ts',
};

const [name, ...rest] = process.argv.slice(2);
const main = SERVICES[name ?? ''];
if (!main) {
  process.stderr.write(`usage: docker run IMAGE ${Object.keys(SERVICES).join('|')} [ARGS…]\n` + (name ? `unknown service "${name}"\n` : ''));
  process.exit(2);
}
const file = join(APP, main);
if (!existsSync(file)) {
  process.stderr.write(`${file} is missing from the image: rebuild it from a full checkout\n`);
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
// The service reads its own arguments (the CLI's command line) from process.argv.slice(2).
process.argv = [process.argv[0], file, ...rest];
await import(file);
