// A local development server (no token configured) offers its generated
// token to the page in a browser on the same machine: one click signs in.
// The server is this test's own, started from BOXUP_BIN like `boxup serve`
// on a fresh machine, and stopped at the end.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, tempDir } from './lib/harness.mjs';

let browser;
let server;
let url;
let data;

/** Starts `boxup serve` with no token and resolves with its address once it prints it. */
function startDevServer(dir) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BOXUP_')));
  const child = spawn(process.env.BOXUP_BIN, ['serve', '--bind', '127.0.0.1:0', '--data-dir', dir], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`boxup serve exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^boxup serving on (\S+)/.exec(line);
      if (m) resolve({ child, url: `http://${m[1]}` });
    });
  });
}

before(async () => {
  assert.ok(process.env.BOXUP_BIN, 'BOXUP_BIN names the boxup binary (tests/web/run.sh sets it)');
  data = join(await tempDir(), 'data');
  ({ child: server, url } = await startDevServer(data));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

test('a local dev server offers its token to the page, which signs in with it', async () => {
  const page = await newPage(browser);
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(url);
  await page.locator('#use-dev-token').click();
  await page.locator('#who').filter({ hasText: 'dev' }).waitFor();
  await page.locator('#crumbs .here').filter({ hasText: 'All Files' }).waitFor();
  const token = (await readFile(join(data, 'dev-token'), 'utf8')).trim();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('boxup.token')), token);
  for (const u of urls) assert.ok(!u.includes(token), `token in a URL: ${u}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the same server seen under a name that is not loopback offers nothing', async () => {
  // Chromium resolves *.localhost to loopback, but the Host is not a
  // loopback name, as behind a proxy on the same machine.
  const page = await newPage(browser);
  const port = new URL(url).port;
  await page.goto(`http://files.localhost:${port}/`);
  const answer = await page.evaluate(async () => (await fetch('/web/dev-token', { method: 'POST' })).status);
  assert.equal(answer, 404);
  await page.locator('#sign-in').waitFor();
  assert.equal(await page.locator('#use-dev-token').count(), 0);
  await page.context().close();
});
