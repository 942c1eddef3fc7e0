// The page boxup serves at `/`, driven in headless Chromium: sign in,
// uploads through a session and the simple route (checked by SHA-1 on the
// server), resume after a reload, folders, download, rename, delete, and
// names that look like markup. Slow steps are held at the network layer
// (Playwright's request routing) rather than timed, so every check is
// about what the protocol guarantees.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  api,
  launchBrowser,
  makeFile,
  newPage,
  screenshot,
  serverUrl,
  sha1OfFile,
  tempDir,
  token,
} from './lib/harness.mjs';

const MiB = 1024 * 1024;
const PART_PUT = /\/2\.0\/files\/upload_sessions\/([0-9A-Fa-f]+)$/;

let browser;
let dir;
before(async () => {
  browser = await launchBrowser();
  dir = await tempDir();
});
after(async () => {
  await browser?.close();
});

/** A folder of the test's own under the root, so tests do not see each other's files. */
async function freshFolder(name) {
  const res = await api('/folders', { method: 'POST', body: { name: `${name}-${Date.now()}`, parent: { id: '0' } } });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.id;
}

async function items(folderId) {
  const res = await api(`/folders/${folderId}/items?fields=name,size,sha1&limit=1000`);
  assert.equal(res.status, 200);
  return res.json.entries;
}

/** Opens the page signed in, in `folderId`, and records every request URL. */
async function signedIn(folderId = '0') {
  const page = await newPage(browser);
  page.urls = [];
  page.on('request', (r) => page.urls.push(r.url()));
  await page.goto(`${serverUrl}/#folder/${folderId}`);
  await page.fill('#token', token);
  await page.click('#sign-in');
  await page.locator('#who').filter({ hasText: /\S/ }).waitFor();
  await page.locator('#crumbs .here').waitFor();
  return page;
}

/**
 * Nothing the page asked for carried the token in its address, and nothing
 * broke: no uncaught error, no console error, no 5xx. (Chromium logs every
 * 4xx answer and every request a test cuts off as "Failed to load
 * resource"; those are the tests' doing.)
 */
function assertClean(page) {
  for (const url of page.urls) assert.ok(!url.includes(token), `token in a URL: ${url}`);
  const errors = page.errors.filter(
    (e) => !/Failed to load resource: (the server responded with a status of 4\d\d|net::ERR_)/.test(e),
  );
  assert.deepEqual(errors, [], 'the page reported errors');
}

/**
 * Holds part uploads beyond the first `pass` (by range) until released:
 * the upload is then mid-way for as long as the test needs, whatever the
 * machine's speed. `until(pred)` resolves once `pred(held requests)` holds.
 */
async function holdParts(page, pass) {
  const held = [];
  const passed = new Set();
  const waiters = [];
  let release = null;
  const released = new Promise((r) => (release = r));
  await page.route(PART_PUT, async (route) => {
    const range = route.request().headers()['content-range'];
    if (route.request().method() !== 'PUT') return route.continue();
    if (passed.size < pass || passed.has(range)) {
      passed.add(range);
      return route.continue();
    }
    held.push(route.request());
    for (const w of waiters.splice(0)) {
      if (w.pred(held)) w.resolve();
      else waiters.push(w);
    }
    await released;
    await route.continue().catch(() => {});
  });
  const until = (pred) =>
    new Promise((resolve) => (pred(held) ? resolve() : waiters.push({ pred, resolve })));
  return { held, until, release: () => release() };
}

/** The upload session ids among requests. */
function sessionsOf(requests) {
  return new Set(requests.map((r) => PART_PUT.exec(r.url())?.[1]));
}

function uploadRow(page, name) {
  return page.locator(`#upload-list li.upload[data-name="${name}"]`);
}

describe('the page', () => {
  test('refuses a wrong token, then signs in with a right one, under its CSP', async () => {
    const page = await newPage(browser);
    page.urls = [];
    page.on('request', (r) => page.urls.push(r.url()));
    const res = await page.goto(serverUrl);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers()['x-content-type-options'], 'nosniff');
    await page.fill('#token', 'not-a-token');
    await page.click('#sign-in');
    await page.locator('#sign-in-error').filter({ hasText: 'not accepted' }).waitFor();
    // A server with configured tokens offers no development token.
    assert.equal(await page.locator('#use-dev-token').count(), 0);
    await page.fill('#token', token);
    await page.click('#sign-in');
    await page.locator('#who').filter({ hasText: 'alice' }).waitFor();
    await page.locator('#crumbs .here').filter({ hasText: 'All Files' }).waitFor();
    await screenshot(page, 'idle');
    assertClean(page);
    await page.context().close();
  });

  test('uploads 64 MiB through a session and 1 MiB in one request, both intact', async () => {
    const folder = await freshFolder('uploads');
    const big = await makeFile(dir, 'big.bin', 64 * MiB);
    const small = await makeFile(dir, 'small.bin', 1 * MiB);
    const page = await signedIn(folder);
    const puts = [];
    const simple = [];
    page.on('request', (r) => {
      if (r.method() === 'PUT' && PART_PUT.test(r.url())) puts.push(r.headers()['content-range']);
      if (r.method() === 'POST' && r.url().endsWith('/2.0/files/content')) simple.push(r.url());
    });
    // The third part's first attempt dies on the wire: the upload goes on.
    let failedOnce = false;
    const hold = await holdParts(page, 4);
    await page.route(PART_PUT, async (route) => {
      const range = route.request().headers()['content-range'] ?? '';
      if (!failedOnce && range.startsWith(`bytes ${2 * 8 * MiB}-`)) {
        failedOnce = true;
        return route.abort('connectionreset');
      }
      return route.fallback();
    });
    await page.setInputFiles('#pick-files', [big.path, small.path]);
    await uploadRow(page, 'small.bin').and(page.locator('[data-state=done]')).waitFor();
    await page.waitForFunction(() => document.querySelector('#overall')?.textContent?.includes('%'));
    await screenshot(page, 'mid-upload');
    hold.release();
    await uploadRow(page, 'big.bin').and(page.locator('[data-state=done]')).waitFor({ timeout: 120_000 });
    await page.locator('#items tr[data-name="big.bin"]').waitFor();
    await screenshot(page, 'done');

    const found = Object.fromEntries((await items(folder)).map((e) => [e.name, e]));
    assert.equal(found['big.bin']?.sha1, big.sha1);
    assert.equal(found['big.bin']?.size, 64 * MiB);
    assert.equal(found['small.bin']?.sha1, small.sha1);
    assert.ok(failedOnce, 'the failure was injected');
    // Eight parts of 8 MiB, the failed one sent twice; one simple upload.
    const offsets = new Set(puts.map((r) => r.split(/[ -]/)[1]));
    assert.equal(offsets.size, 8, puts.join(', '));
    assert.ok(puts.length >= 9, `${puts.length} part requests`);
    assert.equal(simple.length, 1);
    assertClean(page);
    await page.context().close();
  });

  test('a reload mid-upload resumes the session without resending stored parts', async () => {
    const folder = await freshFolder('resume');
    const file = await makeFile(dir, 'resume.bin', 64 * MiB);
    let page = await signedIn(folder);
    let session = null;
    let stored = 0;
    const threeStored = new Promise((resolve) => {
      page.on('response', (r) => {
        const m = PART_PUT.exec(r.url());
        if (m && r.request().method() === 'PUT' && r.status() === 200) {
          session = m[1];
          if (++stored === 3) resolve();
        }
      });
    });
    const hold = await holdParts(page, 3);
    await page.setInputFiles('#pick-files', file.path);
    await threeStored;
    await hold.until((held) => held.length >= 1);
    const urls = page.urls;

    // The tab goes away mid-upload (the held requests die with it, never
    // reaching the server); the same browser profile comes back.
    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.locator('#crumbs .here').waitFor();
    const listed = await api(`/files/upload_sessions/${session}/parts?limit=1000`);
    assert.equal(listed.status, 200);
    const before = new Set(listed.json.entries.map((p) => String(p.offset)));
    assert.ok(before.size >= 3, `${before.size} parts stored before the reload`);

    const resent = [];
    page.on('request', (r) => {
      if (r.method() === 'PUT' && PART_PUT.test(r.url())) resent.push(r.headers()['content-range'].split(/[ -]/)[1]);
    });
    const unfinished = page.locator('#unfinished li[data-name="resume.bin"]');
    await unfinished.waitFor();
    await unfinished.locator('input[type=file]').setInputFiles(file.path);
    await uploadRow(page, 'resume.bin').and(page.locator('[data-state=done]')).waitFor({ timeout: 120_000 });

    for (const offset of resent) assert.ok(!before.has(offset), `part at ${offset} was sent again`);
    assert.equal(before.size + new Set(resent).size, 8);
    const found = (await items(folder)).find((e) => e.name === 'resume.bin');
    assert.equal(found?.sha1, file.sha1);
    page.urls.push(...urls);
    assertClean(page);
    await page.context().close();
  });

  test('uploads a folder as a tree of folders', async () => {
    const folder = await freshFolder('tree');
    const root = join(dir, 'album');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'a.txt'), 'first file\n');
    await writeFile(join(root, 'sub', 'b.txt'), 'second file, one level down\n');
    const page = await signedIn(folder);
    await page.setInputFiles('#pick-folder', root);
    await uploadRow(page, 'a.txt').and(page.locator('[data-state=done]')).waitFor();
    await uploadRow(page, 'b.txt').and(page.locator('[data-state=done]')).waitFor();

    const album = (await items(folder)).find((e) => e.name === 'album');
    assert.equal(album?.type, 'folder');
    const inAlbum = Object.fromEntries((await items(album.id)).map((e) => [e.name, e]));
    assert.equal(inAlbum['a.txt']?.sha1, await sha1OfFile(join(root, 'a.txt')));
    assert.equal(inAlbum.sub?.type, 'folder');
    const inSub = await items(inAlbum.sub.id);
    assert.deepEqual(inSub.map((e) => e.name), ['b.txt']);
    assert.equal(inSub[0].sha1, await sha1OfFile(join(root, 'sub', 'b.txt')));
    // The listing shows the new folder, which opens.
    await page.locator('#items tr[data-name="album"] a').click();
    await page.locator('#crumbs .here').filter({ hasText: 'album' }).waitFor();
    await page.locator('#items tr[data-name="sub"]').waitFor();
    assertClean(page);
    await page.context().close();
  });

  test('uploads files dropped on the page', async () => {
    const folder = await freshFolder('drop');
    const page = await signedIn(folder);
    const data = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped first\n'], 'dropped-1.txt', { type: 'text/plain' }));
      dt.items.add(new File(['dropped second, longer\n'], 'dropped-2.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('main', 'dragenter', { dataTransfer: data });
    await page.locator('#drop-veil').waitFor();
    await page.dispatchEvent('main', 'drop', { dataTransfer: data });
    await page.locator('#drop-veil').waitFor({ state: 'hidden' });
    await uploadRow(page, 'dropped-1.txt').and(page.locator('[data-state=done]')).waitFor();
    await uploadRow(page, 'dropped-2.txt').and(page.locator('[data-state=done]')).waitFor();
    const found = Object.fromEntries((await items(folder)).map((e) => [e.name, e]));
    const sha1 = (text) => createHash('sha1').update(text).digest('hex');
    assert.equal(found['dropped-1.txt']?.sha1, sha1('dropped first\n'));
    assert.equal(found['dropped-2.txt']?.sha1, sha1('dropped second, longer\n'));
    assertClean(page);
    await page.context().close();
  });

  test('downloads bytes equal to the original', async () => {
    const folder = await freshFolder('download');
    const file = await makeFile(dir, 'download.bin', 3 * MiB + 17);
    const page = await signedIn(folder);
    await page.setInputFiles('#pick-files', file.path);
    await uploadRow(page, 'download.bin').and(page.locator('[data-state=done]')).waitFor();
    const row = page.locator('#items tr[data-name="download.bin"]');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('[data-action=download]').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'download.bin');
    assert.ok(!download.url().includes(token));
    const saved = join(dir, 'downloaded.bin');
    await download.saveAs(saved);
    assert.equal(await sha1OfFile(saved), file.sha1);
    assertClean(page);
    await page.context().close();
  });

  test('creates, renames and deletes', async () => {
    const folder = await freshFolder('edit');
    const page = await signedIn(folder);
    await page.click('#new-folder');
    await page.fill('#dialog-name', 'drafts');
    await page.click('#dialog-ok');
    await page.locator('#items tr[data-name="drafts"]').waitFor();

    await page.locator('#items tr[data-name="drafts"] [data-action=rename]').click();
    await page.fill('#dialog-name', 'final');
    await page.click('#dialog-ok');
    await page.locator('#items tr[data-name="final"]').waitFor();
    assert.deepEqual((await items(folder)).map((e) => e.name), ['final']);

    await page.locator('#items tr[data-name="final"] [data-action=delete]').click();
    await page.click('#dialog-ok');
    await page.locator('#items tr.empty').waitFor();
    assert.deepEqual(await items(folder), []);
    assertClean(page);
    await page.context().close();
  });

  test('pauses, resumes and cancels', async () => {
    const folder = await freshFolder('control');
    const file = await makeFile(dir, 'control.bin', 32 * MiB);
    const other = await makeFile(dir, 'cancelled.bin', 32 * MiB);
    const page = await signedIn(folder);
    const sessions = new Set();
    page.on('request', (r) => {
      const m = PART_PUT.exec(r.url());
      if (m && r.method() === 'PUT') sessions.add(m[1]);
    });
    const hold = await holdParts(page, 1);
    await page.setInputFiles('#pick-files', [file.path, other.path]);
    const row = uploadRow(page, 'control.bin');
    const cancelled = uploadRow(page, 'cancelled.bin');
    // Both uploads have a session and a part held on the wire.
    await hold.until((held) => sessionsOf(held).size === 2);

    await row.locator('[data-action=pause]').click();
    await row.and(page.locator('[data-state=paused]')).waitFor();
    const aborted = page.waitForResponse((r) => r.request().method() === 'DELETE' && PART_PUT.test(r.url()));
    await cancelled.locator('[data-action=cancel]').click();
    await cancelled.and(page.locator('[data-state=cancelled]')).waitFor();
    assert.equal((await aborted).status(), 204);

    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await row.locator('[data-action=resume]').click();
    await row.and(page.locator('[data-state=done]')).waitFor({ timeout: 120_000 });
    const found = await items(folder);
    assert.deepEqual(found.map((e) => e.name), ['control.bin']);
    assert.equal(found[0].sha1, file.sha1);
    // The cancelled upload's session is gone from the server.
    assert.equal(sessions.size, 2);
    let gone = 0;
    for (const id of sessions) {
      const res = await api(`/files/upload_sessions/${id}`);
      if (res.status === 404) gone++;
    }
    assert.equal(gone, 1);
    assertClean(page);
    await page.context().close();
  });

  test('shows names that look like markup as text', async () => {
    const folder = await freshFolder('names');
    const evil = '<img src=x onerror=alert(1)>';
    const created = await api('/folders', { method: 'POST', body: { name: evil, parent: { id: folder } } });
    assert.equal(created.status, 201);
    const page = await signedIn(folder);
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    const row = page.locator('#items tr[data-type=folder]');
    await row.waitFor();
    assert.equal(await row.locator('a.name').textContent(), evil);
    assert.equal(await page.locator('#items img').count(), 0);
    // Inside it, the breadcrumb shows the name as text too.
    await row.locator('a.name').click();
    await page.locator('#crumbs .here').filter({ hasText: evil }).waitFor();
    assert.equal(await page.locator('#crumbs img').count(), 0);
    assert.equal(dialogs, 0);
    await screenshot(page, 'markup-name');
    assertClean(page);
    await page.context().close();
  });
});
