/** Nearest-rank percentiles of a sample (milliseconds, rounded). */
export function percentiles(values: readonly number[], ranks: readonly number[] = [50, 95, 99]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  return Object.fromEntries(
    ranks.map((p) => [`p${p}`, sorted.length === 0 ? 0 : Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!)]),
  );
}
