// What the page remembers about unfinished upload sessions, so that after a
// reload (or a crashed tab) choosing the same file continues the session:
// its parts are listed, the local file is hashed again, and only parts the
// server does not hold with the same SHA-1 are sent.
//
// Kept in localStorage: session ids are not secrets (every call on them
// needs the token too), and a tab that crashed has no sessionStorage.

const STORE = 'boxup.resume.v1';

export interface ResumeRecord {
  key: string;
  user: string;
  sessionId: string;
  folderId: string;
  name: string;
  size: number;
  lastModified: number;
  partSize: number;
  totalParts: number;
  expiresAt: string;
  /** The file this session makes a new version of, if any. */
  fileId: string | null;
}

/** The identity of "the same file": who, where, what name, size and mtime. */
export function resumeKey(user: string, folderId: string, file: File, name: string): string {
  return JSON.stringify([user, folderId, name, file.size, file.lastModified]);
}

function readAll(): ResumeRecord[] {
  try {
    const v = JSON.parse(localStorage.getItem(STORE) ?? '[]') as unknown;
    return Array.isArray(v) ? (v as ResumeRecord[]) : [];
  } catch {
    return [];
  }
}

function writeAll(records: ResumeRecord[]): void {
  localStorage.setItem(STORE, JSON.stringify(records));
}

/** Unfinished sessions of `user` that have not expired. */
export function pending(user: string): ResumeRecord[] {
  const now = Date.now();
  const all = readAll();
  const live = all.filter((r) => Date.parse(r.expiresAt) > now);
  if (live.length !== all.length) writeAll(live);
  return live.filter((r) => r.user === user);
}

export function find(key: string): ResumeRecord | undefined {
  return readAll().find((r) => r.key === key);
}

export function save(record: ResumeRecord): void {
  writeAll([...readAll().filter((r) => r.key !== record.key), record]);
}

export function forget(key: string): void {
  writeAll(readAll().filter((r) => r.key !== key));
}
