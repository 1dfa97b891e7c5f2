// The image's one entrypoint: `registry`, `dispatcher`, `agent` or `cli …` picks what runs, in
// this process (no child), so SIGTERM from tini reaches the service and its drain runs. It runs
// the compiled build (`npm run build` in the Dockerfile's build stage): the image holds no
// TypeScript and nothing that compiles it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const APP = join(import.meta.dirname, '..', '..');
/** Each service's compiled entry. */
const SERVICES = {
  registry: 'services/pool-registry/dist/main.js',
  dispatcher: 'services/dispatcher/dist/main.js',
  agent: 'services/worker-agent/dist/main.js',
  cli: 'services/cli/dist/longshore.js',
};

const [name, ...rest] = process.argv.slice(2);
const entry = Object.hasOwn(SERVICES, name ?? '') ? SERVICES[name] : undefined;
if (!entry) {
  process.stderr.write(`usage: docker run IMAGE ${Object.keys(SERVICES).join('|')} [ARGS…]\n` + (name ? `unknown service "${name}"\n` : ''));
  process.exit(2);
}
const file = join(APP, entry);
if (!existsSync(file)) {
  process.stderr.write(`${entry} is missing from the image: build it with deploy/docker/Dockerfile from a full checkout\n`);
  process.exit(2);
}
// The service reads its own arguments (the CLI's command line) from process.argv.slice(2).
process.argv = [process.argv[0], file, ...rest];
await import(pathToFileURL(file).href);
