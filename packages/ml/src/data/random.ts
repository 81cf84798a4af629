/**
 * Seeded PRNG (mulberry32): splits, initialisation and searches are reproducible from one seed.
 * Not cryptographic; fast and good enough for shuffles and N(0, σ) initialisation.
 */
export interface Random {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** standard normal (Box–Muller) */
  normal(): number;
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** In-place Fisher–Yates shuffle of a typed array slice [start, end). */
export function shuffleRange(values: Int32Array, start: number, end: number, random: Random): void {
  for (let i = end - 1; i > start; i--) {
    const j = start + random.int(i - start + 1);
    const swap = values[i]!;
    values[i] = values[j]!;
    values[j] = swap;
  }
}
