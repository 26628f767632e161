// k-way few-shot tasks from an Omniglot set, as MAML samples them: k distinct characters, each at a
// rotation drawn uniformly from those the set holds (so a task never holds one character at two
// rotations), then for each class `shots` support images and `queries` query images, all distinct.
// Labels are the classes' positions 0..k-1 in the (random) order they were drawn. Pure; the caller
// passes a seeded generator (random.ts's mulberry32) for reproducible tasks.
import type { OmniglotClass, OmniglotSet } from './omniglot-format.js';

/** One k-way task: support set S and query set Q. */
export interface Task {
  /** Number of classes (ways). */
  k: number;
  /** [k*shots, 1, size, size] row-major */
  supportX: Float32Array;
  /** Label 0..k-1 of each support image; class-major: image j*shots + s has label j. */
  supportY: Uint8Array;
  /** [k*queries, 1, size, size] row-major, class-major like the support set. */
  queryX: Float32Array;
  /** Label 0..k-1 of each query image. */
  queryY: Uint8Array;
  /** Side of the images. */
  size: number;
  /** For each label, the index of its class in `set.classes`. */
  classes: number[];
  /** For each label, the indices (into its class's images) of its support then query images. */
  picks: number[][];
}

/** Options of `sampleTask`. */
export interface TaskOptions {
  /** Ways: classes per task, at least 2. */
  k: number;
  /** Support images per class (1 for one-shot). */
  shots: number;
  /** Query images per class. */
  queries: number;
  /** Uniform [0, 1) generator, e.g. mulberry32(seed). */
  random: () => number;
}

/** The set's classes grouped by character (alphabet/character), each group's rotations; cached per set. */
const characterCache = new WeakMap<OmniglotSet, number[][]>();

function characters(set: OmniglotSet): number[][] {
  let groups = characterCache.get(set);
  if (!groups) {
    const byKey = new Map<string, number[]>();
    set.classes.forEach((c, i) => {
      const key = `${c.alphabet}/${c.character}`;
      const list = byKey.get(key) ?? [];
      list.push(i);
      byKey.set(key, list);
    });
    groups = [...byKey.values()];
    characterCache.set(set, groups);
  }
  return groups;
}

/** A uniform integer in [0, n). */
function below(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** `count` distinct values of 0..n-1 in random order (partial Fisher-Yates). */
function choose(random: () => number, n: number, count: number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + below(random, n - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function className(c: OmniglotClass): string {
  return `${c.alphabet}/${c.character}${c.rotation ? ` (rotated ${c.rotation}°)` : ''}`;
}

/**
 * Samples one k-way task (see the file comment). Throws if k < 2, shots < 1 or queries < 1 (or
 * not integers), if the set has fewer than k characters, or if any class has fewer images than
 * shots + queries.
 */
export function sampleTask(set: OmniglotSet, options: TaskOptions): Task {
  const { k, shots, queries, random } = options;
  const isCount = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!isCount(k, 2) || k > 255) throw new Error(`sampleTask: k = ${k} ways, expected an integer from 2 to 255`);
  if (!isCount(shots, 1)) throw new Error(`sampleTask: shots = ${shots}, expected an integer >= 1 (support images per class)`);
  if (!isCount(queries, 1)) throw new Error(`sampleTask: queries = ${queries}, expected an integer >= 1 (query images per class)`);
  const groups = characters(set);
  if (groups.length < k) {
    throw new Error(`sampleTask: ${set.source} has ${groups.length} characters (${set.classes.length} classes), fewer than k = ${k} ways`);
  }
  const need = shots + queries;
  const short = set.classes.find((c) => c.m < need);
  if (short) {
    throw new Error(`sampleTask: class ${className(short)} of ${set.source} has ${short.m} images, fewer than shots + queries = ${shots} + ${queries} = ${need}`);
  }
  const pixels = set.size * set.size;
  const supportX = new Float32Array(k * shots * pixels);
  const queryX = new Float32Array(k * queries * pixels);
  const supportY = new Uint8Array(k * shots);
  const queryY = new Uint8Array(k * queries);
  const classes: number[] = [];
  const picks: number[][] = [];
  choose(random, groups.length, k).forEach((g, label) => {
    const rotations = groups[g]!;
    const ci = rotations[below(random, rotations.length)]!;
    const c = set.classes[ci]!;
    const chosen = choose(random, c.m, need);
    chosen.forEach((img, t) => {
      const src = c.images.subarray(img * pixels, (img + 1) * pixels);
      if (t < shots) {
        supportX.set(src, (label * shots + t) * pixels);
        supportY[label * shots + t] = label;
      } else {
        queryX.set(src, (label * queries + t - shots) * pixels);
        queryY[label * queries + t - shots] = label;
      }
    });
    classes.push(ci);
    picks.push(chosen);
  });
  return { k, supportX, supportY, queryX, queryY, size: set.size, classes, picks };
}
