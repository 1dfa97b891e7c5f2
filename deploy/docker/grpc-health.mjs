// A grpc.health.v1 check over TLS for exec probes and HEALTHCHECK: kubelet's built-in grpc probe
// speaks plaintext only (kubernetes/kubernetes#119093), while Longshore's servers serve TLS alone.
// Usage: node grpc-health.mjs [--ca FILE] [--cert FILE --key FILE] [--server-name NAME] HOST:PORT
// Exits 0 when the server answers SERVING, 1 otherwise (the reason on stderr). Plain JavaScript,
// so it runs in the image without a build step.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const { service } = require('grpc-health-check');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, 'server-name': { type: 'string' }, timeout: { type: 'string', default: '3000' } },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: grpc-health.mjs [--ca FILE] [--cert FILE --key FILE] [--server-name NAME] HOST:PORT\n');
  process.exit(2);
}
const read = (path) => (path ? readFileSync(path) : null);
const creds = values.ca ? grpc.credentials.createSsl(read(values.ca), read(values.key), read(values.cert)) : grpc.credentials.createInsecure();
const options = values['server-name'] ? { 'grpc.ssl_target_name_override': values['server-name'], 'grpc.default_authority': values['server-name'] } : {};
const Health = grpc.makeClientConstructor(service, 'grpc.health.v1.Health');
const client = new Health(positionals[0], creds, options);
client.check({ service: '' }, { deadline: Date.now() + Number(values.timeout) }, (err, res) => {
  client.close();
  if (err) {
    process.stderr.write(`${positionals[0]}: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${positionals[0]}: ${res.status}\n`);
  process.exit(res.status === 'SERVING' ? 0 : 1);
});
