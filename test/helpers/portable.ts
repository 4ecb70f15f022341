/**
 * Bundles an entry for the browser platform, as a user's bundler would, and
 * says which source files went in: the portability tests use it to prove that
 * a portable part of the library pulls in nothing from Node.
 */
import { build } from 'esbuild';

export interface BrowserBundle {
  /** The source files in the bundle, relative to the repository. */
  inputs: string[];
  code: string;
}

export async function bundleForBrowser(entry: string): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { inputs: Object.keys(result.metafile.inputs), code: result.outputFiles[0].text };
}
