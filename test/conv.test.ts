// The convolutional ops (conv2d, maxPool2d, batchNorm): values against float64 references
// (test/reference-conv.ts) over strides, paddings, channel counts, odd sizes and batches; every
// rule by test/gradcheck.ts to second order (dot-product test, central differences, jvpBatch,
// and the same for each VJP and JVP as functions of the primals); hvp against differences of
// gradients; a tiny conv net's gradient; the chunked path for patches larger than a binding;
// every shape error.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tensor, tensor, type Shape } from '../src/node.js';
import { convTuning } from '../src/ops/conv.js';
import { setup, randArray, distinctValues, assertClose } from './helpers.js';
import { checkGrads, directional, fdTolerance } from './gradcheck.js';
import * as R from './reference.js';
import * as RC from './reference-conv.js';

const s = suite('conv');
s.before(setup);

let seed = 700;

/** f32 values uniform in [lo, hi), as a tensor and as the float64 reference of the same values. */
function rand(shape: Shape, lo = -1, hi = 1): { t: Tensor; r: R.Ref } {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(randArray(n, seed++, lo, hi));
  return { t: tensor(data, shape), r: R.ref(data, shape) };
}

/** Distinct values >= 0.05 apart in random order: every pooling window has one clear maximum. */
function distinct(shape: Shape): Tensor {
  return distinctValues(shape, seed++);
}

async function f64(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

interface ConvCase {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: [number, number];
  padding: [number, number];
}

const CASES: ConvCase[] = [
  { x: [2, 1, 5, 7], w: [2, 1, 3, 3], stride: [1, 1], padding: [0, 0] },
  { x: [3, 3, 9, 8], w: [4, 3, 3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [2, 4, 7, 7], w: [3, 4, 2, 3], stride: [1, 2], padding: [2, 1] },
  { x: [1, 3, 6, 5], w: [5, 3, 5, 5], stride: [1, 1], padding: [2, 2] },
  { x: [2, 3, 11, 11], w: [2, 3, 3, 3], stride: [2, 2], padding: [0, 0] },
  { x: [2, 4, 5, 6], w: [3, 4, 1, 1], stride: [1, 1], padding: [0, 0] },
  { x: [4, 1, 4, 4], w: [2, 1, 4, 4], stride: [3, 3], padding: [2, 2] },
];

const label = (c: ConvCase) => `x [${c.x}] w [${c.w}] stride [${c.stride}] padding [${c.padding}]`;

s('conv2d equals the float64 reference over strides, paddings, channels, odd sizes and batches', async () => {
  for (const c of CASES) {
    const x = rand(c.x);
    const w = rand(c.w);
    const out = ht.conv2d(x.t, w.t, { stride: c.stride, padding: c.padding });
    const want = RC.conv2d(x.r, w.r, c.stride, c.padding);
    assert.equal([...out.shape], want.shape, `shape for ${label(c)}`);
    assertClose(await out.data(), want.data, { rtol: 1e-5, atol: 1e-5 }, `conv2d ${label(c)}`);
    ht.dispose([x.t, w.t, out]);
  }
});

s('conv2d takes one number for both axes and defaults to stride 1, padding 0', async () => {
  const x = rand([2, 2, 6, 6]);
  const w = rand([3, 2, 3, 3]);
  const a = ht.conv2d(x.t, w.t, { stride: 2, padding: 1 });
  assertClose(await a.data(), RC.conv2d(x.r, w.r, [2, 2], [1, 1]).data, { rtol: 1e-5, atol: 1e-5 }, 'stride 2, padding 1');
  const b = ht.conv2d(x.t, w.t);
  assertClose(await b.data(), RC.conv2d(x.r, w.r, [1, 1], [0, 0]).data, { rtol: 1e-5, atol: 1e-5 }, 'defaults');
  ht.dispose([x.t, w.t, a, b]);
});

s('conv2d in chunks of images (patches over a binding) equals one piece, values and gradients', async () => {
  const x = rand([5, 2, 6, 5]);
  const w = rand([3, 2, 3, 3]);
  const u = rand([5, 3, 6, 5]);
  const run = () => ht.tidy(() => {
    const f = (xx: Tensor, ww: Tensor) => ht.sum(ht.mul(ht.conv2d(xx, ww, { padding: 1 }), u.t));
    const [gx, gw] = ht.grad(f, { argnums: [0, 1] })(x.t, w.t) as Tensor[];
    return [ht.conv2d(x.t, w.t, { padding: 1 }), gx!, gw!];
  });
  const whole = await Promise.all(run().map(f64));
  convTuning.maxPatchBytes = 2 * 4 * 18 * 30; // two images per chunk: chunks of 2, 2, 1
  try {
    const parts = run();
    const chunked = await Promise.all(parts.map(f64));
    ['value', 'x gradient', 'w gradient'].forEach((what, i) => assertClose(chunked[i]!, whole[i]!, { rtol: 1e-6, atol: 1e-6 }, `chunked ${what}`));
    await checkGrads((xx, ww) => ht.conv2d(xx, ww, { padding: 1 }), [x.t, w.t], { name: 'conv2d in chunks', order: 2 });
    ht.dispose(parts);
  } finally {
    convTuning.maxPatchBytes = null;
  }
  ht.dispose([x.t, w.t, u.t]);
});

s('conv2d under every matmul kernel variant (GPUs pick others than this adapter)', async () => {
  const c = CASES[1]!;
  const x = rand(c.x);
  const w = rand(c.w);
  const want = RC.conv2d(x.r, w.r, c.stride, c.padding);
  try {
    for (const v of ht.matmulVariants()) {
      ht.forceMatmulVariant(v);
      const out = ht.conv2d(x.t, w.t, { stride: c.stride, padding: c.padding });
      assertClose(await out.data(), want.data, { rtol: 1e-5, atol: 1e-5 }, `conv2d ${label(c)} with matmul variant ${v}`);
      out.dispose();
      await checkGrads((xx, ww) => ht.conv2d(xx, ww, { stride: c.stride, padding: c.padding }), [x.t, w.t], { name: `conv2d with ${v}`, batch: 0 });
    }
  } finally {
    ht.forceMatmulVariant(null);
  }
  ht.dispose([x.t, w.t]);
});

s('maxPool2d equals the float64 reference (sizes, strides, overlapping windows, odd planes)', async () => {
  for (const [shape, size, stride] of [[[2, 3, 6, 6], 2, 2], [[1, 2, 7, 5], 2, 2], [[2, 2, 7, 7], 3, 2], [[1, 3, 5, 6], 2, 1], [[3, 1, 4, 4], 4, 4]] as [Shape, number, number][]) {
    const x = rand(shape);
    const out = ht.maxPool2d(x.t, { size, stride });
    const want = RC.maxPool2d(x.r, size, stride);
    assert.equal([...out.shape], want.shape, `shape of ${size}x${size} stride ${stride} on [${shape}]`);
    assertClose(await out.data(), want.data, { rtol: 0, atol: 0 }, `maxPool2d ${size}x${size} stride ${stride} on [${shape}]`);
    ht.dispose([x.t, out]);
  }
});

s('maxPool2d: ties send the gradient to the first maximum (row-major); NaN propagates', async () => {
  // One 4x4 plane, 2x2 windows: window 0 all equal, window 1 a tie between its 2nd and 4th entries.
  const x = tensor(new Float32Array([1, 1, 0, 5, 1, 1, 2, 5, 3, NaN, 7, 7, 4, 1, 7, 7]), [1, 1, 4, 4]);
  const out = ht.maxPool2d(x);
  const v = Array.from(await out.data());
  assert.equal(v.slice(0, 2), [1, 5]);
  assert.ok(Number.isNaN(v[2]!), `a window with a NaN pools to NaN, got ${v[2]}`);
  assert.equal(v[3], 7);
  const g = ht.grad((t: Tensor) => ht.sum(ht.maxPool2d(t)))(x) as Tensor;
  assert.equal(Array.from(await g.data()), [1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  ht.dispose([x, out, g]);
});

s('batchNorm equals the float64 reference for [N, C, H, W] and [N, C]', async () => {
  for (const [shape, eps] of [[[4, 3, 5, 6], 1e-5], [[2, 2, 3, 3], 1e-3], [[8, 5], 1e-5]] as [Shape, number][]) {
    const x = rand(shape, -2, 3);
    const out = ht.batchNorm(x.t, { eps });
    assertClose(await out.data(), RC.batchNorm(x.r, eps).data, { rtol: 1e-4, atol: 1e-5 }, `batchNorm [${shape}] eps ${eps}`);
    ht.dispose([x.t, out]);
  }
});

// ---- derivatives ------------------------------------------------------------------------------

s('conv2d: VJP, JVP and jvpBatch to second order in x and w (strides, paddings)', async () => {
  for (const c of [CASES[1]!, CASES[2]!, { x: [2, 2, 5, 4], w: [3, 2, 3, 2], stride: [1, 1], padding: [0, 0] } as ConvCase]) {
    const x = rand(c.x);
    const w = rand(c.w);
    await checkGrads((xx, ww) => ht.conv2d(xx, ww, { stride: c.stride, padding: c.padding }), [x.t, w.t], { name: `conv2d ${label(c)}`, order: 2 });
    ht.dispose([x.t, w.t]);
  }
});

s('conv2d composed with a nonlinearity: second order sees the curvature', async () => {
  const x = rand([2, 2, 5, 5]);
  const w = rand([2, 2, 3, 3]);
  await checkGrads((xx, ww) => ht.tanh(ht.conv2d(ht.sin(xx), ww, { padding: 1 })), [x.t, w.t], { name: 'tanh(conv2d(sin x, w))', order: 2 });
  ht.dispose([x.t, w.t]);
});

s('maxPool2d: VJP, JVP and jvpBatch to second order, disjoint and overlapping windows', async () => {
  // Disjoint windows (stride >= size, routed a window at a time; odd planes leave edge pixels
  // outside every window) and overlapping ones (routed a pixel at a time).
  for (const [shape, size, stride] of [[[2, 2, 4, 6], 2, 2], [[1, 2, 7, 5], 2, 2], [[1, 1, 8, 7], 2, 3], [[1, 2, 5, 5], 3, 2], [[1, 1, 4, 5], 2, 1]] as [Shape, number, number][]) {
    const x = distinct(shape);
    // sin is increasing on the values' range, so the windows keep their winners; it makes the
    // second derivative non-zero.
    await checkGrads((t) => ht.maxPool2d(ht.sin(t), { size, stride }), [x], { name: `maxPool2d ${size}x${size} stride ${stride}`, order: 2 });
    x.dispose();
  }
});

s('batchNorm: VJP, JVP and jvpBatch to second order', async () => {
  for (const shape of [[3, 2, 3, 2], [6, 3]] as Shape[]) {
    const x = rand(shape, -2, 2);
    await checkGrads((t) => ht.batchNorm(t), [x.t], { name: `batchNorm [${shape}]`, order: 2, ulps: 32 });
    x.t.dispose();
  }
});

// A tiny conv net: images [3, 2, 4, 4] -> conv 3x3 (2 filters, padding 1) -> batchNorm -> x gamma
// + 0.1 -> activation -> 2x2 maxPool -> [3, 8] -> linear [8, 3] -> cross-entropy. Max-pooling's
// gradient jumps where a window changes its winner, so finite differences (of values at first
// order, of gradients at second) are only meaningful where no window's top two pre-activations
// lie within the perturbation: the tests draw inputs until every window leads by >= 0.03, and
// perturb by about 0.005 (steps of 1e-3, or directions scaled by 0.1).

/** The activations' argument z = batchNorm(conv2d(images, w)) gamma + 0.1, [3, 2, 4, 4]. */
function preActivation(images: Tensor, w: Tensor, gamma: Tensor): Tensor {
  return ht.add(ht.mul(ht.batchNorm(ht.conv2d(images, w, { padding: 1 })), gamma), 0.1);
}

function tinyNet(images: Tensor, labels: Tensor, act: (t: Tensor) => Tensor = ht.relu) {
  return (w: Tensor, gamma: Tensor, v: Tensor): Tensor => {
    const p = ht.reshape(ht.maxPool2d(act(preActivation(images, w, gamma))), [3, 8]);
    return ht.neg(ht.mean(ht.sum(ht.mul(ht.logSoftmax(ht.matmul(p, v)), ht.oneHot(labels, 3)), 1)));
  };
}

/** The smallest lead of a 2x2 window's maximum over its runner-up, in z [N, C, H, W]. */
async function smallestLead(z: Tensor): Promise<number> {
  const [N, C, H, W] = z.shape as number[];
  const d = await z.data();
  let lead = Infinity;
  for (let q = 0; q < N! * C!; q++) for (let y = 0; y < H!; y += 2) for (let x = 0; x < W!; x += 2) {
    const win = [0, 1, W!, W! + 1].map((o) => d[q * H! * W! + y * W! + x + o]!).sort((a, b) => b - a);
    lead = Math.min(lead, win[0]! - win[1]!);
  }
  return lead;
}

/** Draws images, labels and parameters (seeds from `start` on) until every window leads by >= 0.03. */
async function clearPoint(start: number): Promise<{ images: Tensor; labels: Tensor; w: Tensor; gamma: Tensor; v: Tensor }> {
  for (let k = 0; k < 200; k++) {
    seed = start + 10 * k;
    const p = {
      images: rand([3, 2, 4, 4]).t, labels: tensor(new Int32Array([0, 2, 1]), [3], 'i32'),
      w: rand([2, 2, 3, 3]).t, gamma: rand([2, 1, 1], 0.5, 1.5).t, v: rand([8, 3]).t,
    };
    const z = preActivation(p.images, p.w, p.gamma);
    const lead = await smallestLead(z);
    z.dispose();
    if (lead >= 0.03) return p;
    ht.dispose(p);
  }
  throw new Error('no draw of the tiny conv net had every pooling window lead by 0.03');
}

s('a tiny conv net (conv, batchNorm, relu, maxPool, linear, cross-entropy): gradients and second order', async () => {
  const p = await clearPoint(900);
  await checkGrads(tinyNet(p.images, p.labels), [p.w, p.gamma, p.v], { name: 'tiny conv net', ulps: 32, step: 1e-3 });
  // Second order with softplus for relu: relu's second derivative is 0 almost everywhere, and
  // differences of gradients across its kinks (activations near 0 after batchNorm) measure
  // nothing; softplus keeps every second-order product of conv, batchNorm and maxPool in play.
  await checkGrads(tinyNet(p.images, p.labels, ht.softplus), [p.w, p.gamma, p.v], { name: 'tiny conv net with softplus', order: 2, ulps: 32, step: 1e-3 });
  ht.dispose(p);
});

s('hvp of the tiny conv net equals differences of its gradients (grad of grad)', async () => {
  const p = await clearPoint(950);
  const d = rand([2, 2, 3, 3]).t;
  const dw = ht.mul(d, 0.1);
  // softplus for relu, as above.
  const loss = tinyNet(p.images, p.labels, ht.softplus);
  const f = (ww: Tensor) => loss(ww, p.gamma, p.v);
  const hv = ht.hvp(f, p.w, dw);
  const { value, scale } = await directional(([ww]) => ht.grad(f)(ww!) as Tensor, [await f64(p.w)], [await f64(dw)], [p.w.shape]);
  const got = await f64(hv);
  assertClose(got, value, fdTolerance(scale), 'hvp vs differences of gradients');
  assert.ok(got.some((e) => Math.abs(e) > 1e-3), 'a vanishing Hessian-vector product proves nothing');
  // Reverse over reverse: grad of <grad f, dw> is the same product.
  const rr = ht.grad((ww: Tensor) => ht.sum(ht.mul(ht.grad(f)(ww) as Tensor, dw)))(p.w) as Tensor;
  assertClose(await f64(rr), got, { rtol: 1e-4, atol: 1e-5 }, 'grad(<grad f, v>) vs hvp');
  ht.dispose([p, d, dw, hv, rr]);
});

// ---- bilevel: an inner step that contains a gradient through the conv ops ----------------------

s('hypergradient through a tiny conv net (inner steps take gradients): K-RMD at K = T = RMD = FMD', async () => {
  seed = 1000;
  // Shaped like the Omniglot problem: lambda = { l1: a first block's weights, shared and used
  // directly by the outer loss; c: the centre the adapted block starts from and is pulled to }.
  const S = rand([4, 1, 6, 6]).t;
  const Q = rand([6, 1, 6, 6]).t;
  const yS = ht.oneHot(tensor(new Int32Array([0, 1, 2, 0]), [4], 'i32'), 3);
  const yQ = ht.oneHot(tensor(new Int32Array([2, 1, 0, 0, 1, 2]), [6], 'i32'), 3);
  const V = rand([3, 3]).t;
  const block = (x: Tensor, w: Tensor) => ht.maxPool2d(ht.softplus(ht.batchNorm(ht.conv2d(x, w, { padding: 1 }))));
  const ce = (x: Tensor, y: Tensor, l1: Tensor, w: Tensor) => {
    const feats = ht.reshape(block(block(x, l1), w), [x.shape[0]!, 3]); // 6 -> 3 -> 1
    return ht.neg(ht.mean(ht.sum(ht.mul(ht.logSoftmax(ht.matmul(feats, V)), y), 1)));
  };
  type L = { l1: Tensor; c: Tensor };
  const inner = (w: Tensor, lam: L) => ht.add(ce(S, yS, lam.l1, w), ht.mul(ht.sum(ht.square(ht.sub(w, lam.c))), 0.5));
  const problem: ht.BilevelProblem<Tensor, L> = {
    T: 3,
    init: (lam) => ht.mul(lam.c, 1),
    step: ht.gradientDescent(inner, 0.3),
    outer: (w, lam) => ce(Q, yQ, lam.l1, w),
  };
  const lambda: L = { l1: rand([3, 1, 3, 3]).t, c: rand([3, 3, 3, 3]).t };
  const flat = async (g: L) => [...(await f64(g.l1)), ...(await f64(g.c))];
  const rmd = await ht.hypergradient(problem, lambda, { method: 'rmd' });
  const want = await flat(rmd.grad);
  assert.ok(want.some((e) => Math.abs(e) > 1e-3), 'a vanishing hypergradient proves nothing');
  for (const opts of [{ method: 'krmd' as const, K: 3 }, { method: 'fmd' as const, chunk: 27 }]) {
    const other = await ht.hypergradient(problem, lambda, opts);
    assertClose(await flat(other.grad), want, { rtol: 1e-4, atol: 1e-5 }, opts.method);
    ht.dispose(other.grad);
  }
  ht.dispose([S, Q, yS, yQ, V, rmd.grad, lambda]);
});

// ---- errors -----------------------------------------------------------------------------------

s('shape and option errors name the shapes', () => {
  const x = ht.zeros([2, 3, 5, 5]);
  const w = ht.zeros([4, 3, 3, 3]);
  const throwsWith = (f: () => unknown, ...parts: string[]) => {
    try {
      f();
    } catch (e) {
      const msg = (e as Error).message;
      for (const p of parts) assert.ok(msg.includes(p), `message "${msg}" should mention "${p}"`);
      return;
    }
    assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  };
  throwsWith(() => ht.conv2d(x, ht.zeros([4, 2, 3, 3])), '[2, 3, 5, 5]', '[4, 2, 3, 3]', 'channels');
  throwsWith(() => ht.conv2d(x, ht.zeros([4, 3, 7, 3])), '7x3', 'larger than the padded input', '5x5');
  throwsWith(() => ht.conv2d(x, ht.zeros([4, 3, 8, 3]), { padding: 1 }), '8x3', '7x7');
  throwsWith(() => ht.conv2d(x, w, { stride: 0 }), 'stride', 'positive integer', '0');
  throwsWith(() => ht.conv2d(x, w, { stride: [1, -2] }), 'stride', '[1,-2]');
  throwsWith(() => ht.conv2d(x, w, { stride: 1.5 }), 'stride', '1.5');
  throwsWith(() => ht.conv2d(x, w, { padding: -1 }), 'padding', 'non-negative');
  throwsWith(() => ht.conv2d(x, w, { padding: 0.5 }), 'padding', '0.5');
  throwsWith(() => ht.conv2d(ht.zeros([3, 5, 5]), w), '[N, C, H, W]', '[3, 5, 5]');
  throwsWith(() => ht.conv2d(x, ht.zeros([4, 27])), '[O, C, kh, kw]', '[4, 27]');
  throwsWith(() => ht.maxPool2d(ht.zeros([3, 5, 5])), '[N, C, H, W]', '[3, 5, 5]');
  throwsWith(() => ht.maxPool2d(x, { size: 6 }), '6x6', '5x5', '[2, 3, 5, 5]');
  throwsWith(() => ht.maxPool2d(x, { size: 0 }), 'size', 'positive integer');
  throwsWith(() => ht.maxPool2d(x, { stride: 2.5 }), 'stride', '2.5');
  throwsWith(() => ht.batchNorm(ht.zeros([2, 3, 4])), 'batchNorm', '[2, 3, 4]');
  throwsWith(() => ht.batchNorm(x, { eps: -1 }), 'eps', '-1');
  ht.dispose([x, w]);
});

s.run();
