// The lazy ops layer (src/ops/fusion/): elementwise ops return pending tensors that one generated
// kernel computes when their value is needed. Fused and unfused results agree (and with float64
// references), a known graph costs exactly one dispatch, derivatives through fused kernels match
// finite differences (reverse and forward mode), and the hazards that would give silent wrong
// answers are each exercised: in-place writes and uploads into a buffer pending nodes read,
// dispose() and buffer-pool reuse of such a buffer, memory held by pending chains, the element
// index `i` and random inputs, i32 inputs, and values computed twice.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { tensor, dispose, memory, setKernelLog, type Tensor, type KernelLogEntry } from '../src/node.js';
import { LazyNode, lazyElementwise, setFusion, MAX_NODES } from '../src/ops/fusion/graph.js';
import { elementwise } from '../src/ops/kernels/elementwise.js';
import { setup, randArray, assertClose, values, dispatchesOf, throwsWith } from './helpers.js';
import { checkGrads } from './gradcheck.js';
import { runNode } from './child.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const s = suite('fusion');
s.before(setup);
s.after.each(() => {
  setFusion(true);
  setKernelLog(null);
});

const f32 = (xs: ArrayLike<number>) => Array.from(Float32Array.from(xs));
const sig = (v: number) => 1 / (1 + Math.exp(-v));


/** The kernels generated while `fn` runs (with the log on). */
async function kernelsOf(fn: () => Promise<unknown> | unknown): Promise<KernelLogEntry[]> {
  const seen: KernelLogEntry[] = [];
  setKernelLog((_text, entry) => seen.push(entry));
  try {
    await fn();
  } finally {
    setKernelLog(null);
  }
  return seen;
}

s('sigmoid(x * w + b) * c is one dispatch, made when the value is read, and equals float64', async () => {
  const [X, W, B, C] = [randArray(24, 1), randArray(6, 2), randArray(4, 3), randArray(24, 4)].map(f32);
  const x = tensor(X, [4, 6]);
  const w = tensor(W, [6]);
  const b = tensor(B, [4, 1]);
  const c = tensor(C, [4, 6]);
  const built = dispatchesOf(() => ht.mul(ht.sigmoid(ht.add(ht.mul(x, w), b)), c));
  assert.is(built.dispatches, 0, 'building the graph dispatched kernels');
  const y = built.value;
  assert.ok(y.pending !== null, 'the result is pending');
  const realised = dispatchesOf(() => y.realise());
  assert.is(realised.dispatches, 1, 'one fused kernel');
  const want = X.map((v, k) => sig(v * W[k % 6]! + B[Math.floor(k / 6)]!) * C[k]!);
  assertClose(await values(y), want, { rtol: 1e-5, atol: 1e-6 });
  dispose([x, w, b, c, y]);
});

s('fused and unfused results agree across unary, binary (broadcast, numbers), where, clamp and scalar ops', async () => {
  const x = tensor(f32(randArray(60, 5, -2, 2)), [3, 4, 5]);
  const r = tensor(f32(randArray(5, 6, 0.5, 2)), [5]);
  const q = tensor(f32(randArray(12, 7)), [3, 4, 1]);
  const graph = () => {
    const a = ht.add(ht.mul(x, r), 0.25);
    const b = ht.where(ht.greater(a, q), ht.exp(ht.neg(a)), ht.tanh(a));
    const c = ht.leakyRelu(ht.sub(b, ht.clamp(a, -0.5, 0.75)), 0.1);
    return ht.add(ht.mul(ht.square(c), ht.div(1, ht.add(ht.abs(a), 1))), ht.softplus(c));
  };
  const fused = dispatchesOf(() => graph().realise());
  setFusion(false);
  const unfused = dispatchesOf(() => graph().realise());
  setFusion(true);
  assert.ok(fused.dispatches < unfused.dispatches, `fused ${fused.dispatches} vs unfused ${unfused.dispatches} dispatches`);
  assert.is(unfused.dispatches, 17, 'one kernel per op without fusion');
  assertClose(await values(fused.value), await values(unfused.value), { rtol: 2e-6, atol: 1e-7 }, 'fused vs unfused');
  // float64 reference of the same graph.
  const [X, R, Q] = [await values(x), await values(r), await values(q)];
  const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
  const want = X.map((v, k) => {
    const a = v * R[k % 5]! + 0.25;
    const b = a > Q[Math.floor(k / 5)]! ? Math.exp(-a) : Math.tanh(a);
    const d = b - Math.min(Math.max(a, -0.5), 0.75);
    const c = d < 0 ? 0.1 * d : d;
    return c * c * (1 / (Math.abs(a) + 1)) + softplus(c);
  });
  assertClose(await values(fused.value), want, { rtol: 1e-5, atol: 1e-6 }, 'fused vs float64');
  dispose([x, r, q, fused.value, unfused.value]);
});

s('a reduction computes its pending input as it reads it: one dispatch per pass, nothing written out, equal to unfused and float64', async () => {
  // Each kernel path of the reductions: one invocation per output (rows >= 64 on CPU adapters, and
  // over a middle axis), the tree over long rows split into chunks (then a second pass over the
  // partials), argmax, and max with a NaN in the input.
  const cases: { shape: number[]; axis: number; kind: 'sum' | 'max' | 'argmax'; passes: number }[] = [
    { shape: [70, 300], axis: 1, kind: 'sum', passes: 1 },
    { shape: [3, 5000], axis: 1, kind: 'sum', passes: 2 },
    { shape: [10, 37], axis: 0, kind: 'sum', passes: 1 },
    { shape: [4, 9, 5], axis: 1, kind: 'max', passes: 1 },
    { shape: [6, 11], axis: 1, kind: 'argmax', passes: 1 },
  ];
  for (const [k, c] of cases.entries()) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const X = f32(randArray(n, 40 + k, -2, 2));
    if (c.kind === 'max') X[17] = NaN;
    const bShape = c.shape.map((d, i) => (i === c.axis ? 1 : d));
    const B = f32(randArray(bShape.reduce((a, b) => a * b, 1), 50 + k));
    const x = tensor(X, c.shape);
    const b = tensor(B, bShape);
    const op = c.kind === 'sum' ? ht.sum : c.kind === 'max' ? ht.max : ht.argmax;
    const graph = () => op(ht.exp(ht.mul(ht.sub(x, b), 0.5)), c.axis).realise();
    const fused = dispatchesOf(graph);
    assert.is(fused.dispatches, c.passes, `${c.kind} over axis ${c.axis} of [${c.shape}]: one kernel per pass, the input not written out`);
    setFusion(false);
    const unfused = dispatchesOf(graph);
    setFusion(true);
    assert.is(unfused.dispatches, c.passes + 3, 'without fusion: sub, mul, exp, then the passes');
    assertClose(await values(fused.value), await values(unfused.value), { rtol: 2e-6, atol: 1e-6 }, `${c.kind} [${c.shape}] fused vs unfused`);
    // float64
    const outer = c.shape.slice(0, c.axis).reduce((a, b) => a * b, 1);
    const R = c.shape[c.axis]!;
    const inner = c.shape.slice(c.axis + 1).reduce((a, b) => a * b, 1);
    const want: number[] = [];
    for (let a = 0; a < outer; a++) {
      for (let j = 0; j < inner; j++) {
        let acc = c.kind === 'sum' ? 0 : -Infinity;
        let arg = 0;
        for (let r = 0; r < R; r++) {
          const v = Math.exp(0.5 * (X[(a * R + r) * inner + j]! - B[a * inner + j]!));
          if (c.kind === 'sum') acc += v;
          else if (!Number.isNaN(acc) && (Number.isNaN(v) || v > acc)) {
            acc = v;
            arg = r;
          }
        }
        want.push(c.kind === 'argmax' ? arg : acc);
      }
    }
    const got = await values(fused.value);
    if (c.kind === 'max') assert.ok(want.some(Number.isNaN) && got.every((v, q) => Number.isNaN(v) === Number.isNaN(want[q]!)), 'max propagates the NaN of its slice');
    assertClose(got.map((v) => (Number.isNaN(v) ? 0 : v)), want.map((v) => (Number.isNaN(v) ? 0 : v)), { rtol: 1e-5, atol: 1e-5 }, `${c.kind} [${c.shape}] vs float64`);
    dispose([x, b, fused.value, unfused.value]);
  }
});

s('a fused reduction leaves its input pending for its other readers, and the log shows the prologue it generated', async () => {
  const x = tensor(f32(randArray(40, 60)), [4, 10]);
  const shifted = ht.sub(x, 1);
  const kernels = await kernelsOf(async () => {
    const s1 = ht.sum(ht.exp(shifted), 1, true);
    assert.ok(shifted.pending !== null && !(shifted.pending as LazyNode).realised, 'the reduction did not realise its input');
    const y = ht.div(ht.exp(shifted), s1); // softmax by hand: reads shifted again, fused
    const X = await values(x);
    const want = X.map((v, k) => {
      const row = X.slice(Math.floor(k / 10) * 10, Math.floor(k / 10) * 10 + 10);
      return Math.exp(v - 1) / row.reduce((a, u) => a + Math.exp(u - 1), 0);
    });
    assertClose(await values(y), want, { rtol: 1e-5, atol: 1e-7 });
    dispose([s1, y]);
  });
  const prologue = kernels.find((k) => k.ops.at(-1) === 'sum');
  assert.ok(prologue, `no prologue in the log: ${kernels.map((k) => k.ops.join(' -> ')).join('; ')}`);
  assert.equal(prologue.ops, ['sub', 'exp', 'sum']);
  assert.match(prologue.wgsl, /then the sum reduction \(shaders\/reduce(_rows)?\.wgsl\)/);
  assert.match(prologue.wgsl, /fn load\(i: u32\) -> f32/);
  dispose([x, shifted]);
});

s('a prologue whose parameters would pass the 256-byte block is computed first, then reduced', async () => {
  // Rank 5 after merging (a broadcast that alternates) and 38 distinct constants: the elementwise
  // kernel fits its block; with the reduction's own fields it would not.
  const x = tensor(f32(randArray(72, 70)), [2, 3, 2, 3, 2]);
  const b = tensor(f32(randArray(8, 71)), [2, 1, 2, 1, 2]);
  const X = await values(x);
  const Bv = await values(b);
  let acc = ht.mul(x, b);
  let c = 0;
  for (let k = 0; k < 38; k++) {
    const next = ht.add(acc, 0.001 * (k + 1));
    acc.dispose();
    acc = next;
    c += 0.001 * (k + 1);
  }
  assert.ok(acc.pending !== null, 'the chain is one pending kernel');
  const { value, dispatches } = dispatchesOf(() => ht.sum(acc, 4).realise());
  assert.is(dispatches, 2, 'the chain written out, then reduced');
  const want: number[] = [];
  for (let q = 0; q < 36; q++) {
    let sum = 0;
    for (let r = 0; r < 2; r++) {
      const flat = q * 2 + r;
      const [i0, , i2] = [Math.floor(flat / 36), Math.floor(flat / 12) % 3, Math.floor(flat / 6) % 2];
      sum += X[flat]! * Bv[i0 * 4 + i2 * 2 + r]! + c;
    }
    want.push(sum);
  }
  assertClose(await values(value), want, { rtol: 1e-5, atol: 1e-5 });
  dispose([x, b, acc, value]);
});

s('reductions are pending: a value dropped unread is never computed; a consumer computes them first', async () => {
  const X = f32(randArray(60, 80));
  const x = tensor(X, [6, 10]);
  const dropped = dispatchesOf(() => {
    const loss = ht.add(ht.mean(ht.square(ht.sub(x, 1))), ht.mul(ht.sum(ht.exp(x)), 0.5));
    loss.dispose();
  });
  assert.is(dropped.dispatches, 0, 'a loss built and dropped unread dispatched kernels');
  // Read: each reduction once (its input as its prologue), then the elementwise root.
  const read = dispatchesOf(() => ht.add(ht.mean(ht.square(ht.sub(x, 1))), ht.mul(ht.sum(ht.exp(x)), 0.5)));
  assert.is(read.dispatches, 0);
  const counted = dispatchesOf(() => read.value.realise());
  assert.ok(counted.dispatches >= 3 && counted.dispatches <= 5, `reading the loss took ${counted.dispatches} dispatches (two reductions, maybe in two passes each, then one add)`);
  const want = X.reduce((a, v) => a + (v - 1) ** 2, 0) / 60 + 0.5 * X.reduce((a, v) => a + Math.exp(v), 0);
  assertClose(await values(read.value), [want], { rtol: 1e-5 });
  // A reduction as a same-shape input stays pending inside the consumer; a broadcast one is computed.
  const rows = ht.sum(x, 1); // [6], pending
  const scaled = ht.mul(ht.neg(rows), 2); // [6], pending, reads the pending reduction
  assert.ok(rows.pending !== null && scaled.pending !== null);
  const centred = ht.sub(x, ht.reshape(rows, [6, 1])); // reshape of a reduction realises it
  assert.ok(rows.pending === null, 'a reshaped reduction is computed (a copy would compute it twice)');
  const R = Array.from({ length: 6 }, (_, a) => X.slice(10 * a, 10 * a + 10).reduce((u, v) => u + v, 0));
  assertClose(await values(scaled), R.map((r) => -2 * r), { rtol: 1e-5, atol: 1e-5 });
  assertClose(await values(centred), X.map((v, k) => v - R[Math.floor(k / 10)]!), { rtol: 1e-5, atol: 1e-5 });
  dispose([x, read.value, rows, scaled, centred]);
  // A reduction whose handles are gone, read only by a pending consumer: computed for it, its
  // value kept while the consumer reads it (the pool must not hand its buffer to the consumer's output).
  const y = tensor(f32(randArray(8, 85)), [2, 4]);
  const inner = ht.sum(y, 1);
  const outer = ht.mul(ht.exp(inner), 3);
  inner.dispose();
  const Y = await values(y);
  const S = [0, 1].map((a) => Y.slice(4 * a, 4 * a + 4).reduce((u, v) => u + v, 0));
  assertClose(await values(outer), S.map((v) => 3 * Math.exp(v)), { rtol: 1e-5 });
  dispose([y, outer]);
});

s('grad() leaves the loss value uncomputed; valueAndGrad() computes it; both gradients equal unfused ones', async () => {
  const x = tensor(f32(randArray(40, 81)), [4, 10]);
  const f = (w: Tensor) => ht.add(ht.mean(ht.logsumexp(ht.mul(w, 3), 1)), ht.mul(ht.sum(ht.square(w)), 0.1));
  const g = ht.grad(f);
  g(x).dispose(); // kernels compiled
  const onlyGrad = dispatchesOf(() => g(x).realise());
  const vg = ht.valueAndGrad(f);
  const both = dispatchesOf(() => {
    const r = vg(x);
    r.grads.realise();
    return r;
  });
  assert.ok(both.value.value.pending === null || (both.value.value.pending as LazyNode).realised, 'valueAndGrad computes the value');
  assert.ok(onlyGrad.dispatches < both.dispatches, `grad ${onlyGrad.dispatches} dispatches, valueAndGrad ${both.dispatches}: the value's own reductions should be skipped`);
  setFusion(false);
  const unfused = g(x);
  setFusion(true);
  assertClose(await values(onlyGrad.value), await values(unfused), { rtol: 1e-5, atol: 1e-6 });
  assertClose(await values(both.value.grads), await values(unfused), { rtol: 1e-5, atol: 1e-6 });
  dispose([x, onlyGrad.value, both.value.value, both.value.grads, unfused]);
});

s('a pending reduction over a buffer written in place afterwards reads the values it was made from', async () => {
  const x = tensor([1, 2, 3, 4]);
  const total = ht.sum(x); // pending, reads x's buffer
  const viaNode = ht.sum(ht.mul(x, 2)); // pending reduction of a pending node reading x
  elementwise({ shape: [4], expr: '0.0', inputs: [], out: { tensor: x } });
  assert.equal(await values(total), [10]);
  assert.equal(await values(viaNode), [20]);
  dispose([x, total, viaNode]);
});

s('broadcast inputs fuse as copies of their graph (one value of any size, small repeats), reshape keeps a value pending', async () => {
  const X = f32(randArray(40, 82));
  const x = tensor(X, [4, 10]);
  const c = tensor([0.5]);
  // A one-value graph (ones * c) broadcast 40,000 times: no kernel of its own.
  const B = f32(randArray(40000, 84));
  const big = tensor(B, [1000, 40]);
  const one = dispatchesOf(() => ht.mul(big, ht.mul(ht.ones([1, 1]), c)).realise());
  assert.is(one.dispatches, 1);
  assertClose(await values(one.value), B.map((v) => 0.5 * v), { rtol: 1e-6 });
  // A [4, 1] graph reading a buffer repeated 10 times (within the budget): recomputed inline.
  const col = tensor(f32(randArray(4, 83)), [4, 1]);
  const small = dispatchesOf(() => ht.add(x, ht.exp(col)).realise());
  assert.is(small.dispatches, 1);
  const C = await values(col);
  assertClose(await values(small.value), X.map((v, k) => v + Math.exp(C[Math.floor(k / 10)]!)), { rtol: 1e-6 });
  // A three-node graph over a buffer repeated 1000 times: computed once, then read through broadcast strides.
  const rep = dispatchesOf(() => ht.mul(ht.exp(ht.sin(ht.cos(ht.reshape(x, [1, 4, 10])))), ht.ones([1000, 4, 10])).realise());
  assert.is(rep.dispatches, 2);
  const R = await values(rep.value);
  assertClose(R.slice(39960), X.map((v) => Math.exp(Math.sin(Math.cos(v)))), { rtol: 1e-5 });
  // reshape of a pending value stays pending when its leaves are contiguous; strided leaves realise it.
  const flat = ht.reshape(ht.exp(x), [40]);
  assert.ok(flat.pending !== null, 'reshape of exp(x) is pending');
  assertClose(await values(flat), X.map(Math.exp), { rtol: 1e-6 });
  const strided = ht.add(x, col); // [4, 10], reads col through broadcast strides
  const r2 = ht.reshape(strided, [40]);
  assert.ok(r2.pending === null && strided.pending === null, 'a graph with a broadcast leaf is computed, then viewed');
  assertClose(await values(r2), X.map((v, k) => v + C[Math.floor(k / 10)]!), { rtol: 1e-6 });
  dispose([x, c, one.value, col, small.value, big, rep.value, flat, strided, r2]);
});

s('a node read twice (expm1(x) squared) is computed once per element; the log names each op once', async () => {
  const X = [1, 2, 3, -4, 5, 0.5];
  const x = tensor(X);
  let y: Tensor | null = null;
  const kernels = await kernelsOf(async () => {
    const t = ht.expm1(x);
    y = ht.mul(t, t);
    t.dispose(); // the pending product still reads t's node
    assert.is(dispatchesOf(() => y!.realise()).dispatches, 1);
  });
  assertClose(await values(y!), X.map((v) => Math.expm1(v) ** 2));
  assert.is(kernels.length, 1);
  assert.equal(kernels[0]!.ops, ['expm1', 'mul']);
  // vec4 units: the unit code and the tail each evaluate 4 lanes, expm1 once per lane.
  assert.is(kernels[0]!.wgsl.match(/let n0 = expm1_\(/g)?.length, 8, 'expm1 evaluated once per lane, not once per use');
  assert.is(kernels[0]!.wgsl.match(/let n1 = mul_\(n0, n0\)/g)?.length, 8);
  assert.match(kernels[0]!.wgsl, /fn expm1_\(a: f32\) -> f32 \{\n  return expm1f\(a\);\n\}/);
  dispose([x, y!]);
});

s('the kernel log shows each distinct kernel once, with scalars passed to the op function', async () => {
  const x = tensor(f32(randArray(10, 8)));
  const texts: string[] = [];
  const seen: KernelLogEntry[] = [];
  setKernelLog((text, entry) => {
    texts.push(text);
    seen.push(entry);
  });
  // A shape of its own, so that the kernel is new to this process.
  const run = () => ht.elu(ht.leakyRelu(ht.mul(x, 3.5), 0.2), 0.7).realise();
  const a = run();
  const b = run();
  setKernelLog(null);
  assert.is(seen.length, 1, 'the same kernel is logged once');
  assert.equal(seen[0]!.ops, ['mul', 'leakyRelu', 'elu']);
  assert.match(seen[0]!.wgsl, /fn leakyRelu_\(a: f32, sc: vec4<f32>\) -> f32 \{\n  return select\(a, a \* sc\.x, a < 0\.0\);/);
  assert.match(seen[0]!.wgsl, /leakyRelu_\(n0, p\.scalars\[0\]\)/);
  assert.match(seen[0]!.wgsl, /elu_\(n1, p\.scalars\[1\]\)/);
  assert.ok(seen[0]!.code.includes('fn sigmoidf('), 'code is the complete shader');
  assert.ok(!seen[0]!.wgsl.includes('fn sigmoidf('), 'wgsl leaves the shared helpers out');
  assert.match(texts[0]!, /^\/\/ ---- hypertape fused kernel: mul -> leakyRelu -> elu \(3 ops\) ----\n/);
  const X = await values(x);
  const lr = (v: number) => (v < 0 ? 0.2 * v : v);
  const elu = (v: number) => (v < 0 ? 0.7 * Math.expm1(v) : v);
  assertClose(await values(a), X.map((v) => elu(lr(v * 3.5))));
  assert.equal(await values(b), await values(a));
  dispose([x, a, b]);
});

s('a chain with more inputs than the storage-buffer limit is split into kernels within it', async () => {
  const limit = ht.engine().device.limits.maxStorageBuffersPerShaderStage;
  const n = limit + 4; // distinct leaves, more than one kernel can bind
  const xs = Array.from({ length: n }, (_, k) => tensor(f32(randArray(7, 100 + k))));
  const kernels = await kernelsOf(async () => {
    let acc = xs[0]!;
    for (let k = 1; k < n; k++) {
      const next = ht.add(acc, ht.mul(xs[k]!, k + 1));
      if (acc !== xs[0]) acc.dispose();
      acc = next;
    }
    const { dispatches } = dispatchesOf(() => acc.realise());
    assert.ok(dispatches >= 1);
    const X = await Promise.all(xs.map(values));
    const want = X[0]!.map((_, j) => X.reduce((sum, v, k) => sum + (k + 1) * v[j]!, 0));
    assertClose(await values(acc), want, { rtol: 1e-5, atol: 1e-5 });
    acc.dispose();
  });
  assert.ok(kernels.length >= 2, `expected the chain to be split, got ${kernels.length} kernel(s)`);
  for (const k of kernels) {
    const bindings = (k.code.match(/var<storage/g) ?? []).length;
    assert.ok(bindings <= limit, `a kernel binds ${bindings} buffers, over the limit of ${limit}`);
  }
  assert.ok(kernels.some((k) => (k.code.match(/var<storage, read>/g) ?? []).length === limit - 1), 'a kernel uses every binding the limit allows');
  dispose(xs);
});

s(`a chain longer than ${MAX_NODES} nodes is cut into kernels; memory held by pending chains stays bounded`, async () => {
  const x = tensor(f32(randArray(64, 9)));
  await ht.sync();
  const start = memory().liveBuffers;
  // acc <- acc / 2 + x, 300 times (600 ops), never read: pending chains must not pile up buffers.
  const d0 = memory().dispatches;
  let acc = ht.zeros([64]);
  for (let t = 0; t < 300; t++) {
    const half = ht.mul(acc, 0.5);
    const next = ht.add(half, x);
    dispose([half, acc]);
    acc = next;
    assert.ok(memory().liveBuffers <= start + 2, `step ${t}: ${memory().liveBuffers - start} buffers live`);
  }
  acc.realise();
  const dispatches = memory().dispatches - d0; // the zeros fill is pending too: 601 nodes
  assert.ok(dispatches >= Math.ceil(601 / MAX_NODES) && dispatches <= Math.ceil(601 / (MAX_NODES - 2)), `${dispatches} kernels for 601 ops`);
  const X = await values(x);
  assertClose(await values(acc), X.map((v) => 2 * v * (1 - 0.5 ** 300)), { rtol: 1e-5, atol: 1e-6 });
  acc.dispose();
  assert.is(memory().liveBuffers, start);
  x.dispose();
});

s('an in-place write into a buffer that pending nodes read computes them first (elementwise out, upload)', async () => {
  const X = [1, 2, 3, 4, 5, 6];
  const x = tensor(X);
  const y = ht.mul(ht.exp(x), 2); // pending, reads x
  const z = ht.add(y, x); // pending, reads y's node and x
  elementwise({ shape: [6], expr: '0.0', inputs: [], out: { tensor: x } }); // overwrite x in place
  assert.equal(await values(x), [0, 0, 0, 0, 0, 0]);
  assertClose(await values(y), X.map((v) => 2 * Math.exp(v)));
  assertClose(await values(z), X.map((v) => 2 * Math.exp(v) + v));
  // An upload (queue.writeBuffer runs before unsubmitted commands) into a buffer a pending node reads.
  const u = tensor([1, 2, 3, 4]);
  const v = ht.sqrt(u);
  ht.engine().upload(u.buffer, new Float32Array([100, 100, 100, 100]));
  assertClose(await values(v), [1, Math.SQRT2, Math.sqrt(3), 2]);
  assert.equal(await values(u), [100, 100, 100, 100]);
  dispose([x, y, z, u, v]);
});

s('dispose() of an input keeps its buffer for pending readers; the pool never hands it out meanwhile', async () => {
  const X = f32(randArray(1000, 10));
  const x = tensor(X);
  const y = ht.exp(x);
  const before = memory().liveBuffers;
  x.dispose();
  assert.is(memory().liveBuffers, before, "x's buffer stays live while y reads it");
  // Same size: these would get x's buffer from the pool if it had gone back.
  const others = Array.from({ length: 4 }, (_, k) => tensor(new Float32Array(1000).fill(k + 7)));
  await ht.sync();
  assertClose(await values(y), X.map(Math.exp));
  assert.is(memory().liveBuffers, before + 4, "y's buffer came, x's went back to the pool once y was computed");
  // tidy() disposes a scope's temporaries; a pending value it returns is computed first.
  const w = ht.tidy(() => {
    const t = tensor(X);
    return ht.mul(ht.sin(t), 3);
  });
  assert.is(w.pending, null, 'tidy() computed its pending result');
  assertClose(await values(w), X.map((v) => 3 * Math.sin(v)), { rtol: 1e-5, atol: 1e-6 });
  dispose([y, others, w]);
});

s('gradients through fused kernels match finite differences (reverse and forward, second order)', async () => {
  const x = tensor(f32(randArray(12, 11)), [3, 4]);
  const w = tensor(f32(randArray(4, 12)), [4]);
  const b = tensor(f32(randArray(3, 13)), [3, 1]);
  const f = (x: Tensor, w: Tensor, b: Tensor) => ht.sum(ht.mul(ht.sigmoid(ht.add(ht.mul(x, w), b)), ht.tanh(x)));
  await checkGrads(f, [x, w, b], { order: 2, name: 'sum(sigmoid(x w + b) tanh(x))' });
  // The gradient with fusion equals the gradient without.
  const g = ht.grad(f, { argnums: [0, 1, 2] });
  const fused = dispatchesOf(() => (g(x, w, b) as Tensor[]).map((t) => t.realise()));
  setFusion(false);
  const unfused = dispatchesOf(() => (g(x, w, b) as Tensor[]).map((t) => t.realise()));
  setFusion(true);
  assert.ok(fused.dispatches < unfused.dispatches, `fused ${fused.dispatches} vs unfused ${unfused.dispatches} dispatches`);
  for (let k = 0; k < 3; k++) assertClose(await values(fused.value[k]!), await values(unfused.value[k]!), { rtol: 1e-5, atol: 1e-6 });
  // Forward mode: a JVP whose rules fuse equals the unfused one.
  const dx = tensor(f32(randArray(12, 14)), [3, 4]);
  const h = (x: Tensor) => ht.mul(ht.exp(ht.mul(x, 0.5)), ht.sigmoid(x));
  const jf = ht.jvp(h, [x], [dx]);
  setFusion(false);
  const ju = ht.jvp(h, [x], [dx]);
  setFusion(true);
  assertClose(await values(jf.tangent), await values(ju.tangent), { rtol: 1e-5, atol: 1e-6 });
  const X = await values(x);
  const DX = await values(dx);
  assertClose(await values(jf.tangent), X.map((v, k) => (0.5 * Math.exp(0.5 * v) * sig(v) + Math.exp(0.5 * v) * sig(v) * (1 - sig(v))) * DX[k]!), { rtol: 1e-5, atol: 1e-6 });
  dispose([x, w, b, dx, fused.value, unfused.value, jf.out, jf.tangent, ju.out, ju.tangent]);
});

s('the element index i is each element\'s own index; random inputs fuse like any buffer', async () => {
  // An op whose expression reads i, on a shape with a tail (15 elements) and with a broadcast input.
  const code = { name: 'plusIndex', expr: 'a + f32(i)' };
  const b = tensor([10, 20, 30, 40, 50], [5]);
  const y = lazyElementwise(code, [ht.mul(ht.ones([3, 5]), b)], [3, 5], 'f32');
  const z = ht.mul(y, 2);
  assert.equal(await values(z), Array.from({ length: 15 }, (_, k) => 2 * ((k % 5 + 1) * 10 + k)));
  // vec4 path: 8 contiguous elements.
  const v = lazyElementwise(code, [ht.zeros([8])], [8], 'f32');
  assert.equal(await values(v), [0, 1, 2, 3, 4, 5, 6, 7]);
  // arange (which uses i in its kernel) and random numbers inside a fused chain.
  const r = ht.randomUniform([9], { seed: 5 });
  const R = await values(r);
  const a = ht.add(ht.mul(ht.arange(9), r), 1);
  assertClose(await values(a), R.map((u, k) => k * u + 1));
  dispose([b, y, z, v, r, a]);
});

s('i32 inputs are refused by the f32 ops by name; f32 values made from i32 labels fuse', async () => {
  const labels = tensor(new Int32Array([2, 0, 1, 2]), [4]);
  await throwsWith(() => ht.mul(labels, 2), ['mul needs f32 tensors', 'i32[4]']);
  const hot = ht.oneHot(labels, 3);
  const y = ht.where(ht.equal(hot, 1), ht.neg(hot), 0.5);
  assert.equal(await values(y), [0.5, 0.5, -1, -1, 0.5, 0.5, 0.5, -1, 0.5, 0.5, 0.5, -1]);
  // An i32 copy (eager elementwise with i32 operands) next to pending f32 work.
  const t = ht.transpose(ht.reshape(labels, [2, 2]));
  assert.is(t.dtype, 'i32');
  assert.equal(await values(t), [2, 1, 0, 2]);
  dispose([labels, hot, y, t]);
});

s('a value is computed once: later readers and other handles reuse its storage', async () => {
  const x = tensor([0.5, 1.5, 2.5, 3.5]);
  const y = ht.cos(ht.mul(x, 2));
  const alias = y.ref(); // shares the pending value
  const z = ht.add(y, 1); // reads y's node
  assert.is(dispatchesOf(() => y.realise()).dispatches, 1);
  assert.is(dispatchesOf(() => alias.realise()).dispatches, 0, 'the other handle reuses the storage');
  assert.is(alias.buffer, y.buffer);
  // z now reads y's storage instead of computing cos(2x) again.
  const zNode = z.pending as LazyNode;
  assert.ok(zNode.inputs.every((i) => !(i instanceof LazyNode)), "z's kernel reads y's buffer");
  assert.is(dispatchesOf(() => z.realise()).dispatches, 1);
  assertClose(await values(z), [0.5, 1.5, 2.5, 3.5].map((v) => Math.cos(2 * v) + 1));
  dispose([x, y, alias, z]);
});

s('HYPERTAPE_PRINT_KERNELS=1 prints each new kernel on stderr with the ops it fused, once', async () => {
  const lib = pathToFileURL(resolve('dist/node.js')).href;
  const script = `const ht = await import(${JSON.stringify(lib)}); await ht.init();
    const x = ht.tensor([1, 2, 3]);
    for (let k = 0; k < 2; k++) console.log((await ht.mul(ht.sigmoid(ht.add(x, 1)), x).data()).join(','));
    process.exit(0);`;
  const run = (print: string | undefined) => runNode(['--input-type=module', '-e', script], { env: { ...process.env, HYPERTAPE_PRINT_KERNELS: print } });
  const on = await run('1');
  assert.is(on.code, 0, on.stderr);
  const headers = on.stderr.match(/\/\/ ---- hypertape fused kernel: add -> sigmoid -> mul \(3 ops\) ----/g) ?? [];
  assert.is(headers.length, 1, `one header for the kernel computed twice; stderr:\n${on.stderr}`);
  assert.match(on.stderr, /fn sigmoid_\(a: f32\) -> f32 \{\n  return sigmoidf\(a\);\n\}/);
  const want = [1, 2, 3].map((v) => Math.fround(Math.fround(1 / (1 + Math.exp(-(v + 1)))) * v));
  assert.is(on.stdout.trim().split('\n').length, 2);
  assertClose(on.stdout.trim().split('\n')[0]!.split(',').map(Number), want);
  const off = await run(undefined);
  assert.is(off.code, 0, off.stderr);
  assert.not.match(off.stderr, /hypertape fused kernel/);
});

s.run();
