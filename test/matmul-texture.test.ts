// The texture copies of matrices that the matmuls of CPU adapters read A from
// (src/ops/kernels/matrix-texture.ts, src/ops/kernels/matmul-texture.ts): made once a matrix is
// read often, never used after its buffer is written (in place, by an upload, or after it went
// back to the pool and was handed out again), counted in memory(), and the two kernel forms
// (rows of P, columns of P) equal the plain kernel and float64 with an epilogue, a tail of K that
// is not a multiple of 4 and infinities in B.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, dispose, memory, type Tensor } from '../src/node.js';
import { elementwise } from '../src/ops/kernels/elementwise.js';
import { setup, randArray, assertClose, values } from './helpers.js';

const s = suite('matmul-texture');
s.before(setup);
s.after.each(() => {
  ht.forceMatmulVariant(null);
  ht.setMatmulTextures(true);
});

const f32 = (xs: ArrayLike<number>) => Array.from(Float32Array.from(xs));

/** Kernels dispatched while `fn` runs: 'matmulTexture', 'copy' (making a texture) or 'other'. */
function kernelsOf(fn: () => void): string[] {
  const e = ht.engine();
  const orig = e.dispatch.bind(e);
  const seen: string[] = [];
  e.dispatch = ((k, ...rest) => {
    seen.push(/with A read from a texture copy/.test(k.code) ? 'matmulTexture' : /Copies the row-major matrix/.test(k.code) ? 'copy' : 'other');
    return orig(k, ...rest);
  }) as typeof e.dispatch;
  try {
    fn();
  } finally {
    e.dispatch = orig;
  }
  return seen;
}

/** float64 P [M, K] (row-major) times B [K, N]. */
function mm(P: number[], M: number, K: number, B: number[], N: number): number[] {
  const C = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) C[i * N + j] += P[i * K + k]! * B[k * N + j]!;
  return C;
}

const software = () => ht.engine().adapter.software && ht.engine().device.features.has('subgroups' as GPUFeatureName);

s('both forms equal float64 and the plain kernel: K not a multiple of 4, an epilogue, C^T written for few rows', async () => {
  if (!software()) return; // the texture kernels serve CPU adapters with subgroups (lavapipe)
  const [M, K, N] = [45, 37, 10];
  const P = f32(randArray(M * K, 1));
  const B = f32(randArray(K * N, 2));
  const want = mm(P, M, K, B, N);
  const p = tensor(P, [M, K]);
  const pt = tensor(Array.from({ length: M * K }, (_, q) => P[(q % M) * K + Math.floor(q / M)]!), [K, M]); // P^T stored
  const b = tensor(B, [K, N]);
  ht.forceMatmulVariant('texture');
  for (const [name, make] of [['rows form', () => ht.matmul(p, b)], ['columns form', () => ht.matmul(pt, b, { transA: true })]] as const) {
    let c!: Tensor;
    const ks = kernelsOf(() => (c = ht.tidy(() => ht.add(make(), 1))));
    assert.ok(ks.includes('matmulTexture'), `${name}: the texture kernel ran (${ks.join(', ')})`);
    assertClose(await values(c), want.map((v) => v + 1), { rtol: 1e-5, atol: 1e-5 }, name);
    c.dispose();
  }
  // Few rows: C = B^T P^T ([N, M]) is computed as C^T = P B, written transposed (the columns
  // form over the stored P^T).
  const ct = ht.matmul(b, pt, { transA: true }); // [N, M] = B^T P^T
  assertClose(await values(ct), Array.from({ length: N * M }, (_, q) => want[(q % M) * N + Math.floor(q / M)]!), { rtol: 1e-5, atol: 1e-5 }, 'few rows');
  // Infinity in B where the texel's padding (past K) would meet it: 0 * inf must not appear.
  const Binf = B.slice();
  Binf[(K - 1) * N + 3] = Infinity;
  const bi = tensor(Binf, [K, N]);
  const ci = await values(ht.matmul(p, bi));
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      if (j === 3) assert.ok(!Number.isNaN(ci[i * N + j]!) && Math.abs(ci[i * N + j]!) === Infinity || P[i * K + K - 1] === 0, `row ${i}: inf`);
      else assertClose([ci[i * N + j]!], [want[i * N + j]!], { rtol: 1e-5, atol: 1e-5 }, `row ${i}, column ${j}`);
    }
  }
  dispose([p, pt, b, ct, bi]);
});

s('a copy is made once a matrix is read often, counted in memory(), and never read after its buffer is written', async () => {
  if (!software()) return;
  const [M, K, N] = [64, 29, 4];
  const X = f32(randArray(M * K, 3));
  const B = f32(randArray(K * N, 4));
  const x = tensor(X, [M, K]);
  const b = tensor(B, [K, N]);
  const before = memory().liveBytes;
  const readOnce = (m: Tensor) => ht.matmul(m, b).realise().dispose();
  const reads: string[][] = [];
  for (let r = 0; r < 9; r++) reads.push(kernelsOf(() => readOnce(x)));
  const used = reads.map((ks) => ks.includes('matmulTexture'));
  assert.ok(!used[0] && !used[1], 'the first reads use the plain kernel');
  assert.ok(used[8], 'a matrix read again and again is read from its texture copy');
  assert.ok(memory().liveBytes - before >= 16 * Math.ceil(K / 4) * M, 'the texture counts in memory()');
  assertClose(await values(ht.matmul(x, b)), mm(X, M, K, B, N), { rtol: 1e-5, atol: 1e-5 }, 'from the texture');
  // An in-place write into x: the copy is dropped; the product sees the new values.
  elementwise({ shape: [M, K], expr: 'f32(i % 7u) * 0.25', inputs: [], out: { tensor: x } });
  assertClose(await values(ht.matmul(x, b)), mm(X.map((_, i) => (i % 7) * 0.25), M, K, B, N), { rtol: 1e-5, atol: 1e-5 }, 'after an in-place write');
  // An upload into x.
  for (let r = 0; r < 9; r++) readOnce(x);
  const Y = f32(randArray(M * K, 5));
  ht.engine().upload(x.buffer, new Float32Array(Y));
  assertClose(await values(ht.matmul(x, b)), mm(Y, M, K, B, N), { rtol: 1e-5, atol: 1e-5 }, 'after an upload');
  // x disposed, its buffer handed out again with other values: no stale copy is read.
  for (let r = 0; r < 9; r++) readOnce(x);
  x.dispose();
  await ht.sync();
  const Z = f32(randArray(M * K, 6));
  const z = tensor(Z, [M, K]);
  assertClose(await values(ht.matmul(z, b)), mm(Z, M, K, B, N), { rtol: 1e-5, atol: 1e-5 }, 'a new matrix in a reused buffer');
  // setMatmulTextures(false) frees the copies.
  for (let r = 0; r < 9; r++) readOnce(z);
  const held = memory().liveBytes;
  ht.setMatmulTextures(false);
  assert.ok(memory().liveBytes <= held - 16 * Math.ceil(K / 4) * M, 'setMatmulTextures(false) freed the copy');
  dispose([b, z]);
});

s.run();
