/**
 * Where the refresh token lives between page loads. The access token never goes here: the client
 * keeps it in memory only.
 */
export interface TokenStorage {
  get(): string | null;
  set(refreshToken: string): void;
  clear(): void;
}

/** The part of the Web Storage API (`localStorage`, `sessionStorage`) the client uses. */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The key under which {@link webTokenStorage} keeps the refresh token by default. */
export const REFRESH_TOKEN_KEY = 'graphql-jwt-auth.refreshToken';

/** Keeps the refresh token in this object only: gone on reload. For Node and for tests. */
export function memoryTokenStorage(initial: string | null = null): TokenStorage {
  let token = initial;
  return {
    get: () => token,
    set: (refreshToken) => {
      token = refreshToken;
    },
    clear: () => {
      token = null;
    },
  };
}

/** Keeps the refresh token in `localStorage` or `sessionStorage` under `key`. */
export function webTokenStorage(store: WebStorageLike, key = REFRESH_TOKEN_KEY): TokenStorage {
  return {
    get: () => store.getItem(key),
    set: (refreshToken) => store.setItem(key, refreshToken),
    clear: () => store.removeItem(key),
  };
}

/**
 * `localStorage` when the environment has a usable one (a browser), else memory. Reading
 * `localStorage` throws where the browser blocks site storage; memory is the fallback then too.
 */
export function defaultTokenStorage(): TokenStorage {
  try {
    const store = (globalThis as { localStorage?: WebStorageLike }).localStorage;
    if (store) {
      store.getItem(REFRESH_TOKEN_KEY);
      return webTokenStorage(store);
    }
  } catch {
    // Storage disabled: fall through to memory.
  }
  return memoryTokenStorage();
}
