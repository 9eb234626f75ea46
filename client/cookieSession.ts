import type { TokenStorage } from './tokenStorage';

/**
 * The readable half of the API's cookie mode (docs/frontend.md, "Cookie mode"): the API sets the
 * refresh token as an HttpOnly cookie, which script never sees, and next to it this CSRF token,
 * which script reads and echoes in a header.
 */
export const CSRF_COOKIE_NAME = '__Host-csrf_token';
/** The header the CSRF token is echoed in. */
export const CSRF_HEADER_NAME = 'X-CSRF-Token';

interface DocumentLike {
  cookie: string;
}

function currentDocument(): DocumentLike | undefined {
  return (globalThis as { document?: DocumentLike }).document;
}

/** A cookie of this page, or null; reads `document.cookie`, so it sees only non-HttpOnly ones. */
export function readCookie(name: string, source = currentDocument()): string | null {
  for (const part of (source?.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      const value = part.slice(separator + 1).trim();
      return value === '' ? null : decodeURIComponent(value);
    }
  }
  return null;
}

/** The header that proves the request comes from a page that may read the CSRF cookie. */
export function csrfHeaders(): Record<string, string> {
  const token = readCookie(CSRF_COOKIE_NAME);
  return token === null ? {} : { [CSRF_HEADER_NAME]: token };
}

// Stands for the refresh token the browser holds; the client never learns the real one.
const IN_COOKIE = 'in-cookie';

/**
 * The client's storage in cookie mode: nothing is stored. "Signed in" means the browser holds the
 * session's CSRF cookie, which the API sets and clears together with the refresh cookie; `clear`
 * drops the CSRF cookie too, so a dead session does not look live after a reload.
 */
export function cookieTokenStorage(): TokenStorage {
  return {
    get: () => (readCookie(CSRF_COOKIE_NAME) === null ? null : IN_COOKIE),
    set: () => undefined,
    clear: () => {
      const document = currentDocument();
      if (document)
        document.cookie = `${CSRF_COOKIE_NAME}=; Max-Age=0; Path=/; Secure; SameSite=Strict`;
    },
  };
}
