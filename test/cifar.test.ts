// The CIFAR readers: the binary reader on small files written here in the official format (both
// layouts, as .tar.gz, plain tar and extracted folder), the image-folder reader on the real CIFAR-10
// subset beside the repository and on small archives and folders written here, and every kind of
// bad input, each failing with an
// Error that names the file (and record) and what was expected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync, zipSync } from 'fflate';
import { createTar } from 'nanotar';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { loadCifar, defaultCifarSource, CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES, type ImageDataset } from '../src/data/cifar.js';
import { assertClose, rng } from './helpers.js';
import { rejectsWith } from './rejects.js';
import { decodeImage, toRgb, toLuminance } from '../src/data/image-decode.js';
import { findSharedData, sharedDataCandidates, sharedDataSearched } from '../src/data/shared-data.js';

const s = suite('cifar');

let dir = '';
s.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypertape-cifar-'));
});
s.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `files` (relative path -> bytes) under a fresh folder `name` in the temp dir; returns its path. */
function writeTree(name: string, files: Record<string, Uint8Array>): string {
  const root = join(dir, name);
  for (const [p, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), bytes);
  }
  return root;
}

/** Writes `files` as a zip named `name` in the temp dir; returns its path. */
function writeZip(name: string, files: Record<string, Uint8Array>): string {
  const p = join(dir, name);
  writeFileSync(p, zipSync(files));
  return p;
}

/** A w x h RGB PNG with seeded pixels, and the pixels channel-major. */
function rgbPng(w: number, h: number, seed: number): { bytes: Uint8Array; planes: Uint8Array } {
  const r = rng(seed);
  const hwc = Uint8Array.from({ length: w * h * 3 }, () => Math.floor(r() * 256));
  const planes = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) planes[c * w * h + p] = hwc[3 * p + c]!;
  return { bytes: encodePng({ width: w, height: h, data: hwc, channels: 3, depth: 8 }), planes };
}

/** A w x h gray PNG (one channel) with value v everywhere. */
function grayPng(w: number, h: number, v: number): Uint8Array {
  return encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(v), channels: 1, depth: 8 });
}

/** A w x h JPEG of one flat color. */
function flatJpeg(w: number, h: number, rgb: [number, number, number]): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set([...rgb, 255], 4 * p);
  return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 95).data);
}

// ---- the binary distributions, written here in the official format --------------------------

/** One batch file of `labels.length` records: the label bytes of each record, then 3,072 seeded pixel bytes. */
function batch(labels: number[][], seed: number): { bytes: Uint8Array; pixels: Uint8Array } {
  const r = rng(seed);
  const lb = labels[0]?.length ?? 1;
  const rec = lb + 3072;
  const bytes = new Uint8Array(labels.length * rec);
  const pixels = new Uint8Array(labels.length * 3072);
  labels.forEach((l, i) => {
    bytes.set(l, i * rec);
    for (let p = 0; p < 3072; p++) {
      const v = Math.floor(r() * 256);
      bytes[i * rec + lb + p] = v;
      pixels[i * 3072 + p] = v;
    }
  });
  return { bytes, pixels };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A small CIFAR-10 distribution: files by name, and the expected train/test labels and pixels. */
function cifar10Files() {
  const trainLabels = [[[0], [9]], [[3], [3], [1]], [[5]], [[2], [8]], [[4], [7]]];
  const batches = trainLabels.map((l, i) => batch(l, 10 + i));
  const test = batch([[6], [0], [9]], 20);
  const files: Record<string, Uint8Array> = { 'test_batch.bin': test.bytes };
  batches.forEach((b, i) => (files[`data_batch_${i + 1}.bin`] = b.bytes));
  files['batches.meta.txt'] = new TextEncoder().encode(CIFAR10_CLASSES.map((c) => c.toUpperCase()).join('\n') + '\n\n');
  return {
    files,
    train: { labels: trainLabels.flat().map((l) => l[0]!), pixels: concat(batches.map((b) => b.pixels)) },
    test: { labels: [6, 0, 9], pixels: test.pixels },
  };
}

/** A small CIFAR-100 distribution (coarse, fine label bytes), without the names files. */
function cifar100Files() {
  const trainLabels = [[0, 4], [19, 99], [7, 50], [3, 0]];
  const testLabels = [[11, 12], [1, 98]];
  const train = batch(trainLabels, 30);
  const test = batch(testLabels, 31);
  return { files: { 'train.bin': train.bytes, 'test.bin': test.bytes } as Record<string, Uint8Array>, trainLabels, testLabels, train, test };
}

/** Writes `files` into a tar under `folder/`, gzipped or not; returns its path. */
function writeTar(name: string, folder: string, files: Record<string, Uint8Array>, gzip = true): string {
  const tar = createTar(Object.entries(files).map(([f, data]) => ({ name: `${folder}/${f}`, data })));
  const p = join(dir, name);
  writeFileSync(p, gzip ? gzipSync(tar) : tar);
  return p;
}

function checkSet(set: ImageDataset['train'], labels: number[], pixels: Uint8Array, what: string): void {
  assert.equal([set.n, set.channels, set.height, set.width], [labels.length, 3, 32, 32], what);
  assert.equal(Array.from(set.labels), labels, `${what} labels`);
  assert.ok(set.pixels.length === pixels.length && set.pixels.every((v, i) => v === pixels[i]), `${what} pixels`);
}

s('reads CIFAR-10 binary batches from the .tar.gz, a plain tar, the extracted folder and the folders above', async () => {
  const c = cifar10Files();
  const tgz = writeTar('cifar-10-binary.tar.gz', 'cifar-10-batches-bin', c.files);
  const tar = writeTar('plain.tar', 'cifar-10-batches-bin', c.files, false);
  const extracted = writeTree('c10/cifar-10-batches-bin', c.files);
  const holdsTgz = writeTree('c10tgz', { 'cifar-10-binary.tar.gz': gzipSync(createTar(Object.entries(c.files).map(([f, data]) => ({ name: `cifar-10-batches-bin/${f}`, data })))) });
  for (const path of [tgz, tar, extracted, join(dir, 'c10'), holdsTgz]) {
    const d = await loadCifar(path, 'cifar10');
    assert.equal(d.classNames, CIFAR10_CLASSES.map((n) => n.toUpperCase()), `${path}: names from batches.meta.txt`);
    checkSet(d.train, c.train.labels, c.train.pixels, `${path} train`);
    checkSet(d.test, c.test.labels, c.test.pixels, `${path} test`);
  }
  // without batches.meta.txt: the known names
  const { ['batches.meta.txt']: _, ...noMeta } = c.files;
  const d = await loadCifar(writeTar('nometa.tar.gz', 'x', noMeta), 'cifar10');
  assert.equal(d.classNames, [...CIFAR10_CLASSES]);
});

s('reads CIFAR-100 binary files with fine (default) or coarse labels, from .tar.gz and folder', async () => {
  const c = cifar100Files();
  const tgz = writeTar('cifar-100-binary.tar.gz', 'cifar-100-binary', c.files);
  const folder = writeTree('c100/cifar-100-binary', c.files);
  for (const path of [tgz, folder, join(dir, 'c100')]) {
    const fine = await loadCifar(path, 'cifar100');
    assert.equal(fine.classNames, [...CIFAR100_FINE_CLASSES]);
    assert.is(fine.classNames.length, 100);
    checkSet(fine.train, c.trainLabels.map((l) => l[1]!), c.train.pixels, `${path} fine train`);
    checkSet(fine.test, c.testLabels.map((l) => l[1]!), c.test.pixels, `${path} fine test`);
    const coarse = await loadCifar(path, 'cifar100', { label: 'coarse' });
    assert.equal(coarse.classNames, [...CIFAR100_COARSE_CLASSES]);
    assert.is(coarse.classNames.length, 20);
    checkSet(coarse.train, c.trainLabels.map((l) => l[0]!), c.train.pixels, `${path} coarse train`);
    checkSet(coarse.test, c.testLabels.map((l) => l[0]!), c.test.pixels, `${path} coarse test`);
  }
  // names files, when present, win
  const named = writeTree('c100named', { ...c.files, 'fine_label_names.txt': new TextEncoder().encode(Array.from({ length: 100 }, (_, i) => `f${i}`).join('\n')) });
  assert.is((await loadCifar(named, 'cifar100')).classNames[99], 'f99');
});

s('binary: a truncated batch, a label byte out of range, a missing batch, an empty batch, bad names files', async () => {
  const c = cifar10Files();
  const cut = { ...c.files, 'data_batch_2.bin': c.files['data_batch_2.bin']!.subarray(0, 3 * 3073 - 5) };
  await rejectsWith(() => loadCifar(writeTree('cut', cut), 'cifar10'),
    join(dir, 'cut', 'data_batch_2.bin'), '9214 bytes is not a whole number of 3073-byte records', '2 records and 3068 bytes left over');
  await rejectsWith(() => loadCifar(writeTar('cut.tar.gz', 'cifar-10-batches-bin', cut), 'cifar10'),
    'cut.tar.gz:cifar-10-batches-bin/data_batch_2.bin', 'not a whole number');
  const bad = batch([[1], [10]], 5).bytes;
  await rejectsWith(() => loadCifar(writeTree('badlabel', { ...c.files, 'test_batch.bin': bad }), 'cifar10'),
    'test_batch.bin', 'record 1', 'label byte 10 is out of range', 'expected 0..9');
  const { ['data_batch_3.bin']: _, ...missing } = c.files;
  await rejectsWith(() => loadCifar(writeTree('missing', missing), 'cifar10'), join(dir, 'missing'), 'missing data_batch_3.bin', 'cifar-10-binary.tar.gz');
  await rejectsWith(() => loadCifar(writeTar('missing.tar.gz', 'x', missing), 'cifar10'), 'missing.tar.gz', 'missing data_batch_3.bin');
  await rejectsWith(() => loadCifar(writeTree('empty', { ...c.files, 'data_batch_5.bin': new Uint8Array(0) }), 'cifar10'), 'data_batch_5.bin', 'empty file');
  await rejectsWith(() => loadCifar(writeTree('meta', { ...c.files, 'batches.meta.txt': new TextEncoder().encode('a\nb\n') }), 'cifar10'),
    'batches.meta.txt', '2 class names, expected 10');
  // CIFAR-100: each label byte checked against its own range, whichever labels are used
  const h = cifar100Files();
  await rejectsWith(() => loadCifar(writeTree('fine', { ...h.files, 'train.bin': batch([[1, 2], [3, 100]], 1).bytes }), 'cifar100', { label: 'coarse' }),
    'train.bin', 'record 1', 'fine label byte 100', 'expected 0..99');
  await rejectsWith(() => loadCifar(writeTree('coarse', { ...h.files, 'test.bin': batch([[20, 2]], 1).bytes }), 'cifar100'),
    'test.bin', 'record 0', 'coarse label byte 20', 'expected 0..19');
  await rejectsWith(() => loadCifar(writeTree('c100cut', { ...h.files, 'train.bin': h.files['train.bin']!.subarray(0, 3074 + 10) }), 'cifar100'),
    'train.bin', '3084 bytes is not a whole number of 3074-byte records', '1 records and 10 bytes left over');
  // CIFAR-10 files read as CIFAR-100 (and the reverse): the expected files are missing
  await rejectsWith(() => loadCifar(writeTree('c10as100', c.files), 'cifar100'), 'missing train.bin', 'cifar-100-binary.tar.gz');
  await rejectsWith(() => loadCifar(join(dir, 'c10'), 'cifar10', { label: 'coarse' }), 'CIFAR-10 has no coarse labels');
});

s('binary archives: corrupt gzip, truncated tar, not an archive', async () => {
  const c = cifar10Files();
  const tgz = gzipSync(createTar(Object.entries(c.files).map(([f, data]) => ({ name: `cifar-10-batches-bin/${f}`, data }))));
  writeFileSync(join(dir, 'cut-gzip.tar.gz'), tgz.subarray(0, tgz.length >> 1));
  await rejectsWith(() => loadCifar(join(dir, 'cut-gzip.tar.gz'), 'cifar10'), 'cut-gzip.tar.gz', 'gzip data is corrupt or truncated');
  const tar = createTar(Object.entries(c.files).map(([f, data]) => ({ name: `cifar-10-batches-bin/${f}`, data })));
  writeFileSync(join(dir, 'cut.tar'), tar.subarray(0, 4000));
  await rejectsWith(() => loadCifar(join(dir, 'cut.tar'), 'cifar10'), 'cut.tar', /truncated|missing/);
  writeFileSync(join(dir, 'page.html'), '<html>not found</html>');
  await rejectsWith(() => loadCifar(join(dir, 'page.html'), 'cifar10'), 'page.html', 'neither a .tar.gz', 'cifar-10-binary.tar.gz');
  writeFileSync(join(dir, 'notar.gz'), gzipSync(new TextEncoder().encode('hello')));
  await rejectsWith(() => loadCifar(join(dir, 'notar.gz'), 'cifar10'), 'notar.gz', 'not a tar archive');
});

// ---- the real CIFAR-10 subset --------------------------------------------------------------

let real: ImageDataset | null = null;
let realError: unknown = null;
s.before(async () => {
  // A failure here is kept for the tests that need the subset (a hook that throws would fail the
  // whole suite without a message, the synthetic tests included).
  try {
    real = await loadCifar(defaultCifarSource('cifar10'), 'cifar10');
  } catch (e) {
    realError = e;
  }
});

/** The shared subset, or the reader's error (it names where the subset was looked for). */
function shared(): ImageDataset {
  if (real === null) throw realError ?? new Error('the shared CIFAR-10 subset was not read');
  return real;
}

s('reads the shared CIFAR-10 subset: 10,000 + 10,000 images, the ten classes, sane pixels', () => {
  const d = shared();
  assert.ok(d.source.includes('cifar10-jpeg-subset.zip'), d.source);
  assert.equal(d.classNames, [...CIFAR10_CLASSES]);
  for (const set of [d.train, d.test]) {
    assert.is(set.n, 10000);
    assert.equal([set.channels, set.height, set.width], [3, 32, 32]);
    assert.is(set.pixels.length, 10000 * 3072);
    const counts = new Array(10).fill(0);
    for (const y of set.labels) counts[y]++;
    assert.equal(counts, new Array(10).fill(1000));
  }
  // Per-channel means over the test set: CIFAR-10's are about 126, 124, 115 (R, G, B); the JPEG
  // re-encoding moves them by well under a unit.
  const means = [0, 0, 0];
  const t = d.test;
  for (let i = 0; i < t.n; i++) {
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let p = 0; p < 1024; p++) sum += t.pixels[(i * 3 + c) * 1024 + p]!;
      means[c] += sum / 1024 / t.n;
    }
  }
  assert.ok(Math.abs(means[0]! - 126) < 3 && Math.abs(means[1]! - 124) < 3 && Math.abs(means[2]! - 115) < 3, `channel means ${means}`);
});

s('shared data are looked for beside this module and the current directory and every folder above', () => {
  const found = defaultCifarSource('cifar10');
  assert.ok(found.endsWith(join('shared', 'data', 'cifar10', 'cifar10-jpeg-subset.zip')), found);
  const candidates = sharedDataCandidates('x.zip');
  assert.ok(candidates.includes(join(dirname(process.cwd()), 'shared', 'data', 'x.zip')), 'the sibling of the current directory');
  assert.is(findSharedData('no-such-data-set.zip'), null);
  assert.ok(sharedDataSearched('a.zip').includes('shared/data/a.zip') && sharedDataSearched('a.zip').includes(process.cwd()));
});

s('the default CIFAR-100 source is an error saying what to download and which flag takes it', async () => {
  await rejectsWith(() => defaultCifarSource('cifar100'), 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', '--data-dir');
  await rejectsWith(() => defaultCifarSource('cifar1000' as never), "unknown dataset 'cifar1000'", 'cifar10 or cifar100');
});

// ---- image folders written here --------------------------------------------------------------

s('reads an image-folder zip (nested root) and the same folder on disk, PNG pixels exactly', async () => {
  const a0 = rgbPng(4, 3, 1);
  const a1 = rgbPng(4, 3, 2);
  const b0 = rgbPng(4, 3, 3);
  const t0 = rgbPng(4, 3, 4);
  const files: Record<string, Uint8Array> = {
    'set/train/bee/b.png': a1.bytes,
    'set/train/bee/a.png': a0.bytes,
    'set/train/ant/x.png': b0.bytes,
    'set/test/ant/y.png': t0.bytes,
    'set/test/bee/z.png': grayPng(4, 3, 77),
    'set/README.txt': new TextEncoder().encode('not an image'),
  };
  const fromZip = await loadCifar(writeZip('nested.zip', files), 'cifar10');
  const fromDir = await loadCifar(join(writeTree('nested', files), 'set'), 'cifar10');
  for (const d of [fromZip, fromDir]) {
    assert.equal(d.classNames, ['ant', 'bee']);
    assert.equal([d.train.n, d.train.channels, d.train.height, d.train.width], [3, 3, 3, 4]);
    // class-major, files in name order: ant/x, bee/a, bee/b
    assert.equal(Array.from(d.train.labels), [0, 1, 1]);
    assert.equal(Array.from(d.train.pixels.subarray(0, 36)), Array.from(b0.planes));
    assert.equal(Array.from(d.train.pixels.subarray(36, 72)), Array.from(a0.planes));
    assert.equal(Array.from(d.train.pixels.subarray(72)), Array.from(a1.planes));
    assert.equal(Array.from(d.test.labels), [0, 1]);
    assert.equal(Array.from(d.test.pixels.subarray(0, 36)), Array.from(t0.planes));
    // the gray image is promoted to RGB, R = G = B
    assert.equal(Array.from(d.test.pixels.subarray(36)), new Array(36).fill(77));
  }
  assert.ok(fromZip.source.includes('nested.zip'));
});

s('reads JPEGs, a top-level root and a val split standing in for test', async () => {
  const files = {
    'train/red/0.jpg': flatJpeg(8, 8, [250, 10, 10]),
    'train/blue/0.jpeg': flatJpeg(8, 8, [10, 10, 250]),
    'val/red/0.JPG': flatJpeg(8, 8, [250, 10, 10]),
    'val/blue/0.jpg': flatJpeg(8, 8, [10, 10, 250]),
  };
  const d = await loadCifar(writeZip('flat.zip', files), 'cifar100');
  assert.equal(d.classNames, ['blue', 'red']);
  assert.ok(d.source.includes('val'), d.source);
  assert.is(d.test.n, 2);
  const near = (v: number, want: number) => Math.abs(v - want) <= 6;
  // blue image: B plane high, R plane low
  assert.ok(near(d.train.pixels[0]!, 10) && near(d.train.pixels[128]!, 250), `blue: ${d.train.pixels[0]}, ${d.train.pixels[128]}`);
  assert.ok(near(d.train.pixels[192]!, 250) && near(d.train.pixels[192 + 128]!, 10), 'red');
});

s('decodes PNGs of every bit depth, with alpha and with a palette', () => {
  const w = 5;
  const h = 3;
  for (const depth of [1, 2, 4] as const) {
    const max = (1 << depth) - 1;
    const values = Array.from({ length: w * h }, (_, i) => (i * 7) % (max + 1));
    // pack each row, most significant bits first, padded to whole bytes
    const rowBytes = Math.ceil((w * depth) / 8);
    const packed = new Uint8Array(rowBytes * h);
    values.forEach((v, i) => {
      const y = Math.floor(i / w);
      const bit = (i % w) * depth;
      packed[y * rowBytes + (bit >> 3)]! |= v << (8 - depth - (bit & 7));
    });
    const img = decodeImage(encodePng({ width: w, height: h, data: packed, channels: 1, depth }), `depth${depth}.png`);
    assert.equal([img.width, img.height, img.channels], [w, h, 1]);
    assert.equal(Array.from(img.data), values.map((v) => Math.round((v * 255) / max)), `depth ${depth}`);
    assertClose(toLuminance(img), values.map((v) => Math.round((v * 255) / max) / 255), { atol: 1e-7 }, `luminance, depth ${depth}`);
  }
  const deep = decodeImage(encodePng({ width: 2, height: 1, data: Uint16Array.from([0x1234, 0xff00]), channels: 1, depth: 16 }), 'deep.png');
  assert.equal(Array.from(deep.data), [0x12, 0xff]);
  const ga = decodeImage(encodePng({ width: 2, height: 1, data: Uint8Array.from([10, 0, 200, 255]), channels: 2, depth: 8 }), 'ga.png');
  assert.equal(Array.from(toRgb(ga).data), [10, 10, 10, 200, 200, 200]);
  const rgba = decodeImage(encodePng({ width: 1, height: 1, data: Uint8Array.from([1, 2, 3, 0]), channels: 4, depth: 8 }), 'rgba.png');
  assert.equal(Array.from(toRgb(rgba).data), [1, 2, 3]);
  const pal = decodeImage(encodePng({ width: 3, height: 1, data: Uint8Array.from([2, 0, 1]), channels: 1, depth: 8, palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255]] }), 'pal.png');
  assert.equal(Array.from(toRgb(pal).data), [0, 0, 255, 255, 0, 0, 0, 255, 0]);
  assertClose(toLuminance(pal), [0.114, 0.299, 0.587], { atol: 1e-6 }, 'palette luminance');
});

// ---- bad input -------------------------------------------------------------------------------

s('image folders: a missing split, differing classes, a different size, an undecodable image', async () => {
  const png = rgbPng(4, 3, 9).bytes;
  await rejectsWith(() => loadCifar(writeZip('notrain.zip', { 'x/test/a/0.png': png }), 'cifar10'), 'notrain.zip', 'no train split', 'x');
  await rejectsWith(() => loadCifar(writeZip('notest.zip', { 'x/train/a/0.png': png, 'x/other/a/0.png': png }), 'cifar10'),
    'notest.zip', 'no test split', 'x/test/', 'other');
  await rejectsWith(() => loadCifar(writeZip('classes.zip', { 'train/a/0.png': png, 'train/b/0.png': png, 'test/a/0.png': png, 'test/c/0.png': png }), 'cifar10'),
    'classes.zip', 'missing in test: b', 'only in test: c');
  await rejectsWith(() => loadCifar(writeZip('size.zip', { 'train/a/0.png': png, 'test/a/0.png': rgbPng(5, 3, 1).bytes }), 'cifar10'),
    'size.zip:test/a/0.png', '5x3', 'expected 4x3', 'size.zip:train/a/0.png');
  await rejectsWith(() => loadCifar(writeZip('junk.zip', { 'train/a/0.png': png, 'test/a/bad.png': new Uint8Array([1, 2, 3, 4]) }), 'cifar10'),
    'junk.zip:test/a/bad.png', 'not a JPEG or PNG');
  const cut = flatJpeg(8, 8, [1, 2, 3]).subarray(0, 200);
  await rejectsWith(() => loadCifar(writeZip('cut.zip', { 'train/a/0.jpg': cut, 'test/a/0.png': png }), 'cifar10'),
    'cut.zip:train/a/0.jpg', 'does not decode');
  const pngCut = png.subarray(0, png.length - 20);
  await rejectsWith(() => loadCifar(writeTree('cutpng', { 'train/a/0.png': pngCut, 'test/a/0.png': png }), 'cifar10'),
    join(dir, 'cutpng', 'train/a/0.png'), 'PNG image does not decode');
  await rejectsWith(() => loadCifar(writeZip('loose.zip', { 'train/a/0.png': png, 'train/1.png': png, 'test/a/0.png': png }), 'cifar10'),
    'loose.zip:train/1.png', 'outside a class folder');
});

s('a missing file, a corrupt zip, an unknown dataset name, coarse labels of an image folder', async () => {
  await rejectsWith(() => loadCifar(join(dir, 'nowhere.zip'), 'cifar10'), 'nowhere.zip', 'no such file', 'cifar-10-binary.tar.gz', '--data-dir');
  const zip = zipSync({ 'train/a/0.png': rgbPng(4, 3, 9).bytes, 'test/a/0.png': rgbPng(4, 3, 9).bytes });
  const corrupt = zip.slice(0, zip.length - 30);
  writeFileSync(join(dir, 'corrupt.zip'), corrupt);
  await rejectsWith(() => loadCifar(join(dir, 'corrupt.zip'), 'cifar10'), 'corrupt.zip', 'corrupt or truncated');
  await rejectsWith(() => loadCifar(join(dir, 'corrupt.zip'), 'svhn' as never), "unknown dataset 'svhn'");
  writeFileSync(join(dir, 'ok.zip'), zip);
  await rejectsWith(() => loadCifar(join(dir, 'ok.zip'), 'cifar100', { label: 'coarse' }), 'coarse', 'binary format');
});

s.run();
