#!/usr/bin/env node
// The `longshore` binary: runs the compiled CLI (dist/, made by `npm run build` at the repository
// root): one esbuild bundle of the compiled code, so nothing is compiled at run time and start-up
// reads one file instead of hundreds (scripts/build.mjs says what stays outside it).
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
