// One file's upload as the page shows it: its state, its row in the
// uploads panel, and its pause / resume / cancel / retry buttons.

import { type Api, BoxError, type Item } from './api';
import { h, replace } from './dom';
import * as fmt from './format';
import * as resume from './resume';
import { Speedometer } from './speed';
import type { TransferCtx } from './transfer';
import { uploadChunked } from './upload-chunked';
import { uploadSimple } from './upload-simple';

/** Box's SDKs send files from 20 MB through upload sessions; so does this page. */
export const CHUNKED_FROM = 20_000_000;
const PARALLEL_PARTS = 4;

export type State = 'waiting' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

class Stop extends Error {
  constructor(readonly to: 'paused' | 'cancelled') {
    super(to);
  }
}

export class Upload {
  state: State = 'waiting';
  sent = 0;
  item: Item | null = null;
  readonly speed = new Speedometer();
  readonly row: HTMLElement;
  private controller: AbortController | null = null;
  /** The current run, which a cancel waits for before aborting the session. */
  private running: Promise<void> = Promise.resolve();
  private readonly bar = h('progress', { max: 1, value: 0 });
  private readonly status = h('span', { class: 'status' });
  private readonly buttons = h('span', { class: 'actions' });
  private phase = '';

  constructor(
    private readonly api: Api,
    private readonly user: string,
    readonly file: File,
    readonly name: string,
    readonly base: string,
    /** Resolves to the folder to upload into (folder uploads create it first). */
    readonly folder: () => Promise<string>,
    private readonly changed: (u: Upload) => void,
  ) {
    this.row = h(
      'li',
      { class: 'upload', 'data-name': name },
      h('span', { class: 'name', title: name, text: name }),
      h('span', { class: 'size', text: fmt.bytes(file.size) }),
      this.bar,
      this.status,
      this.buttons,
    );
    this.render();
    this.renderButtons();
  }

  get size(): number {
    return this.file.size;
  }

  get active(): boolean {
    return this.state === 'waiting' || this.state === 'running';
  }

  run(): Promise<void> {
    if (this.state !== 'waiting') return this.running;
    this.running = this.attempt();
    return this.running;
  }

  private async attempt(): Promise<void> {
    this.set('running', 'Starting');
    const controller = new AbortController();
    this.controller = controller;
    this.speed.reset(this.sent);
    try {
      const folderId = await this.folder();
      const ctx: TransferCtx = {
        api: this.api,
        user: this.user,
        file: this.file,
        folderId,
        name: this.name,
        signal: controller.signal,
        parallel: PARALLEL_PARTS,
        progress: (n) => {
          this.sent = n;
          this.speed.sample(n);
          this.render();
        },
        phase: (text) => {
          this.phase = text;
          this.render();
        },
      };
      this.item = await this.transfer(ctx);
      this.sent = this.size;
      this.set('done', 'Done');
    } catch (e) {
      const reason = controller.signal.aborted ? controller.signal.reason : e;
      if (reason instanceof Stop) {
        this.set(reason.to, reason.to === 'paused' ? 'Paused' : 'Cancelled');
      } else {
        this.set('failed', describe(reason));
      }
    } finally {
      this.controller = null;
    }
  }

  pause(): void {
    if (this.state === 'running') this.controller?.abort(new Stop('paused'));
    else if (this.state === 'waiting') this.set('paused', 'Paused');
  }

  /** Back in the queue, continuing the same session. */
  resume(): void {
    if (this.state === 'paused' || this.state === 'failed') this.set('waiting', 'Waiting');
  }

  async cancel(): Promise<void> {
    if (this.state === 'done' || this.state === 'cancelled') return;
    if (this.state === 'running') this.controller?.abort(new Stop('cancelled'));
    this.set('cancelled', 'Cancelled');
    // The server's copy of the unfinished parts goes too, once the run has
    // stopped (it may have been creating the session).
    await this.running;
    const folderId = await this.folder().catch(() => null);
    if (folderId === null) return;
    const key = resume.resumeKey(this.user, folderId, this.file, this.name);
    const record = resume.find(key);
    if (!record) return;
    resume.forget(key);
    await this.api.delete(`files/upload_sessions/${record.sessionId}`).catch(() => undefined);
  }

  private transfer(ctx: TransferCtx): Promise<Item> {
    if (this.size < CHUNKED_FROM) return uploadSimple(ctx);
    return uploadChunked(ctx).catch((e: unknown) => {
      // A server configured with a larger minimum for sessions.
      if (e instanceof BoxError && e.code === 'file_size_too_small') return uploadSimple(ctx);
      throw e;
    });
  }

  private set(state: State, phase: string): void {
    this.state = state;
    this.phase = phase;
    this.row.dataset.state = state;
    this.render();
    this.renderButtons();
    this.changed(this);
  }

  render(): void {
    this.bar.value = this.size === 0 ? (this.state === 'done' ? 1 : 0) : this.sent / this.size;
    let text = this.phase;
    if (this.state === 'running' && this.phase === 'Uploading') {
      const rate = this.speed.rate();
      const pct = this.size ? Math.floor((100 * this.sent) / this.size) : 0;
      text = `${pct}% · ${fmt.speed(rate)} · ${fmt.duration(rate > 0 ? (this.size - this.sent) / rate : Infinity)} left`;
    }
    this.status.textContent = text;
  }

  /** The buttons change with the state only, so a click never lands on a replaced one. */
  private renderButtons(): void {
    const button = (label: string, action: () => void) =>
      h('button', { type: 'button', class: 'quiet', 'data-action': label.toLowerCase(), onclick: action, text: label });
    replace(
      this.buttons,
      this.state === 'running' || this.state === 'waiting' ? button('Pause', () => this.pause()) : null,
      this.state === 'paused' ? button('Resume', () => this.resume()) : null,
      this.state === 'failed' ? button('Retry', () => this.resume()) : null,
      this.active || this.state === 'paused' || this.state === 'failed'
        ? button('Cancel', () => void this.cancel())
        : null,
    );
  }
}

export function describe(e: unknown): string {
  if (e instanceof BoxError) return `Failed: ${e.message}`;
  if (e instanceof Error) return `Failed: ${e.message}`;
  return `Failed: ${String(e)}`;
}
