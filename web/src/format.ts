// Numbers as people read them: amounts with their decimals and symbol, shares, spans of blocks.

/** `value` smallest units of a token with `decimals` decimals: `1,234.5 CHAT`. */
export function amount (value: bigint, decimals: number, symbol: string): string {
  const negative = value < 0n;
  const v = negative ? -value : value;
  const unit = 10n ** BigInt(decimals);
  const whole = (v / unit).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let frac = decimals > 0 ? (v % unit).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  // Six decimals are plenty beside a whole part; below one, every significant digit.
  if (frac.length > 6 && whole !== '0') frac = frac.slice(0, 6).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? '.' + frac : ''} ${symbol}`.trim();
}

/** `value` smallest units as a plain decimal number, exact: `1234.5`. */
export function plainAmount (value: bigint, decimals: number): string {
  const unit = 10n ** BigInt(decimals);
  const frac = decimals > 0 ? (value % unit).toString().padStart(decimals, '0').replace(/0+$/, '') : '';
  return `${value / unit}${frac ? '.' + frac : ''}`;
}

/** Parses `text` (`12.5`) as an amount of a token with `decimals` decimals; throws if malformed. */
export function parseAmount (text: string, decimals: number): bigint {
  const t = text.trim().replace(/,/g, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) throw new Error(`"${text}" is not an amount`);
  const frac = (m[2] ?? '');
  if (frac.length > decimals) throw new Error(`"${text}" has more than ${decimals} decimals`);
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

/** A Permill (parts per million) as a percentage: `80.0%`. */
export function permill (parts: number): string {
  return `${(parts / 10_000).toFixed(1)}%`;
}

/** `blocks` blocks of `blockMs` ms, for people: `5 blocks (about 30 s)`. */
export function blocks (n: number, blockMs: number): string {
  return `${n.toLocaleString('en-US')} block${n === 1 ? '' : 's'} (about ${span(n * blockMs)})`;
}

/** A duration in ms, roughly: `30 s`, `12 min`, `3 h`, `2 days`. */
export function span (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

/** A byte count: `100,000,000 bytes`. */
export function bytes (n: number | bigint): string {
  return `${n.toLocaleString('en-US')} byte${n === 1 || n === 1n ? '' : 's'}`;
}

/** A byte count, short: `1.5 MiB`. */
export function size (n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
