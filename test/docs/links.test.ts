/**
 * The README and docs/ hold together: every relative link resolves to a file
 * in the repository (and, for a `#fragment`, to a heading there), the README
 * stays short, and every code block marked `<!-- runnable -->` runs as
 * written against a real broker (Mosquitto on a free port stands in for the
 * `mqtt://127.0.0.1:1883` the blocks name).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startMosquitto } from '../helpers/mosquitto.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** README.md and every page under docs/ (not the generated API reference). */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), ...docs];
}

/** Markdown without its fenced code blocks (links inside code are not links). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1].replace(/`/g, ''))));
}

test('every relative link in README.md and docs/ resolves', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages()) {
    const text = prose(readFileSync(page, 'utf8'));
    const targets = [
      ...[...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
      ...[...text.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1]),
    ];
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      const [path, fragment] = target.split('#');
      const file = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
      const where = `${relative(ROOT, page)}: ${target}`;
      if (!file.startsWith(ROOT)) {
        broken.push(`${where} (outside the repository)`);
        continue;
      }
      if (!existsSync(file)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (fragment && statSync(file).isFile() && file.endsWith('.md') && !anchors(file).has(fragment)) {
        broken.push(`${where} (no heading #${fragment})`);
      }
    }
  }
  assert.ok(checked > 50, `${checked} links checked`);
  assert.deepEqual(broken, []);
});

test('the README fits on a few screens and links every docs page', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const lines = readme.split('\n').length;
  assert.ok(lines >= 150 && lines <= 250, `README is ${lines} lines`);
  assert.match(readme, /npm install steadfast-mqtt/);
  for (const page of pages().slice(1)) {
    const name = relative(ROOT, page);
    if (name === 'docs/README.md') continue;
    const linked = readme.includes(`](${name})`) || readme.includes(`](${name}#`);
    const viaIndex = readFileSync(join(ROOT, 'docs/README.md'), 'utf8').includes(
      `](${relative('docs', name)})`,
    );
    assert.ok(linked || viaIndex, `${name} is linked from the README or docs/README.md`);
  }
});

/** The code blocks marked runnable: `<!-- runnable -->` on the line before the fence. */
function runnableBlocks(): { where: string; code: string }[] {
  const blocks: { where: string; code: string }[] = [];
  for (const page of pages()) {
    const text = readFileSync(page, 'utf8');
    for (const m of text.matchAll(/<!-- runnable -->\n```(?:ts|js)\n([\s\S]*?)```/g)) {
      blocks.push({
        where: `${relative(ROOT, page)} line ${text.slice(0, m.index).split('\n').length}`,
        code: m[1],
      });
    }
  }
  return blocks;
}

test('every code block marked runnable runs against Mosquitto', async (t) => {
  const blocks = runnableBlocks();
  assert.ok(blocks.length >= 2, `${blocks.length} runnable blocks`);
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  // Inside the repository, so that tsx maps 'steadfast-mqtt' to the sources (tsconfig paths).
  const dir = join(ROOT, '.tmp', `docs-blocks-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [i, block] of blocks.entries()) {
    assert.match(block.code, /mqtt:\/\/127\.0\.0\.1:1883/, `${block.where} connects to the local broker`);
    const file = join(dir, `block-${i}.ts`);
    writeFileSync(file, block.code.replaceAll('mqtt://127.0.0.1:1883', broker.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      timeout: 30_000,
    }).catch((error) => assert.fail(`${block.where} failed: ${error.stderr ?? error}`));
    assert.ok(stdout.trim().length > 0, `${block.where} printed something`);
  }
});
