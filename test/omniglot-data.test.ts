// The Omniglot reader and task sampler: the real zips beside the repository (class counts, the
// 1-bit decoding against a reference written here), the area-averaging resize against a float64
// reference that upsamples to a common grid, rotations on an asymmetric image, sampleTask's
// shapes, labels, disjoint support and query images and determinism, and every kind of bad input.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { loadOmniglot, loadOmniglotSplits, defaultOmniglotSources, omniglotSourcesIn, withoutAlphabetsOf, type OmniglotSet } from '../src/data/omniglot.js';
import { resizeArea } from '../src/data/resize.js';
import { sampleTask } from '../src/data/tasks.js';
import { mulberry32 } from '../src/data/random.js';
import { assertClose, rng } from './helpers.js';
import { rejectsWith } from './rejects.js';

const s = suite('omniglot-data');

let dir = '';
s.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypertape-omniglot-'));
});
s.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Float64 reference of area averaging: upsample each source pixel to an f x f block of a grid of
 * side L = lcm(from, to), then average the (L/to) x (L/to) block of each target pixel.
 */
function referenceResize(src: ArrayLike<number>, from: number, to: number): Float64Array {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const L = (from * to) / gcd(from, to);
  const up = L / from;
  const block = L / to;
  const out = new Float64Array(to * to);
  for (let i = 0; i < to; i++) {
    for (let j = 0; j < to; j++) {
      let sum = 0;
      for (let y = i * block; y < (i + 1) * block; y++) {
        for (let x = j * block; x < (j + 1) * block; x++) sum += src[Math.floor(y / up) * from + Math.floor(x / up)]!;
      }
      out[i * to + j] = sum / (block * block);
    }
  }
  return out;
}

/** An 8-bit gray PNG of `ink` values (1 = black ink on a white background). */
function inkPng(n: number, ink: ArrayLike<number>): Uint8Array {
  const data = Uint8Array.from({ length: n * n }, (_, i) => Math.round(255 * (1 - ink[i]!)));
  return encodePng({ width: n, height: n, data, channels: 1, depth: 8 });
}

/** A zip of `chars` characters in alphabet 'A' (character01, ...), each with `m` images of side n. */
function syntheticZip(name: string, chars: number, m: number, n = 10, seed = 1): string {
  const r = rng(seed);
  const files: Record<string, Uint8Array> = {};
  for (let c = 0; c < chars; c++) {
    for (let i = 0; i < m; i++) {
      const ink = Array.from({ length: n * n }, () => (r() < 0.3 ? 1 : 0));
      files[`split/A/character${String(c + 1).padStart(2, '0')}/${c}_${String(i + 1).padStart(2, '0')}.png`] = inkPng(n, ink);
    }
  }
  const p = join(dir, name);
  writeFileSync(p, zipSync(files));
  return p;
}

// ---- the real zips ---------------------------------------------------------------------------

let small1: OmniglotSet | null = null;
let small2: OmniglotSet | null = null;
let sharedError: unknown = null;
s.before(async () => {
  // A failure here is kept for the tests that need the zips (a hook that throws would fail the
  // whole suite without a message, the synthetic tests included).
  try {
    const src = defaultOmniglotSources();
    for (const [path, set] of [[src.train, (v: OmniglotSet) => (small1 = v)], [src.test, (v: OmniglotSet) => (small2 = v)]] as const) {
      set(await loadOmniglot(path));
    }
  } catch (e) {
    sharedError = e;
  }
});

/** A shared split, or the reader's error (it names where the zips were looked for). */
function shared(set: OmniglotSet | null): OmniglotSet {
  if (set === null) throw sharedError ?? new Error('the shared Omniglot zips were not read');
  return set;
}

s('loadOmniglotSplits reads both zips and keeps meta-testing to unseen alphabets', async () => {
  const p1 = join(dir, 'one.zip');
  const p2 = join(dir, 'two.zip');
  const png = inkPng(10, new Array(100).fill(0));
  writeFileSync(p1, zipSync({ 's/Greek/character01/1.png': png, 's/Latin/character01/1.png': png }));
  writeFileSync(p2, zipSync({ 't/Greek/character01/1.png': png, 't/Tagalog/character01/1.png': png, 't/Tagalog/character02/1.png': png }));
  const { train, test } = await loadOmniglotSplits({ train: p1, test: p2 }, { rotations: false });
  assert.equal(train.classes.map((c) => c.alphabet), ['Greek', 'Latin']);
  assert.equal(test.classes.map((c) => `${c.alphabet}/${c.character}`), ['Tagalog/character01', 'Tagalog/character02']);
});

s('reads the shared small splits: 136 and 156 characters of 20 images, x4 with rotations', () => {
  for (const [set, chars, file] of [[shared(small1), 136, 'images_background_small1.zip'], [shared(small2), 156, 'images_background_small2.zip']] as const) {
    assert.ok(set.source.includes(file), set.source);
    assert.is(set.size, 28);
    assert.is(set.classes.length, 4 * chars);
    assert.is(new Set(set.classes.map((c) => `${c.alphabet}/${c.character}`)).size, chars);
    assert.is(new Set(set.classes.map((c) => c.alphabet)).size, 5);
    for (const rot of [0, 90, 180, 270]) assert.is(set.classes.filter((c) => c.rotation === rot).length, chars);
    assert.ok(set.classes.every((c) => c.m === 20 && c.images.length === 20 * 784));
    // ink in [0, 1], mostly background: Omniglot's strokes cover under a fifth of the image
    let ink = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const c of set.classes) {
      for (const v of c.images) {
        ink += v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
    const mean = ink / (set.classes.length * 20 * 784);
    assert.ok(min === 0 && max === 1 && mean > 0.02 && mean < 0.2, `ink min ${min} max ${max} mean ${mean}`);
  }
  // The two splits share two alphabets (Greek and Latin, the same 50 characters): meta-testing
  // drops them from small2, leaving 106 characters of unseen alphabets.
  const a1 = new Set(shared(small1).classes.map((c) => c.alphabet));
  assert.equal([...new Set(shared(small2).classes.map((c) => c.alphabet))].filter((a) => a1.has(a)).sort(), ['Greek', 'Latin']);
  const test = withoutAlphabetsOf(shared(small2), shared(small1));
  assert.is(test.classes.length, 4 * 106);
  assert.ok(test.classes.every((c) => !a1.has(c.alphabet)));
  assert.ok(test.source.includes('without the alphabets also in meta-training: Greek, Latin'), test.source);
  assert.is(withoutAlphabetsOf(shared(small1), test), small1, 'disjoint sets are returned as they are');
});

s('decodes the real 1-bit PNGs as 1 = ink and resizes them by area averaging', () => {
  // The first image of the first character, decoded here by hand: 1-bit rows padded to bytes, bit 1 = white.
  const zip = unzipSync(new Uint8Array(readFileSync(defaultOmniglotSources().train)));
  const first = Object.keys(zip).filter((p) => p.endsWith('.png')).sort()[0]!;
  const png = decodePng(zip[first]!);
  assert.equal([png.width, png.height, png.depth, png.channels], [105, 105, 1, 1]);
  const rowBytes = Math.ceil(105 / 8);
  const ink = new Float64Array(105 * 105);
  for (let y = 0; y < 105; y++) for (let x = 0; x < 105; x++) ink[y * 105 + x] = 1 - ((png.data[y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1);
  const c = shared(small1).classes[0]!;
  assert.is(c.rotation, 0);
  assert.ok(first.includes(`${c.alphabet}/${c.character}/`), `${first} vs ${c.alphabet}/${c.character}`);
  assertClose(c.images.subarray(0, 784), referenceResize(ink, 105, 28), { rtol: 0, atol: 1e-6 }, 'first image');
});

// ---- resize and rotations on synthetic images -------------------------------------------------

s('resizeArea matches a float64 box-filter reference (105 -> 28, 28 -> 105, 10 -> 4, identity)', () => {
  for (const [from, to, seed] of [[105, 28, 1], [28, 105, 2], [10, 4, 3], [12, 12, 4]] as const) {
    const src = Array.from({ length: from * from }, (_, i) => (rng(seed + i)() < 0.5 ? 0 : rng(seed * 7 + i)()));
    assertClose(resizeArea(src, from, from, to, to), referenceResize(src, from, to), { rtol: 1e-6, atol: 1e-6 }, `${from} -> ${to}`);
  }
});

s('rotations turn each image counterclockwise (numpy rot90), each rotation its own class', async () => {
  const n = 28;
  const ink = new Array(n * n).fill(0);
  ink[2 * n + 20] = 1; // row 2, column 20: no symmetry maps it to itself
  ink[3 * n + 20] = 1;
  const p = join(dir, 'rot.zip');
  writeFileSync(p, zipSync({ 'x/Greek/character01/a.png': inkPng(n, ink) }));
  const set = await loadOmniglot(p, { size: n });
  assert.equal(set.classes.map((c) => c.rotation), [0, 90, 180, 270]);
  const at = (rot: number) => {
    const img = set.classes.find((c) => c.rotation === rot)!.images;
    return Array.from(img.keys()).filter((i) => img[i]! > 0.5).map((i) => [Math.floor(i / n), i % n]);
  };
  // (r, c) -> 90: (n-1-c, r); 180: (n-1-r, n-1-c); 270: (c, n-1-r)
  assert.equal(at(0), [[2, 20], [3, 20]]);
  assert.equal(at(90), [[7, 2], [7, 3]]);
  assert.equal(at(180), [[24, 7], [25, 7]]);
  assert.equal(at(270), [[20, 24], [20, 25]]);
  const plain = await loadOmniglot(p, { size: n, rotations: false });
  assert.equal(plain.classes.map((c) => c.rotation), [0]);
  // the real set: 90 degrees is the upright image turned
  const c0 = shared(small1).classes[0]!;
  const c90 = shared(small1).classes[1]!;
  assert.is(c90.rotation, 90);
  for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) assert.is(c90.images[i * 28 + j], c0.images[j * 28 + 27 - i]);
});

// ---- tasks -----------------------------------------------------------------------------------

s('sampleTask: shapes, class-major labels, distinct characters, disjoint support and query images', () => {
  const set = shared(small1);
  const pixels = 784;
  for (const [k, shots, queries] of [[5, 1, 15], [20, 1, 5], [3, 5, 2]] as const) {
    const t = sampleTask(set, { k, shots, queries, random: mulberry32(k) });
    assert.is(t.k, k);
    assert.is(t.supportX.length, k * shots * pixels);
    assert.is(t.queryX.length, k * queries * pixels);
    assert.equal(Array.from(t.supportY), Array.from({ length: k * shots }, (_, i) => Math.floor(i / shots)));
    assert.equal(Array.from(t.queryY), Array.from({ length: k * queries }, (_, i) => Math.floor(i / queries)));
    const chars = t.classes.map((ci) => `${set.classes[ci]!.alphabet}/${set.classes[ci]!.character}`);
    assert.is(new Set(chars).size, k, 'k distinct characters');
    t.classes.forEach((ci, label) => {
      const picks = t.picks[label]!;
      assert.is(new Set(picks).size, shots + queries, 'support and query images distinct');
      const img = (i: number) => Array.from(set.classes[ci]!.images.subarray(picks[i]! * pixels, (picks[i]! + 1) * pixels));
      for (let q = 0; q < shots; q++) assert.equal(Array.from(t.supportX.subarray((label * shots + q) * pixels, (label * shots + q + 1) * pixels)), img(q));
      for (let q = 0; q < queries; q++) assert.equal(Array.from(t.queryX.subarray((label * queries + q) * pixels, (label * queries + q + 1) * pixels)), img(shots + q));
    });
  }
  // rotations are drawn per class: over many tasks every rotation shows up
  const rots = new Set<number>();
  const r = mulberry32(3);
  for (let i = 0; i < 20; i++) for (const ci of sampleTask(set, { k: 5, shots: 1, queries: 1, random: r }).classes) rots.add(set.classes[ci]!.rotation);
  assert.equal([...rots].sort((a, b) => a - b), [0, 90, 180, 270]);
});

s('sampleTask is deterministic for a seed and differs across seeds', () => {
  const a = sampleTask(shared(small2), { k: 5, shots: 1, queries: 5, random: mulberry32(42) });
  const b = sampleTask(shared(small2), { k: 5, shots: 1, queries: 5, random: mulberry32(42) });
  const c = sampleTask(shared(small2), { k: 5, shots: 1, queries: 5, random: mulberry32(43) });
  assert.equal(a.classes, b.classes);
  assert.equal(a.picks, b.picks);
  assert.ok(a.supportX.every((v, i) => v === b.supportX[i]) && a.queryX.every((v, i) => v === b.queryX[i]));
  assert.not.equal(a.classes, c.classes);
});

// ---- bad input -------------------------------------------------------------------------------

s('sampleTask: k < 2, too few characters, too few images per class', async () => {
  const p = syntheticZip('three.zip', 3, 4);
  const set = await loadOmniglot(p, { rotations: false });
  assert.is(set.classes.length, 3);
  const random = mulberry32(1);
  await rejectsWith(() => sampleTask(set, { k: 1, shots: 1, queries: 1, random }), 'k = 1', 'from 2');
  await rejectsWith(() => sampleTask(set, { k: 4, shots: 1, queries: 1, random }), 'three.zip', '3 characters', 'fewer than k = 4');
  await rejectsWith(() => sampleTask(set, { k: 2, shots: 1, queries: 4, random }), 'class A/character01', 'has 4 images', 'shots + queries = 1 + 4 = 5');
  await rejectsWith(() => sampleTask(set, { k: 2, shots: 0, queries: 1, random }), 'shots = 0');
  await rejectsWith(() => sampleTask(set, { k: 2, shots: 1, queries: 0, random }), 'queries = 0');
  // with rotations the 3 characters make 12 classes, but a task still needs k distinct characters
  const rotated = await loadOmniglot(p);
  assert.is(rotated.classes.length, 12);
  await rejectsWith(() => sampleTask(rotated, { k: 4, shots: 1, queries: 1, random }), '3 characters (12 classes)', 'fewer than k = 4');
  const t = sampleTask(rotated, { k: 3, shots: 1, queries: 3, random });
  assert.is(t.supportX.length, 3 * 28 * 28);
});

s('a missing file or folder, a corrupt zip, a PNG that does not decode, a zip without PNGs', async () => {
  await rejectsWith(() => loadOmniglot(join(dir, 'images_background.zip')), 'images_background.zip: no such file',
    'https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip', 'images_evaluation.zip', '--data-dir');
  await rejectsWith(() => omniglotSourcesIn(join(dir, 'nowhere')), 'nowhere', 'no such folder', '--data-dir');
  writeFileSync(join(dir, 'images_background.zip'), zipSync({}));
  await rejectsWith(() => omniglotSourcesIn(dir), join(dir, 'images_evaluation.zip'), 'no such file', 'raw/master/python/images_evaluation.zip');
  writeFileSync(join(dir, 'images_evaluation.zip'), zipSync({}));
  assert.equal(omniglotSourcesIn(dir), { train: join(dir, 'images_background.zip'), test: join(dir, 'images_evaluation.zip') });
  await rejectsWith(() => loadOmniglot(join(dir, 'images_background.zip')), 'images_background.zip', 'no PNG images');

  const good = zipSync({ 's/A/character01/1.png': inkPng(10, new Array(100).fill(0)) });
  writeFileSync(join(dir, 'cut.zip'), good.subarray(0, good.length - 30));
  await rejectsWith(() => loadOmniglot(join(dir, 'cut.zip')), 'cut.zip', 'corrupt or truncated');
  const flipped = good.slice();
  flipped.fill(0, 40, 80); // inside the compressed PNG
  writeFileSync(join(dir, 'flipped.zip'), flipped);
  await rejectsWith(() => loadOmniglot(join(dir, 'flipped.zip')), 'flipped.zip', /corrupt|does not decode/);
  writeFileSync(join(dir, 'page.zip'), '<html>404</html>');
  await rejectsWith(() => loadOmniglot(join(dir, 'page.zip')), 'page.zip', 'not a zip archive');

  const png = inkPng(10, new Array(100).fill(1));
  writeFileSync(join(dir, 'badpng.zip'), zipSync({ 's/A/character01/1.png': png, 's/A/character01/2.png': png.subarray(0, 40) }));
  await rejectsWith(() => loadOmniglot(join(dir, 'badpng.zip')), 'badpng.zip:s/A/character01/2.png', 'PNG image does not decode');
  writeFileSync(join(dir, 'loose.zip'), zipSync({ 'A/1.png': png }));
  await rejectsWith(() => loadOmniglot(join(dir, 'loose.zip')), 'loose.zip:A/1.png', 'outside an <Alphabet>/<character>/ folder');
});

s.run();
