// Matmul epilogues in the lazy ops layer (src/ops/fusion/graph.ts, `epilogueSource`): a pending
// matmul read by an elementwise graph is computed by one kernel with that graph as its epilogue;
// C is not written out when nothing else can read it, and written by the same kernel when
// something can. Fused and unfused results agree with float64 on every matmul kernel, and the
// cases where C could be computed twice or the kernel would not fit are each exercised: another
// handle on C, a node in between that is kept, a second reader, a 256-byte parameter block.
// Derivatives through fused matmuls match the unfused ones, to second order.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, dispose, setKernelLog, type Tensor, type KernelLogEntry } from '../src/node.js';
import { setFusion } from '../src/ops/fusion/graph.js';
import { setup, randArray, assertClose, values, dispatchesOf } from './helpers.js';
import { checkGrads } from './gradcheck.js';

const s = suite('fusion-matmul');
s.before(setup);
s.after.each(() => {
  setFusion(true);
  setKernelLog(null);
  ht.forceMatmulVariant(null);
});

const f32 = (xs: ArrayLike<number>) => Array.from(Float32Array.from(xs));
const sig = (v: number) => 1 / (1 + Math.exp(-v));


/** float64 op(A) op(B) for 2-D row-major A [ar, ac], B [br, bc]. */
function matmul64(A: number[], ar: number, ac: number, B: number[], br: number, bc: number, transA: boolean, transB: boolean): { C: number[]; M: number; N: number } {
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const N = transB ? br : bc;
  const C = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += A[transA ? k * ac + i : i * ac + k]! * B[transB ? j * bc + k : k * bc + j]!;
      C[i * N + j] = acc;
    }
  }
  return { C, M, N };
}

s('sigmoid(op(A) op(B) * s + bias) - D is one dispatch on every matmul kernel, equal to unfused and float64', async () => {
  // Few columns (direct), few rows (C written transposed), square, both transposed.
  const cases: { a: [number, number]; b: [number, number]; transA?: boolean; transB?: boolean }[] = [
    { a: [70, 33], b: [33, 10] },
    { a: [40, 9], b: [40, 45], transA: true },
    { a: [37, 20], b: [29, 20], transB: true },
    { a: [24, 31], b: [19, 24], transA: true, transB: true },
  ];
  for (const variant of ht.matmulVariants()) {
    ht.forceMatmulVariant(variant);
    for (const [n, c] of cases.entries()) {
      const [A, B] = [f32(randArray(c.a[0] * c.a[1], 10 + n)), f32(randArray(c.b[0] * c.b[1], 20 + n))];
      const { C, M, N } = matmul64(A, c.a[0], c.a[1], B, c.b[0], c.b[1], !!c.transA, !!c.transB);
      const Bias = f32(randArray(N, 30 + n));
      const D = f32(randArray(M * N, 40 + n));
      const [a, b, bias, d] = [tensor(A, c.a), tensor(B, c.b), tensor(Bias, [N]), tensor(D, [M, N])];
      const graph = () => ht.sub(ht.sigmoid(ht.add(ht.mul(ht.matmul(a, b, { transA: c.transA, transB: c.transB }), 0.5), bias)), d);
      const what = `${variant}, ${c.a}${c.transA ? '^T' : ''} @ ${c.b}${c.transB ? '^T' : ''}`;
      graph().realise().dispose(); // a forced 'texture' makes A's texture copy on the first call
      const fused = dispatchesOf(() => graph().realise());
      assert.is(fused.dispatches, 1, `${what}: one kernel for the matmul and its epilogue`);
      setFusion(false);
      const unfused = dispatchesOf(() => graph().realise());
      setFusion(true);
      assert.is(unfused.dispatches, 5, `${what}: without fusion, the matmul then one kernel per op`);
      const want = C.map((v, k) => sig(v * 0.5 + Bias[k % N]!) - D[k]!);
      assertClose(await values(fused.value), want, { rtol: 1e-5, atol: 2e-6 }, `${what}: fused vs float64`);
      assertClose(await values(fused.value), await values(unfused.value), { rtol: 1e-5, atol: 1e-6 }, `${what}: fused vs unfused`);
      dispose([a, b, bias, d, fused.value, unfused.value]);
    }
  }
});

s('a batched matmul with a broadcast operand fuses its epilogue; the log shows the epilogue it generated', async () => {
  const A = f32(randArray(3 * 6 * 5, 1));
  const B = f32(randArray(5 * 4, 2));
  const [a, b] = [tensor(A, [3, 6, 5]), tensor(B, [5, 4])];
  const seen: KernelLogEntry[] = [];
  setKernelLog((_t, e) => seen.push(e));
  const { value: y, dispatches } = dispatchesOf(() => ht.tidy(() => ht.tanh(ht.matmul(a, b))));
  setKernelLog(null);
  assert.is(dispatches, 1);
  const want: number[] = [];
  for (let q = 0; q < 3; q++) want.push(...matmul64(A.slice(q * 30, q * 30 + 30), 6, 5, B, 5, 4, false, false).C.map(Math.tanh));
  assertClose(await values(y), want, { rtol: 1e-5, atol: 1e-6 });
  const entry = seen.find((e) => e.ops[0] === 'matmul');
  assert.ok(entry, `the log showed no epilogue (saw ${seen.map((e) => e.ops.join(' -> ')).join('; ')})`);
  assert.equal(entry.ops, ['matmul', 'tanh']);
  assert.match(entry.wgsl, /fn epilogue\(i: u32, acc: f32\) -> f32/);
  assert.match(entry.wgsl, /stores epilogue\(i, acc\) in place of each element i of C/);
  dispose([a, b, y]);
});

s('C is never computed twice: another handle, a kept node in between, or a second reader computes C on its own', async () => {
  const A = f32(randArray(12 * 7, 3));
  const B = f32(randArray(7 * 5, 4));
  const { C } = matmul64(A, 12, 7, B, 7, 5, false, false);
  const [a, b] = [tensor(A, [12, 7]), tensor(B, [7, 5])];
  // Another handle on C: the epilogue's kernel stores C as well, and the handle reads it.
  {
    const c = ht.matmul(a, b);
    const y = ht.exp(c);
    const seen: KernelLogEntry[] = [];
    setKernelLog((_t, e) => seen.push(e));
    const d = dispatchesOf(() => { y.realise(); c.realise(); });
    setKernelLog(null);
    assert.is(d.dispatches, 1, 'C and exp(C) by one kernel; reading C costs nothing more');
    const entry = seen.find((e) => e.ops.join() === 'matmul,exp');
    assert.ok(entry, 'the log showed the epilogue');
    assert.match(entry.wgsl, /stores each element i of C, and epilogue\(i, acc\) in e/);
    assertClose(await values(c), C, { rtol: 1e-5, atol: 1e-6 });
    assertClose(await values(y), C.map(Math.exp), { rtol: 1e-5, atol: 1e-6 });
    dispose([c, y]);
  }
  // A node between C and the root that is still held: fusing would leave it needing C again.
  {
    const c = ht.matmul(a, b);
    const t = ht.mul(c, 2);
    c.dispose(); // t's node still reads C
    const y = ht.add(t, 1);
    const d = dispatchesOf(() => { y.realise(); t.realise(); });
    assert.is(d.dispatches, 2, 'C and y by one kernel (C stored), then t from C: C once');
    assertClose(await values(y), C.map((v) => 2 * v + 1), { rtol: 1e-5, atol: 1e-6 });
    assertClose(await values(t), C.map((v) => 2 * v), { rtol: 1e-5, atol: 1e-6 });
    dispose([t, y]);
  }
  // Two readers of C in one tidy: both results are returned, so C has two readers.
  {
    const [y, z] = ht.tidy(() => {
      const c = ht.matmul(a, b);
      return [ht.exp(c), ht.neg(c)];
    });
    assertClose(await values(y), C.map(Math.exp), { rtol: 1e-5, atol: 1e-6 });
    assertClose(await values(z), C.map((v) => -v), { rtol: 1e-5, atol: 1e-6 });
    dispose([y, z]);
  }
  // Inside tidy, the only reader of a temporary C gets it as its epilogue (temporaries go first),
  // and C is not written out.
  {
    const seen: KernelLogEntry[] = [];
    setKernelLog((_t, e) => seen.push(e));
    const d = dispatchesOf(() => ht.tidy(() => ht.sub(ht.exp(ht.matmul(a, b)), 1)));
    setKernelLog(null);
    assert.is(d.dispatches, 1, 'tidy: C and its reader in one kernel');
    const entry = seen.find((e) => e.ops.join() === 'matmul,exp,sub');
    assert.ok(entry, 'the log showed the epilogue');
    assert.match(entry.wgsl, /stores epilogue\(i, acc\) in place of each element i of C/);
    assertClose(await values(d.value), C.map((v) => Math.exp(v) - 1), { rtol: 1e-5, atol: 1e-6 });
    d.value.dispose();
  }
  // A matmul dropped unread is never computed.
  const dropped = dispatchesOf(() => ht.matmul(a, b).dispose());
  assert.is(dropped.dispatches, 0, 'a dropped matmul dispatched');
  dispose([a, b]);
});

s('an epilogue whose parameters would pass the 256-byte block is computed after C, with the same result', async () => {
  // 44 distinct numbers: an elementwise kernel holds them, the matmul's own parameters on top do not.
  const A = f32(randArray(8 * 6, 5));
  const B = f32(randArray(6 * 3, 6));
  const { C } = matmul64(A, 8, 6, B, 6, 3, false, false);
  const [a, b] = [tensor(A, [8, 6]), tensor(B, [6, 3])];
  const coef = Array.from({ length: 22 }, (_, k) => [1 + (k + 1) / 1024, (k + 1) / 7]);
  const chain = (x: Tensor) => coef.reduce((y, [m, q]) => ht.add(ht.mul(y, m!), q!), x);
  const { value: y, dispatches } = dispatchesOf(() => ht.tidy(() => chain(ht.matmul(a, b))));
  assert.is(dispatches, 2, 'C, then the chain');
  const want = C.map((v) => coef.reduce((y, [m, q]) => Math.fround(Math.fround(y * m!) + q!), v));
  assertClose(await values(y), want, { rtol: 1e-5, atol: 1e-5 });
  dispose([a, b, y]);
});

s('gradients and JVPs through fused matmul epilogues match unfused ones and finite differences (second order)', async () => {
  const x = tensor(f32(randArray(6 * 5, 7)), [6, 5]);
  const w = tensor(f32(randArray(5 * 3, 8, -0.5, 0.5)), [5, 3]);
  const b = tensor(f32(randArray(3, 9)), [3]);
  const f = (x: Tensor, w: Tensor, b: Tensor) => ht.sum(ht.mul(ht.tanh(ht.add(ht.matmul(x, w), b)), ht.sigmoid(ht.matmul(x, w))));
  await checkGrads(f, [x, w, b], { order: 2, name: 'sum(tanh(x w + b) sigmoid(x w))' });
  const g = ht.grad(f, { argnums: [0, 1, 2] });
  const fused = (g(x, w, b) as Tensor[]).map((t) => t.realise());
  setFusion(false);
  const unfused = (g(x, w, b) as Tensor[]).map((t) => t.realise());
  setFusion(true);
  for (let k = 0; k < 3; k++) assertClose(await values(fused[k]!), await values(unfused[k]!), { rtol: 1e-5, atol: 1e-6 }, `gradient ${k}`);
  const dw = tensor(f32(randArray(15, 10)), [5, 3]);
  const h = (w: Tensor) => ht.sigmoid(ht.mul(ht.matmul(x, w), 2));
  const jf = ht.jvp(h, [w], [dw]);
  setFusion(false);
  const ju = ht.jvp(h, [w], [dw]);
  setFusion(true);
  assertClose(await values(jf.out), await values(ju.out), { rtol: 1e-5, atol: 1e-6 }, 'jvp value');
  assertClose(await values(jf.tangent), await values(ju.tangent), { rtol: 1e-5, atol: 1e-6 }, 'jvp tangent');
  dispose([x, w, b, dw, ...fused, ...unfused, jf.out, jf.tangent, ju.out, ju.tangent]);
});

s.run();
