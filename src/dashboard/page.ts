// What every page gets, and what it gives back: a function that stops its timers and requests.
import type { WhoAmI } from './contract.js';

/** The sign-in credential. Mutable because rotating one's own token switches the session to the new one. */
export interface Auth {
  token: string;
  tokenId: string;
}

export interface PageContext {
  readonly auth: Auth;
  readonly whoami: WhoAmI;
  readonly isAdmin: boolean;
}

export type Cleanup = () => void;

export type Page = (root: HTMLElement, context: PageContext) => Cleanup;
