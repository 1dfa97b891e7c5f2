#!/usr/bin/env node
// The `longshore` binary: runs the compiled CLI (dist/, made by `npm run build` at the repository
// root): an esbuild bundle of the compiled code split in chunks, so nothing is compiled from
// TypeScript at run time and a command reads only the chunks it needs (scripts/build.mjs says how,
// and what stays outside).
import module from 'node:module';

// Node.js ≥ 22.1 keeps V8's compiled code of the bundle and its chunks on disk (in
// $NODE_COMPILE_CACHE, else the system temp directory), so a later run skips compiling them;
// Node 20 has no such cache and compiles them each time. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.();
const main = new URL('../dist/longshore.js', import.meta.url);
try {
  await import(main.href);
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(main.pathname)) {
    process.stderr.write(`longshore: the CLI is not built (${main.pathname} is missing): run "npm run build" in the Longshore checkout\n`);
    process.exit(1);
  }
  throw err;
}
