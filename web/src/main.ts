// The page boxup serves at `/`: sign in with a token, then browse, upload
// (files, folders, drag and drop, resumable) and download.
//
// The token lives in sessionStorage (or localStorage when "keep me signed
// in" is ticked) and only ever travels in the Authorization header: never
// in a URL, so never in a server log, a proxy log or browser history.

import { Api, BoxError, type User } from './api';
import { Browser, errorText } from './browser';
import { fromDrop, fromInput, type Picked } from './collect';
import { byId, h, replace } from './dom';
import { FolderMaker } from './folders';
import { Uploads } from './uploads';

const TOKEN = 'boxup.token';

function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN) ?? localStorage.getItem(TOKEN);
}

function forgetToken(): void {
  sessionStorage.removeItem(TOKEN);
  localStorage.removeItem(TOKEN);
}

async function start(): Promise<void> {
  const token = savedToken();
  if (!token) return signIn('');
  const api = new Api(token);
  try {
    const me = await api.get<User>('users/me');
    signedIn(api, me);
  } catch (e) {
    if (e instanceof BoxError && e.status === 401) {
      forgetToken();
      return signIn('That token is not accepted by this server.');
    }
    return signIn(`The server could not be reached: ${errorText(e)}`);
  }
}

/** The development token, offered only to a browser on the server's own machine. */
async function devToken(): Promise<string | null> {
  try {
    const res = await fetch('/web/dev-token', { method: 'POST' });
    if (!res.ok) return null;
    return ((await res.json()) as { token?: string }).token ?? null;
  } catch {
    return null;
  }
}

function signIn(problem: string): void {
  byId('sign-out').hidden = true;
  byId('who').textContent = '';
  const input = h('input', {
    type: 'password',
    id: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'Access token',
    'aria-label': 'Access token',
  });
  const remember = h('input', { type: 'checkbox', id: 'remember' });
  const error = h('p', { class: 'message', id: 'sign-in-error', role: 'alert', text: problem, hidden: !problem });
  const go = (token: string) => {
    token = token.trim();
    if (!token) return;
    forgetToken();
    (remember.checked ? localStorage : sessionStorage).setItem(TOKEN, token);
    void start();
  };
  const offer = h('p', { class: 'offer', hidden: true });
  const form = h(
    'section',
    { class: 'sign-in' },
    h('h1', { text: 'Sign in' }),
    h('p', { text: 'Paste an access token this server accepts: one from “boxup admin token create”, or given to “boxup serve --token”.' }),
    input,
    h('label', {}, remember, ' Keep me signed in on this device'),
    h('button', { type: 'button', class: 'primary', id: 'sign-in', onclick: () => go(input.value), text: 'Sign in' }),
    error,
    offer,
  );
  input.addEventListener('keydown', (ev) => ev.key === 'Enter' && go(input.value));
  replace(byId('main'), form);
  input.focus();
  void devToken().then((token) => {
    if (!token) return;
    replace(
      offer,
      'This server runs with a development token and you are on its machine: ',
      h('button', { type: 'button', class: 'quiet', id: 'use-dev-token', onclick: () => go(token), text: 'use the development token' }),
    );
    offer.hidden = false;
  });
}

function signedIn(api: Api, me: User): void {
  api.onUnauthorized = () => {
    forgetToken();
    signIn('The server no longer accepts this token. Sign in again.');
  };
  byId('who').textContent = me.name || me.login;
  const out = byId<HTMLButtonElement>('sign-out');
  out.hidden = false;
  out.onclick = () => {
    forgetToken();
    // A fresh page: nothing of this user's state survives in memory.
    location.replace(location.pathname);
  };

  const filesInput = h('input', { type: 'file', multiple: true, hidden: true, id: 'pick-files' });
  const folderInput = h('input', { type: 'file', hidden: true, id: 'pick-folder', webkitdirectory: true });
  const toolbar = h(
    'div',
    { class: 'tools' },
    filesInput,
    folderInput,
    h('button', { type: 'button', class: 'primary', id: 'upload-files', onclick: () => filesInput.click(), text: 'Upload files' }),
    h('button', { type: 'button', id: 'upload-folder', onclick: () => folderInput.click(), text: 'Upload folder' }),
    h('button', { type: 'button', id: 'new-folder', onclick: () => void browser.newFolder(), text: 'New folder' }),
  );
  const browser = new Browser(api, toolbar);
  const uploads = new Uploads(api, me.id, (folderId, base) => {
    // A folder upload shows up as a new folder where it was dropped.
    if (folderId === browser.folderId || base === browser.folderId) void browser.reload();
  });
  const folders = new FolderMaker(api);
  const enqueue = (picked: Picked[]) => {
    const base = browser.folderId;
    uploads.add(picked.map((p) => ({ file: p.file, name: p.file.name, base, folder: () => folders.ensure(base, p.dirs) })));
  };
  for (const input of [filesInput, folderInput]) {
    input.addEventListener('change', () => {
      if (input.files) enqueue(fromInput(input.files));
      input.value = '';
    });
  }
  dropZone((data) => void fromDrop(data).then(enqueue, (e: unknown) => browser.say(`Could not read the drop: ${errorText(e)}`)));

  replace(byId('main'), browser.el, uploads.el);
  const route = () => void browser.open(/^#folder\/(\d+)$/.exec(location.hash)?.[1] ?? '0');
  window.onhashchange = route;
  route();
}

/** The whole window accepts drops of files and folders. */
function dropZone(onDrop: (data: DataTransfer) => void): void {
  const veil = byId('drop-veil');
  let depth = 0;
  const carriesFiles = (ev: DragEvent) => ev.dataTransfer?.types.includes('Files') ?? false;
  window.ondragenter = (ev) => {
    if (!carriesFiles(ev)) return;
    depth++;
    veil.hidden = false;
  };
  window.ondragleave = () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) veil.hidden = true;
  };
  window.ondragover = (ev) => {
    if (carriesFiles(ev)) ev.preventDefault();
  };
  window.ondrop = (ev) => {
    ev.preventDefault();
    depth = 0;
    veil.hidden = true;
    if (ev.dataTransfer) onDrop(ev.dataTransfer);
  };
}

void start();
