import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One static file the console serves. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

/**
 * Where `npm run build` (scripts/build.mjs) puts the UI bundled for browsers: the package's
 * dist/public/, two levels up from this file both in src/server/ and in dist/server/.
 */
export const PUBLIC_DIR = fileURLToPath(new URL('../../dist/public/', import.meta.url));

/** The page: no inline script or style, so the Content-Security-Policy can forbid both. */
const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Longshore console</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the Longshore console…</p></div>
<noscript>The Longshore console needs JavaScript.</noscript>
</body>
</html>
`;

const FILES: [string, string][] = [
  ['app.js', 'text/javascript; charset=utf-8'],
  ['app.css', 'text/css; charset=utf-8'],
];

/**
 * The UI's files, bundled at build time (Preact + signals and the stylesheet, by esbuild in
 * `npm run build`), read once into memory: everything the page loads comes from this server, so
 * it works offline and needs no CDN. Missing files are an error that says how to make them.
 */
export async function loadAssets(dir: string = PUBLIC_DIR): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  assets.set('/', { contentType: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) });
  for (const [name, contentType] of FILES) {
    const path = `${dir}${dir.endsWith('/') ? '' : '/'}${name}`;
    const body = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new Error(`the console's UI is not built (${path} is missing): run "npm run build" first`, { cause: err });
      throw err;
    });
    assets.set(`/${name}`, { contentType, body });
  }
  return assets;
}
