// A seeded PRNG for CPU-side choices (data splits, label corruption, test inputs): the same
// seed gives the same sequence everywhere. GPU random tensors use their own counter-based hash
// (shaders/random.wgsl).

/** The largest seed mulberry32 takes: its state is one 32-bit word. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Mulberry32: a small, fast, seeded PRNG with uniform output in [0, 1). The seed is an integer
 * in [0, 2^32 - 1]; anything else is refused (taking it modulo 2^32 would silently give another
 * seed's numbers).
 */
export function mulberry32(seed: number): () => number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new Error(`hypertape: seed ${seed} is outside the supported range: seeds are integers in [0, ${MAX_SEED}] (2^32 - 1).`);
  }
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
