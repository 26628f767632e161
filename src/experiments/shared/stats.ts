// Summary statistics for tables (means over trials, medians of timings).

/** The arithmetic mean (NaN for an empty list). */
export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The median: robust to load spikes in timings on a shared machine (NaN for an empty list). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The sample standard deviation (n - 1 in the denominator; 0 for one value, NaN for none). */
export function std(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  if (xs.length === 1) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * The half-width of a 95% confidence interval of the mean, 1.96 s / sqrt(n) (normal
 * approximation; fine for the 100+ test tasks it is used with).
 */
export function ci95(xs: readonly number[]): number {
  return (1.96 * std(xs)) / Math.sqrt(xs.length);
}
