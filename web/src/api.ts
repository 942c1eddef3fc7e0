// The Box API as this page uses it: same origin, bearer token in the
// Authorization header only (never in a URL), every failure as a
// `BoxError` built from Box's error object.

export const API = '/2.0';

export interface Item {
  type: 'file' | 'folder';
  id: string;
  name: string;
  etag?: string | null;
  sha1?: string;
  size?: number;
  modified_at?: string | null;
  content_modified_at?: string | null;
}

export interface Folder extends Item {
  type: 'folder';
  path_collection?: { entries: Item[] };
}

export interface Page<T> {
  total_count: number;
  entries: T[];
  offset: number;
  limit: number;
}

export interface Part {
  part_id: string;
  offset: number;
  size: number;
  sha1?: string;
}

export interface Session {
  id: string;
  part_size: number;
  total_parts: number;
  num_parts_processed: number;
  session_expires_at: string;
}

export interface User {
  id: string;
  name: string;
  login: string;
}

/** Box's error object, thrown for every non-2xx answer. */
export class BoxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> = {},
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }

  /** Worth trying again later: the network, or the server said so. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** The first conflicting item of a 409 (an object for files, an array for folders). */
  get conflict(): Item | null {
    const info = this.body.context_info as { conflicts?: Item | Item[] } | undefined;
    const c = info?.conflicts;
    return (Array.isArray(c) ? c[0] : c) ?? null;
  }
}

/** Reads Box's error object from a failed answer, whatever it holds. */
export function errorFrom(status: number, text: string, retryAfter: string | null): BoxError {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: a proxy's page, say. The status still tells.
  }
  const code = typeof body.code === 'string' ? body.code : `http_${status}`;
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  const seconds = retryAfter === null ? null : Number(retryAfter);
  return new BoxError(status, code, message, body, Number.isFinite(seconds) ? seconds : null);
}

export const NETWORK_ERROR = 'network_error';

export class Api {
  /** Called once when the server refuses the token (401). */
  onUnauthorized: () => void = () => {};

  constructor(private token: string) {}

  /** The Authorization header's value, for requests made with XHR. */
  get bearer(): string {
    return `Bearer ${this.token}`;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; data: T; headers: Headers; url: string }> {
    const init: RequestInit = { method, headers: { Authorization: this.bearer, ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, init);
    } catch (e) {
      throw new BoxError(0, NETWORK_ERROR, `The server could not be reached (${String(e)})`);
    }
    const text = method === 'HEAD' ? '' : await res.text();
    if (!res.ok) {
      const err = errorFrom(res.status, text, res.headers.get('retry-after'));
      if (res.status === 401) this.onUnauthorized();
      throw err;
    }
    const data = (text ? JSON.parse(text) : null) as T;
    return { status: res.status, data, headers: res.headers, url: res.url };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).data;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('POST', path, body)).data;
  }

  async put<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('PUT', path, body)).data;
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path);
  }
}
