// The CIFAR readers: the image-folder reader on the real CIFAR-10 subset beside the repository and
// on small archives and folders written here, and every kind of bad input, each failing with an
// Error that names the file (and record) and what was expected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { loadCifar, defaultCifarSource, CIFAR10_CLASSES, type ImageDataset } from '../src/data/cifar.js';
import { rng } from './helpers.js';
import { rejectsWith } from './rejects.js';

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

// ---- the real CIFAR-10 subset --------------------------------------------------------------

let real: ImageDataset | null = null;
let realMs = 0;
s.before(async () => {
  const t = performance.now();
  real = await loadCifar(defaultCifarSource('cifar10'), 'cifar10');
  realMs = performance.now() - t;
});

s('reads the shared CIFAR-10 subset: 10,000 + 10,000 images, the ten classes, sane pixels', () => {
  const d = real!;
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
  console.log(`  [cifar] shared subset read in ${(realMs / 1000).toFixed(1)} s`);
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
