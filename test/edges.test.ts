// Edge values where the ops must behave like PyTorch and JAX (issue 15): each test here failed
// before the fix it names. pow's derivatives at 0, logsumexp / softmax / logSoftmax of -inf
// slices, NaN through relu, maximum/minimum, clamp and the max/min/argmax reductions (every kernel
// path), and the split of the gradient between tied operands of maximum and minimum.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, type Tensor } from '../src/node.js';
import { setup } from './helpers.js';

const s = suite('edges');
s.before(setup);

async function vals(t: Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

/** Elementwise first and second derivatives of f at xs: grad, grad of grad, and jvp of grad. */
async function derivatives(f: (x: Tensor) => Tensor, xs: number[]): Promise<{ d1: number[]; d2: number[]; fwd: number[] }> {
  const x = tensor(xs);
  const ones = tensor(xs.map(() => 1));
  const g = (y: Tensor): Tensor => ht.grad((z: Tensor) => ht.sum(f(z)))(y);
  const d1 = await vals(g(x));
  const d2 = await vals(ht.grad((y: Tensor) => ht.sum(g(y)))(x));
  const { out, tangent } = ht.jvp(g, [x], [ones]);
  out.dispose();
  const fwd = await vals(tangent);
  ht.dispose([x, ones]);
  return { d1, d2, fwd };
}

// PyTorch: d/dx x^n = n x^(n-1), masked to 0 where n = 0; every order finite at x = 0.
s('pow(x, 0) and pow(x, 1) have finite derivatives of first and second order at x = 0', async () => {
  const xs = [0, 0.5, -2];
  const cases: [number, number[], number[]][] = [
    [0, [0, 0, 0], [0, 0, 0]],
    [1, [1, 1, 1], [0, 0, 0]],
    [2, [0, 1, -4], [2, 2, 2]],
    [3, [0, 0.75, 12], [0, 3, -12]],
  ];
  for (const [n, d1, d2] of cases) {
    const got = await derivatives((x) => ht.pow(x, n), xs);
    assert.equal(got.d1, d1, `d/dx x^${n} at ${xs}`);
    assert.equal(got.d2, d2, `d2/dx2 x^${n} at ${xs} (reverse over reverse)`);
    assert.equal(got.fwd, d2, `d2/dx2 x^${n} at ${xs} (forward over reverse)`);
  }
  // A tensor exponent that is 0 in places, and the exponent's own gradient at base 0.
  const a = tensor([0, 0, 2]);
  const b = tensor([0, 1, 0]);
  const [ga, gb] = ht.grad((p: Tensor, q: Tensor) => ht.sum(ht.pow(p, q)), { argnums: [0, 1] })(a, b) as Tensor[];
  assert.equal(await vals(ga!), [0, 1, 0]);
  assert.equal(await vals(gb!), [0, 0, Math.fround(Math.log(2))]);
  ht.dispose([a, b]);
});

s('logsumexp of an all -inf slice is -inf; softmax and logSoftmax are NaN there and exact around it', async () => {
  const inf = Infinity;
  const x = tensor([[-inf, -inf, -inf], [-inf, 0, 0], [inf, 0, 1], [1, 2, 3]]);
  const lse = await vals(ht.logsumexp(x, 1));
  assert.equal(lse.slice(0, 3), [-inf, Math.fround(Math.log(2)), inf]);
  assert.ok(Math.abs(lse[3]! - (3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)))) < 1e-6, `logsumexp([1, 2, 3]) = ${lse[3]}`);
  assert.equal(await vals(ht.logsumexp(tensor([-inf, -inf]))), [-inf], 'over all axes');
  assert.equal(await vals(ht.logsumexp(tensor(new Float32Array(4).fill(-inf), [2, 2]), [0, 1], true)), [-inf], 'keepdims');
  // Every reduction path: long rows (split into chunks, then the partials), columns as vec4 units.
  const rows = new Float32Array(3 * 2000).fill(-inf);
  rows[1 * 2000 + 1234] = 0.5;
  rows.fill(0, 2 * 2000);
  const lseRows = await vals(ht.logsumexp(tensor(rows, [3, 2000]), 1));
  assert.equal(lseRows.slice(0, 2), [-inf, 0.5], 'long rows');
  assert.ok(Math.abs(lseRows[2]! - Math.log(2000)) < 1e-5, `logsumexp of 2000 zeros: ${lseRows[2]}`);
  const cols = tensor([-inf, 1, -inf, 2, -inf, 1, -inf, 2], [2, 4]);
  const lseCols = await vals(ht.logsumexp(cols, 0));
  assert.equal([lseCols[0], lseCols[2]], [-inf, -inf], `columns: ${lseCols}`);
  assert.ok(Math.abs(lseCols[1]! - (1 + Math.log(2))) < 1e-6, `columns: ${lseCols}`);
  cols.dispose();
  // A row with no finite entry has no distribution: NaN (PyTorch and JAX agree); -inf entries of
  // other rows get probability 0 and log-probability -inf.
  const sm = await vals(ht.softmax(x, 1));
  const lsm = await vals(ht.logSoftmax(x, 1));
  assert.ok(sm.slice(0, 3).every(Number.isNaN) && lsm.slice(0, 3).every(Number.isNaN), `all -inf row: softmax ${sm.slice(0, 3)}, logSoftmax ${lsm.slice(0, 3)}`);
  assert.equal(sm.slice(3, 6), [0, 0.5, 0.5]);
  assert.equal(lsm.slice(3, 6), [-inf, -Math.fround(Math.log(2)), -Math.fround(Math.log(2))]);
  x.dispose();
});

s('NaN propagates through relu, maximum, minimum, clamp, max, min and argmax/argmin (every kernel path)', async () => {
  const nan = NaN;
  const isNan = (v: number[], what: string) => assert.ok(v.every(Number.isNaN), `${what}: ${v}`);
  isNan(await vals(ht.relu(tensor([nan]))), 'relu(NaN)');
  isNan(await vals(ht.leakyRelu(tensor([nan]))), 'leakyRelu(NaN)');
  isNan(await vals(ht.maximum(tensor([nan, 0, nan]), tensor([0, nan, nan]))), 'maximum with a NaN');
  isNan(await vals(ht.minimum(tensor([nan, 0, nan]), tensor([0, nan, nan]))), 'minimum with a NaN');
  const v4 = await vals(ht.maximum(tensor([nan, 1, 2, 3, 4, nan, 6, 7]), 0));
  assert.ok(Number.isNaN(v4[0]) && Number.isNaN(v4[5]) && v4[1] === 1, `maximum(x, 0) in vec4 units: ${v4}`);
  isNan(await vals(ht.clamp(tensor([nan]), -1, 1)), 'clamp(NaN)');
  isNan(await vals(ht.max(tensor([1, nan, 2]))), 'max([1, NaN, 2])');
  isNan(await vals(ht.min(tensor([1, nan, 2]))), 'min([1, NaN, 2])');
  isNan(await vals(ht.max(tensor([nan, 1, 2]))), 'max with the NaN first');
  // Long rows (the tree reduction, vec4 loads), and columns (four outputs per unit).
  const long = new Float32Array(1001).map((_, i) => i);
  long[700] = nan;
  isNan(await vals(ht.max(tensor(long))), 'max of a long row');
  isNan(await vals(ht.min(tensor(long))), 'min of a long row');
  const cols = tensor([1, 2, 3, 4, 5, nan, 7, 8], [2, 4]);
  const colMax = await vals(ht.max(cols, 0));
  assert.ok(Number.isNaN(colMax[1]) && colMax[0] === 5 && colMax[3] === 8, `max over columns: ${colMax}`);
  // NumPy and PyTorch: the index of the first NaN.
  assert.equal(await vals(ht.argmax(tensor([[1, nan, 3, nan], [4, 2, 9, 1]]), 1)), [1, 2]);
  assert.equal(await vals(ht.argmin(tensor([[1, nan, -3, nan], [4, 2, 9, 1]]), 1)), [1, 3]);
  cols.dispose();
});

s('maximum and minimum split the gradient 0.5 / 0.5 at ties, in reverse and forward mode alike', async () => {
  const a = tensor([1, 2, 3]);
  const b = tensor([1, 5, 3]);
  for (const [name, op, ga, gb] of [
    ['maximum', ht.maximum, [0.5, 0, 0.5], [0.5, 1, 0.5]],
    ['minimum', ht.minimum, [0.5, 1, 0.5], [0.5, 0, 0.5]],
  ] as const) {
    const [da, db] = ht.grad((p: Tensor, q: Tensor) => ht.sum(op(p, q)), { argnums: [0, 1] })(a, b) as Tensor[];
    assert.equal(await vals(da!), [...ga], `${name}: gradient of a`);
    assert.equal(await vals(db!), [...gb], `${name}: gradient of b`);
    // Forward mode with tangents (1, 0) and (0, 1) gives the same shares.
    for (const [ta, tb, want] of [[[1, 1, 1], [0, 0, 0], ga], [[0, 0, 0], [1, 1, 1], gb]] as const) {
      const [u, w] = [tensor([...ta]), tensor([...tb])];
      const { out, tangent } = ht.jvp((p: Tensor, q: Tensor) => op(p, q), [a, b], [u, w]);
      assert.equal(await vals(tangent), [...want], `${name}: jvp with tangents (${ta}), (${tb})`);
      ht.dispose([out, u, w]);
    }
  }
  ht.dispose([a, b]);
});

s.run();
