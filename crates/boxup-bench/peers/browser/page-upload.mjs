// Uploads one file through boxup's own web page in headless Chromium and
// prints {"seconds": …} (from choosing the file to the page showing the
// upload done), for compare.sh's browser row.
//
//   node --experimental-websocket page-upload.mjs ORIGIN TOKEN FILE [CHROMIUM]
//
// Why raw DevTools protocol and not Playwright (which the page's tests use):
// Playwright always enables the protocol's Network domain, and Chromium then
// copies every request body to DevTools, which slowed XHR uploads about 20×
// (docs/web.md). Here only the Page, Runtime and DOM domains are used, so
// the page runs as it would for a person. Node 20's WebSocket client (behind
// --experimental-websocket) speaks the protocol; nothing is installed.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const [origin, token, file, chromium = '/usr/bin/chromium'] = process.argv.slice(2);
if (!origin || !token || !file) {
  console.error('usage: page-upload.mjs ORIGIN TOKEN FILE [CHROMIUM]');
  process.exit(2);
}
const TIMEOUT_MS = 15 * 60 * 1000;

const profile = mkdtempSync(join(tmpdir(), 'boxup-bench-chromium-'));
const browser = spawn(chromium, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
  'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });

/**
 * Stops the browser with every process it started (it leads a process
 * group of its own) and removes its profile. A profile that cannot be
 * removed is reported, not fatal: the upload was measured.
 */
async function cleanup() {
  if (browser.exitCode === null && browser.signalCode === null) {
    const exited = new Promise((resolve) => browser.once('exit', resolve));
    try {
      process.kill(-browser.pid, 'SIGKILL');
    } catch {
      browser.kill('SIGKILL');
    }
    await exited;
  }
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (e) {
    console.error(`cannot remove ${profile}: ${e.message}`);
  }
}

/** The browser's DevTools WebSocket URL, from what it prints on stderr. */
function devtoolsUrl() {
  return new Promise((resolve, reject) => {
    let seen = '';
    browser.stderr.on('data', (chunk) => {
      seen += chunk;
      const m = seen.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    browser.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${seen.slice(-500)}`)));
  });
}

/** One DevTools connection: `send(method, params, sessionId)`. */
async function connect(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  let next = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`${waiter.method}: ${msg.error.message}`));
    else waiter.resolve(msg.result);
  };
  const send = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const id = ++next;
    pending.set(id, { resolve, reject, method });
    ws.send(JSON.stringify({ id, method, params, sessionId }));
  });
  return { send, close: () => ws.close() };
}

/** Evaluates `expression` in the page; its value. */
async function evaluate(cdp, session, expression) {
  const { result, exceptionDetails } = await cdp.send(
    'Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, session);
  if (exceptionDetails) throw new Error(`${expression}: ${exceptionDetails.text}`);
  return result.value;
}

/** Polls `expression` until it is truthy (a benchmark may poll). */
async function until(cdp, session, expression, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await evaluate(cdp, session, expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const cdp = await connect(await devtoolsUrl());
  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId: s } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  await cdp.send('Page.enable', {}, s);
  // Signed in as a person who pasted the token: it waits in sessionStorage.
  await cdp.send('Page.navigate', { url: `${origin}/` }, s);
  await until(cdp, s, 'document.readyState === "complete"', 'the page');
  await evaluate(cdp, s, `sessionStorage.setItem('boxup.token', ${JSON.stringify(token)})`);
  await cdp.send('Page.reload', {}, s);
  await until(cdp, s, '!!document.querySelector("#crumbs .here")', 'the signed-in page');

  const { root } = await cdp.send('DOM.getDocument', {}, s);
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#pick-files' }, s);
  const name = JSON.stringify(basename(file));
  const done = `!!document.querySelector('#upload-list li.upload[data-name=' + JSON.stringify(${name}) + '][data-state=done]')`;
  const failed = `document.querySelector('#upload-list li.upload[data-name=' + JSON.stringify(${name}) + '][data-state=failed]')?.textContent`;
  const started = performance.now();
  await cdp.send('DOM.setFileInputFiles', { nodeId, files: [file] }, s);
  await until(cdp, s, `(${done}) || (${failed})`, 'the upload');
  const seconds = (performance.now() - started) / 1000;
  const failure = await evaluate(cdp, s, failed);
  if (failure) throw new Error(`the page failed the upload: ${failure}`);
  cdp.close();
  console.log(JSON.stringify({ seconds }));
}

try {
  await main();
  await cleanup();
} catch (e) {
  await cleanup();
  console.error(e.stack || String(e));
  process.exit(1);
}
