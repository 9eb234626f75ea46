/** Number formats of the benchmark's markdown tables; a value that is not finite reads "—". */

/** Rounded, with thousands separators: `1,234`. */
export const integer = (value: number): string =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';

/** Fixed decimals: `0.97`. */
export const decimal = (value: number, digits = 2): string =>
  Number.isFinite(value) ? value.toFixed(digits) : '—';
