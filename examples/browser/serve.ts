/**
 * Bundles the browser example with esbuild and serves it: index.html and
 * app.js (built in memory, never written to the repository).
 * Run: npx tsx examples/browser/serve.ts [port]   (default 8080), then open
 * http://localhost:8080/?url=ws://localhost:9001 with a broker's websockets
 * listener on 9001 (Mosquitto: `listener 9001` + `protocol websockets`).
 *
 * test/browser/page.test.ts serves the page through these functions.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `steadfast-mqtt` as a browser bundler sees it: the package's `default`
 * export condition, the runtime-neutral src/index.ts (not the Node entry
 * that tsconfig's `paths` names for type checking).
 */
const browserEntry: Plugin = {
  name: 'steadfast-mqtt-browser-entry',
  setup(builder) {
    builder.onResolve({ filter: /^steadfast-mqtt$/ }, () => ({ path: here('../../src/index.ts') }));
  },
};

/** The bundled page script and the source files it was built from. */
export interface BundledApp {
  code: string;
  inputs: string[];
}

/** Bundles app.ts for browsers: platform `browser`, so any Node built-in in the client fails the build. */
export async function bundleApp(minify = false): Promise<BundledApp> {
  const result = await build({
    entryPoints: [here('app.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [browserEntry],
  });
  return { code: result.outputFiles[0].text, inputs: Object.keys(result.metafile.inputs) };
}

/** A running page server. */
export interface PageServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  close(): Promise<void>;
}

/** Serves the page on 127.0.0.1 (port 0: a free one chosen by the system). */
export async function servePage(port = 0): Promise<PageServer> {
  const html = readFileSync(here('index.html'));
  const { code } = await bundleApp();
  const files: Record<string, { type: string; body: string | Buffer }> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/index.html': { type: 'text/html; charset=utf-8', body: html },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: code },
  };
  const server: Server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    if (file === undefined) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const page = await servePage(Number(process.argv[2] ?? 8080));
  console.log(`serving the browser example at ${page.url}?url=ws://localhost:9001`);
}
