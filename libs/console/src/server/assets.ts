import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** One static file the console serves. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
/** The UI's entry: its TypeScript in a checkout, tsc's JavaScript of it in a build (dist/ has no .ts). */
const UI_ENTRY = existsSync(`${UI_DIR}main.ts`) ? `${UI_DIR}main.ts` : `${UI_DIR}main.js`;

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

/**
 * Bundles the UI (Preact + signals, TypeScript) and its stylesheet with esbuild into memory:
 * everything the page loads comes from this server, so it works offline and needs no CDN.
 * Built once when the console starts (a fraction of a second), so a checkout needs no build step.
 */
export async function buildAssets(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: { app: UI_ENTRY, 'app-style': `${UI_DIR}styles.css` },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    sourcemap: false,
    outdir: '/assets',
    logLevel: 'silent',
    legalComments: 'none',
  });
  const assets = new Map<string, Asset>();
  assets.set('/', { contentType: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) });
  for (const f of result.outputFiles) {
    if (f.path.endsWith('/app.js')) assets.set('/app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(f.contents) });
    if (f.path.endsWith('/app-style.css')) assets.set('/app.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(f.contents) });
  }
  if (!assets.has('/app.js') || !assets.has('/app.css')) throw new Error(`the console's bundle is incomplete: ${result.outputFiles.map((f) => f.path).join(', ')}`);
  return assets;
}
