// The harness itself: Chromium starts and reaches the server, screenshots
// are written, the API helper authenticates as each test user, and test
// files have the size and SHA-1 makeFile says.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  api,
  artifactsDir,
  launchBrowser,
  makeFile,
  newPage,
  otherToken,
  screenshot,
  serverUrl,
  sha1OfFile,
  tempDir,
} from './lib/harness.mjs';

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('headless Chromium opens /healthz and saves a screenshot', async () => {
  const page = await newPage(browser);
  try {
    const response = await page.goto(`${serverUrl}/healthz`);
    assert.ok(response, 'no response for /healthz');
    assert.equal(response.status(), 200);
    assert.equal((await response.json()).status, 'ok');
    // What Chromium shows, not only what it received.
    assert.match(await page.locator('body').innerText(), /"status":\s*"ok"/);

    const expected = join(artifactsDir, 'smoke-healthz.png');
    rmSync(expected, { force: true }); // a previous run's must not count
    const png = await screenshot(page, 'smoke-healthz');
    assert.equal(png, expected);
    assert.ok(statSync(png).size > 0, `${png} is empty`);
    assert.deepEqual([...readFileSync(png).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // Chromium asks for /favicon.ico by itself, and the 404 it gets for a
    // JSON document is logged as a console error; anything else is not
    // expected here.
    assert.deepEqual(page.errors.filter((e) => !e.includes('/favicon.ico')), []);
  } finally {
    await page.context().close();
  }
});

test('api() authenticates as alice by default and as bob with the other token', async () => {
  const me = await api('/users/me');
  assert.equal(me.status, 200, me.body.toString());
  assert.equal(me.json.login, 'alice');

  const other = await api('/users/me', { token: otherToken });
  assert.equal(other.status, 200, other.body.toString());
  assert.equal(other.json.login, 'bob');
  assert.notEqual(other.json.id, me.json.id);

  const anonymous = await api('/users/me', { token: null });
  assert.equal(anonymous.status, 401);
});

test('makeFile() writes the size asked for and returns the SHA-1 of what it wrote', async () => {
  const dir = await tempDir();
  const size = 2 * 1024 * 1024 + 3; // more than one 1 MiB chunk, not a multiple of it
  const file = await makeFile(dir, 'random.bin', size);
  assert.equal(statSync(file.path).size, size);
  assert.match(file.sha1, /^[0-9a-f]{40}$/);
  assert.equal(await sha1OfFile(file.path), file.sha1);
  const other = await makeFile(dir, 'other.bin', size);
  assert.notEqual(other.sha1, file.sha1);
});
