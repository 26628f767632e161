// Seeded data splits: a permutation from the CPU generator (src/data/random.ts), consecutive
// subsets of it, and per-class balanced subsets ("N training and N validation images per
// class"). The same seed gives the same split on every run, which is what lets an interrupted
// run resume exactly.

/** A uniformly random permutation of 0..n-1 (Fisher-Yates, drawing from `random`). */
export function permutation(n: number, random: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/**
 * Consecutive pieces of `order` of the given sizes (views, not copies): with a permutation,
 * disjoint random subsets. Throws when the sizes add up to more than `order` holds.
 */
export function takeSplits(order: Uint32Array, sizes: readonly number[], what = 'split'): Uint32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  for (const n of sizes) if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: subset sizes must be nonnegative integers, got ${sizes.join(', ')}`);
  if (total > order.length) throw new Error(`${what}: subsets of ${sizes.join(' + ')} = ${total} examples, but only ${order.length} are available`);
  const out: Uint32Array[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(order.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Per-class balanced subsets: for every class c (in order 0..nClasses-1) a seeded random choice
 * of perClass[0] + perClass[1] + ... distinct examples of that class, the first perClass[0] going
 * to subset 0, the next perClass[1] to subset 1, and so on. Each subset is then shuffled (so
 * classes are interleaved). Throws, naming the class, when one has too few examples.
 */
export function perClassSplits(
  labels: ArrayLike<number>,
  nClasses: number,
  perClass: readonly number[],
  random: () => number,
  what = 'split',
): Uint32Array[] {
  const need = perClass.reduce((a, b) => a + b, 0);
  for (const n of perClass) if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: per-class counts must be nonnegative integers, got ${perClass.join(', ')}`);
  const members: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= nClasses) throw new Error(`${what}: example ${i} has label ${c}, expected 0..${nClasses - 1}`);
    members[c]!.push(i);
  }
  const subsets = perClass.map((n) => new Uint32Array(n * nClasses));
  for (let c = 0; c < nClasses; c++) {
    const m = members[c]!;
    if (m.length < need) throw new Error(`${what}: class ${c} has ${m.length} examples; ${perClass.join(' + ')} = ${need} per class are needed`);
    const order = permutation(m.length, random);
    let at = 0;
    perClass.forEach((n, s) => {
      for (let k = 0; k < n; k++) subsets[s]![c * n + k] = m[order[at + k]!]!;
      at += n;
    });
  }
  return subsets.map((sub) => {
    const p = permutation(sub.length, random);
    return Uint32Array.from(p, (i) => sub[i]!);
  });
}
