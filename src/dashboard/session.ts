// What the page remembers for this browser tab: the sign-in token and the last ingest token issued here.
// sessionStorage, so both are gone when the tab closes; signing out removes them at once.
import type { IssuedToken } from './contract.js';

const SIGN_IN_KEY = 'ai-usage.token';
const INGEST_KEY = 'ai-usage.ingest-token';

export interface IngestTokenMemo {
  readonly id: string;
  readonly token: string;
}

export function signInToken(): string | null {
  return read(SIGN_IN_KEY);
}

export function saveSignInToken(token: string): void {
  write(SIGN_IN_KEY, token);
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(SIGN_IN_KEY);
    sessionStorage.removeItem(INGEST_KEY);
  } catch {
    // storage disabled: nothing to clear
  }
}

/** The ingest token issued (or rotated) on this page in this session, used to fill in the setup snippets. */
export function ingestToken(): IngestTokenMemo | null {
  const raw = read(INGEST_KEY);
  if (raw === null) return null;
  try {
    const parsed = JSON.parse(raw) as Partial<IngestTokenMemo>;
    return typeof parsed.id === 'string' && typeof parsed.token === 'string'
      ? { id: parsed.id, token: parsed.token }
      : null;
  } catch {
    return null;
  }
}

export function rememberIngestToken(issued: IssuedToken): void {
  if (issued.scope === 'ingest') write(INGEST_KEY, JSON.stringify({ id: issued.id, token: issued.token }));
}

export function forgetIngestToken(id: string): void {
  if (ingestToken()?.id === id) {
    try {
      sessionStorage.removeItem(INGEST_KEY);
    } catch {
      // storage disabled
    }
  }
}

function read(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // storage disabled: the page still works until reload
  }
}
