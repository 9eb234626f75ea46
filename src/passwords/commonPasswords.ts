import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The bundled blocklist (NIST SP 800-63B §3.1.1.2): one lower-cased password a line, `#` starts a
 * comment. It sits beside this module; the build copies it next to the compiled one.
 */
export const COMMON_PASSWORDS_FILE = path.join(__dirname, 'common-passwords.txt');

let blocklist: ReadonlySet<string> | undefined;

/** Reads a blocklist file into a set of lower-cased entries. */
export function loadCommonPasswords(file: string = COMMON_PASSWORDS_FILE): ReadonlySet<string> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim().toLowerCase())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return new Set(entries);
}

/** True when `password`, ignoring letter case, is on the bundled list (read once, on first use). */
export function isCommonPassword(password: string): boolean {
  blocklist ??= loadCommonPasswords();
  return blocklist.has(password.toLowerCase());
}
