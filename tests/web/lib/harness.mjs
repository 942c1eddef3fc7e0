// What the web tests share: Debian's Chromium driven by playwright-core,
// pages that record their errors, screenshots, the API with a token, and
// test files with known SHA-1s.
//
// tests/web/run.sh sets the environment:
//   BOXUP_URL          the server's origin, e.g. http://127.0.0.1:41234
//   BOXUP_TOKEN        a token of user alice
//   BOXUP_OTHER_TOKEN  a token of user bob (for isolation tests)
//   WEB_ARTIFACTS      where screenshots go (default <repo>/target/web-artifacts)
//   WEB_NODE_DIR       where install.sh put node_modules (default <repo>/target/web-test)
//   CHROMIUM           the browser (default /usr/bin/chromium)
//
// playwright-core is installed outside the source tree, where a bare
// `import 'playwright-core'` from tests/web would not find it; it is loaded
// here from WEB_NODE_DIR, and test files that need more of it than the
// helpers below use the `playwright` export.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { mkdtemp, open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NODE_DIR = process.env.WEB_NODE_DIR || join(ROOT, 'target', 'web-test');

function loadPlaywright() {
  const require = createRequire(join(NODE_DIR, 'package.json'));
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error(
      `cannot load playwright-core from ${NODE_DIR}/node_modules ` +
        `(run tests/web/install.sh, or tests/web/run.sh): ${e.message}`,
    );
  }
}

/** The playwright-core module (chromium, devices, errors, ...). */
export const playwright = loadPlaywright();

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the web tests with tests/web/run.sh`);
  }
  return value;
}

/** The server's origin, without a trailing slash. */
export const serverUrl = required('BOXUP_URL').replace(/\/+$/, '');
/** A token of user alice. */
export const token = required('BOXUP_TOKEN');
/** A token of user bob. */
export const otherToken = required('BOXUP_OTHER_TOKEN');
/** Where screenshots are saved. */
export const artifactsDir = process.env.WEB_ARTIFACTS || join(ROOT, 'target', 'web-artifacts');

/** Debian's Chromium, headless, with a fresh profile (Playwright's own). */
export function launchBrowser() {
  return playwright.chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // Without these Chromium reaches out on its own, and the closed
      // network refuses those connections.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * A page in a new context (downloads accepted, 1280x800). `page.errors`
 * collects console errors and uncaught page errors as strings, so that a
 * test can assert `deepEqual(page.errors, [])`. Close it with
 * `page.context().close()` (or close the browser).
 */
export async function newPage(browser) {
  const context = await browser.newContext({
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const where = msg.location();
      const at = where && where.url ? ` (${where.url}:${where.lineNumber})` : '';
      page.errors.push(`console.error: ${msg.text()}${at}`);
    }
  });
  page.on('pageerror', (err) => {
    page.errors.push(`page error: ${err.stack || err.message || String(err)}`);
  });
  return page;
}

/** Saves a full-page screenshot as WEB_ARTIFACTS/NAME.png; returns its path. */
export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

function isRawBody(body) {
  return (
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof URLSearchParams ||
    body instanceof ReadableStream
  );
}

/**
 * A request to BOXUP_URL/2.0 + PATH with `Authorization: Bearer TOKEN`
 * (BOXUP_TOKEN by default; `token: null` sends none). A plain object body
 * is sent as JSON. Redirects are followed unless `redirect: 'manual'`.
 * Returns { status, headers (an object, lower-case names), json (the parsed
 * body, or null when it is not JSON), body (a Buffer) }.
 */
export async function api(path, { method = 'GET', token: auth = token, body, headers = {}, redirect } = {}) {
  const sent = { ...headers };
  if (auth !== null && auth !== undefined) sent.authorization = `Bearer ${auth}`;
  let payload = body;
  if (body !== undefined && body !== null && !isRawBody(body)) {
    payload = JSON.stringify(body);
    if (!Object.keys(sent).some((h) => h.toLowerCase() === 'content-type')) {
      sent['content-type'] = 'application/json';
    }
  }
  const res = await fetch(`${serverUrl}/2.0${path}`, {
    method,
    headers: sent,
    body: payload,
    redirect: redirect || 'follow',
    ...(payload instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = null;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers), json, body: bytes };
}

/**
 * Writes SIZE pseudo-random bytes (1 MiB at a time) to DIR/NAME and
 * returns { path, size, sha1 } (sha1 in lower-case hex).
 */
export async function makeFile(dir, name, size) {
  const path = join(dir, name);
  const hash = createHash('sha1');
  const file = await open(path, 'w');
  try {
    let left = size;
    while (left > 0) {
      const chunk = randomBytes(Math.min(left, 1 << 20));
      hash.update(chunk);
      await file.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await file.close();
  }
  return { path, size, sha1: hash.digest('hex') };
}

/** The SHA-1 of a file's bytes, in lower-case hex. */
export function sha1OfFile(path) {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha1');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

const tempDirs = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new directory under the system's temp dir, removed when the process exits. */
export async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'boxup-web-'));
  tempDirs.push(dir);
  return dir;
}

