// Sending a body with upload progress. `fetch` cannot report how much of a
// request body has gone out, so part and file uploads use XMLHttpRequest;
// everything else uses `fetch` (api.ts). Failures are `BoxError`s, an
// abort is the signal's reason.

import { BoxError, NETWORK_ERROR, errorFrom } from './api';

export interface Sent {
  status: number;
  json: unknown;
}

export function send(opts: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: XMLHttpRequestBodyInit;
  signal: AbortSignal;
  onProgress?: (loaded: number) => void;
}): Promise<Sent> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) {
      reject(opts.signal.reason);
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const done = () => opts.signal.removeEventListener('abort', onAbort);
    xhr.open(opts.method, opts.url);
    for (const [k, v] of Object.entries(opts.headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (ev) => opts.onProgress?.(ev.loaded);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        let json: unknown = null;
        try {
          json = xhr.responseText ? JSON.parse(xhr.responseText) : null;
        } catch {
          reject(new BoxError(xhr.status, 'bad_response', 'The server answered something that is not JSON'));
          return;
        }
        resolve({ status: xhr.status, json });
      } else {
        reject(errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('retry-after')));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new BoxError(0, NETWORK_ERROR, 'The connection to the server failed'));
    };
    xhr.onabort = () => {
      done();
      reject(opts.signal.reason ?? new DOMException('aborted', 'AbortError'));
    };
    xhr.send(opts.body);
  });
}
