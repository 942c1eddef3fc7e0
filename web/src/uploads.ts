// The uploads panel: the queue (a few files at a time), overall progress,
// speed and time left, and the unfinished sessions a previous visit left,
// each continued by choosing its file again.

import type { Api } from './api';
import { h, replace } from './dom';
import * as fmt from './format';
import * as resume from './resume';
import { Upload } from './upload';

const FILES_AT_ONCE = 3;

export interface Queued {
  file: File;
  name: string;
  /** The folder it was dropped into (a folder upload puts it further down). */
  base: string;
  /** The folder it goes into, created first for a folder upload. */
  folder: () => Promise<string>;
}

export class Uploads {
  readonly el: HTMLElement;
  private readonly list = h('ul', { class: 'uploads', id: 'upload-list' });
  private readonly bar = h('progress', { max: 1, value: 0, id: 'overall-bar' });
  private readonly summary = h('span', { id: 'overall' });
  private readonly unfinished = h('ul', { class: 'unfinished', id: 'unfinished' });
  private uploads: Upload[] = [];

  constructor(
    private readonly api: Api,
    private readonly user: string,
    /** Called when a file has been uploaded into `folderId`, dropped into `base`. */
    private readonly uploaded: (folderId: string, base: string) => void,
  ) {
    this.el = h(
      'section',
      { class: 'panel', id: 'uploads', 'aria-label': 'Uploads' },
      h(
        'div',
        { class: 'panel-head' },
        h('h2', { text: 'Uploads' }),
        this.bar,
        this.summary,
        h('button', { type: 'button', class: 'quiet', id: 'clear-finished', onclick: () => this.clear(), text: 'Clear finished' }),
      ),
      this.unfinished,
      this.list,
    );
    this.showUnfinished();
    this.refresh();
    setInterval(() => this.tick(), 500);
  }

  add(items: Queued[]): void {
    for (const q of items) {
      const u = new Upload(this.api, this.user, q.file, q.name, q.base, q.folder, () => this.changed(u));
      this.uploads.push(u);
      this.list.append(u.row);
    }
    this.pump();
  }

  private changed(u: Upload): void {
    if (u.state === 'done') {
      void u.folder().then((id) => this.uploaded(id, u.base));
      this.showUnfinished();
    }
    if (u.state === 'cancelled') this.showUnfinished();
    this.pump();
    this.refresh();
  }

  /**
   * Starts waiting uploads while fewer than FILES_AT_ONCE run. Re-entered
   * when a started upload changes state, so it counts afresh each time.
   */
  private pump(): void {
    for (const u of this.uploads) {
      if (this.uploads.filter((x) => x.state === 'running').length >= FILES_AT_ONCE) break;
      if (u.state === 'waiting') void u.run();
    }
  }

  private clear(): void {
    this.uploads = this.uploads.filter((u) => {
      const keep = u.state !== 'done' && u.state !== 'cancelled';
      if (!keep) u.row.remove();
      return keep;
    });
    this.refresh();
  }

  private tick(): void {
    for (const u of this.uploads) if (u.state === 'running') u.render();
    this.refresh();
  }

  private refresh(): void {
    const counted = this.uploads.filter((u) => u.state !== 'cancelled');
    const total = counted.reduce((a, u) => a + u.size, 0);
    const sent = counted.reduce((a, u) => a + (u.state === 'done' ? u.size : u.sent), 0);
    const done = counted.filter((u) => u.state === 'done').length;
    const rate = counted.filter((u) => u.state === 'running').reduce((a, u) => a + u.speed.rate(), 0);
    this.el.hidden = this.uploads.length === 0 && this.unfinished.childElementCount === 0;
    this.bar.value = total ? sent / total : counted.length && done === counted.length ? 1 : 0;
    const parts = [`${done} of ${counted.length} done`, total ? `${Math.floor((100 * sent) / total)}%` : ''];
    if (rate > 0) parts.push(fmt.speed(rate), `${fmt.duration((total - sent) / rate)} left`);
    this.summary.textContent = parts.filter(Boolean).join(' · ');
  }

  /** Sessions a previous visit started and did not finish. */
  showUnfinished(): void {
    const mine = new Set(this.uploads.filter((u) => u.state !== 'done').map((u) => u.name));
    const records = resume.pending(this.user).filter((r) => !mine.has(r.name));
    replace(this.unfinished, ...records.map((r) => this.unfinishedRow(r)));
    this.refresh();
  }

  private unfinishedRow(r: resume.ResumeRecord): HTMLElement {
    const input = h('input', { type: 'file', hidden: true, 'data-resume': r.sessionId });
    const message = h('span', { class: 'status', text: 'Unfinished: choose the same file to continue' });
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      input.value = '';
      if (!file) return;
      if (file.size !== r.size || file.lastModified !== r.lastModified) {
        message.textContent = 'That is not the file this upload started with (its size or date differ)';
        return;
      }
      row.remove();
      this.add([{ file, name: r.name, base: r.folderId, folder: () => Promise.resolve(r.folderId) }]);
    });
    const discard = async () => {
      resume.forget(r.key);
      row.remove();
      await this.api.delete(`files/upload_sessions/${r.sessionId}`).catch(() => undefined);
      this.refresh();
    };
    const row = h(
      'li',
      { class: 'upload', 'data-name': r.name, 'data-state': 'unfinished' },
      h('span', { class: 'name', title: r.name, text: r.name }),
      h('span', { class: 'size', text: fmt.bytes(r.size) }),
      message,
      h(
        'span',
        { class: 'actions' },
        input,
        h('button', { type: 'button', class: 'quiet', 'data-action': 'choose', onclick: () => input.click(), text: 'Choose file' }),
        h('button', { type: 'button', class: 'quiet', 'data-action': 'discard', onclick: () => void discard(), text: 'Discard' }),
      ),
    );
    return row;
  }
}
