// Creating the folders of a folder upload: each path once, parents first,
// an existing folder of the same name reused (Box's 409 names it).

import { type Api, BoxError, type Folder } from './api';

export class FolderMaker {
  private readonly made = new Map<string, Promise<string>>();

  constructor(private readonly api: Api) {}

  /** The id of `base`/`dirs…`, creating the folders that are missing. */
  ensure(base: string, dirs: string[]): Promise<string> {
    if (dirs.length === 0) return Promise.resolve(base);
    const key = JSON.stringify([base, ...dirs]);
    let id = this.made.get(key);
    if (!id) {
      id = this.ensure(base, dirs.slice(0, -1)).then((parent) => this.make(parent, dirs[dirs.length - 1]));
      // A failure is not remembered: a retry tries again.
      id.catch(() => this.made.delete(key));
      this.made.set(key, id);
    }
    return id;
  }

  private async make(parent: string, name: string): Promise<string> {
    try {
      return (await this.api.post<Folder>('folders', { name, parent: { id: parent } })).id;
    } catch (e) {
      const existing = e instanceof BoxError && e.status === 409 ? e.conflict : null;
      if (existing?.type === 'folder') return existing.id;
      throw e;
    }
  }
}
