// The folder view: where you are (breadcrumbs), what is here, and what you
// can do with it: open, download, rename, delete, create a folder.

import { type Api, BoxError, type Folder, type Item, type Page } from './api';
import { askName, confirm } from './dialogs';
import { h, replace } from './dom';
import * as fmt from './format';

const PAGE = 200;
const ITEM_FIELDS = 'name,size,modified_at,content_modified_at,sha1';

export class Browser {
  readonly el: HTMLElement;
  folderId = '0';
  private readonly crumbs = h('nav', { class: 'crumbs', id: 'crumbs', 'aria-label': 'Folder path' });
  private readonly rows = h('tbody', { id: 'items' });
  private readonly more = h('button', { type: 'button', class: 'quiet', id: 'load-more', hidden: true, text: 'Show more' });
  private readonly message = h('p', { class: 'message', id: 'message', role: 'status' });
  private loaded = 0;
  private generation = 0;

  constructor(
    private readonly api: Api,
    toolbar: HTMLElement,
  ) {
    this.more.addEventListener('click', () => void this.loadPage(this.generation));
    this.el = h(
      'section',
      { class: 'browser' },
      h('div', { class: 'toolbar' }, this.crumbs, toolbar),
      this.message,
      h(
        'table',
        { class: 'items' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', { text: 'Name' }), h('th', { text: 'Size' }), h('th', { text: 'Modified' }), h('th', {})),
        ),
        this.rows,
      ),
      this.more,
    );
  }

  /** Shows a folder (and remembers it in the address, without any secret). */
  async open(id: string): Promise<void> {
    this.folderId = id;
    if (location.hash !== `#folder/${id}`) history.replaceState(null, '', `#folder/${id}`);
    await this.reload();
  }

  async reload(): Promise<void> {
    const generation = ++this.generation;
    this.loaded = 0;
    this.say('');
    try {
      const folder = await this.api.get<Folder>(`folders/${this.folderId}?fields=name,path_collection`);
      if (generation !== this.generation) return;
      const path = [...(folder.path_collection?.entries ?? []), folder];
      replace(
        this.crumbs,
        ...path.map((f, i) =>
          i === path.length - 1
            ? h('span', { class: 'here', text: f.id === '0' ? 'All Files' : f.name })
            : h('a', { href: `#folder/${f.id}`, text: f.id === '0' ? 'All Files' : f.name }),
        ),
      );
      replace(this.rows);
      await this.loadPage(generation);
    } catch (e) {
      if (e instanceof BoxError && e.status === 404 && this.folderId !== '0') {
        await this.open('0');
        return;
      }
      this.say(`Could not list this folder: ${errorText(e)}`);
    }
  }

  private async loadPage(generation: number): Promise<void> {
    const page = await this.api.get<Page<Item>>(
      `folders/${this.folderId}/items?fields=${ITEM_FIELDS}&limit=${PAGE}&offset=${this.loaded}`,
    );
    if (generation !== this.generation) return;
    this.loaded += page.entries.length;
    this.rows.append(...page.entries.map((item) => this.row(item)));
    this.more.hidden = this.loaded >= page.total_count;
    if (page.total_count === 0) this.rows.append(h('tr', { class: 'empty' }, h('td', { colspan: 4, text: 'This folder is empty. Drop files here to upload them.' })));
  }

  private row(item: Item): HTMLElement {
    const name =
      item.type === 'folder'
        ? h('a', { href: `#folder/${item.id}`, class: 'name folder', text: item.name })
        : h('span', { class: 'name file', text: item.name });
    const button = (label: string, action: () => Promise<void>) =>
      h('button', {
        type: 'button',
        class: 'quiet',
        'data-action': label.toLowerCase(),
        onclick: () => void action().catch((e: unknown) => this.say(`${label} failed: ${errorText(e)}`)),
        text: label,
      });
    return h(
      'tr',
      { 'data-id': item.id, 'data-type': item.type, 'data-name': item.name },
      h('td', {}, name),
      h('td', { class: 'size', text: item.type === 'file' && item.size !== undefined ? fmt.bytes(item.size) : '' }),
      h('td', { class: 'date', text: fmt.date(item.content_modified_at ?? item.modified_at) }),
      h(
        'td',
        { class: 'actions' },
        item.type === 'file' ? button('Download', () => this.download(item)) : null,
        button('Rename', () => this.rename(item)),
        button('Delete', () => this.remove(item)),
      ),
    );
  }

  async newFolder(): Promise<void> {
    const name = await askName('New folder', '', 'Create');
    if (!name) return;
    try {
      await this.api.post('folders', { name, parent: { id: this.folderId } });
      await this.reload();
    } catch (e) {
      this.say(`Could not create the folder: ${errorText(e)}`);
    }
  }

  /**
   * Downloads through the browser's own download manager, straight to disk.
   * The API answers `GET /files/{id}/content` with a redirect to a signed,
   * short-lived link; a HEAD request with the token follows it, and the
   * link (which grants that one file, not the account) is then opened.
   */
  private async download(item: Item): Promise<void> {
    const res = await this.api.request('HEAD', `files/${item.id}/content`);
    const a = h('a', { href: res.url, download: item.name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  }

  private async rename(item: Item): Promise<void> {
    const name = await askName(`Rename ${item.type}`, item.name, 'Rename');
    if (!name || name === item.name) return;
    await this.api.put(`${item.type}s/${item.id}`, { name });
    await this.reload();
  }

  private async remove(item: Item): Promise<void> {
    const what = item.type === 'folder' ? 'this folder and everything in it' : 'this file';
    if (!(await confirm(`Delete “${item.name}”?`, `This deletes ${what}.`, 'Delete'))) return;
    await this.api.delete(item.type === 'folder' ? `folders/${item.id}?recursive=true` : `files/${item.id}`);
    await this.reload();
  }

  say(text: string): void {
    this.message.textContent = text;
    this.message.hidden = text === '';
  }
}

export function errorText(e: unknown): string {
  if (e instanceof BoxError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
