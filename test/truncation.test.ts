// Truncated back-propagation on a tape with step marks (paper eq. 8), against closed forms, and
// the memory promise of a tape that keeps only K steps.
//
// The recurrence x_{t+1} = A x_t + B u, y = c^T x_T has, for the backward pass over the last K
// of T steps,
//   dy/du (those K steps only) = sum_{j=0}^{K-1} B^T (A^T)^j c     (the partial sum h_{T-K})
//   dy/dx_{T-K} (the boundary cotangent alpha_{T-K}) = (A^T)^K c,
// and K = T gives the full gradient (dy/dx_0 = (A^T)^T c). Closed forms are computed in float64.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tape, Tensor, tensor, memory, resetPeak, sync } from '../src/node.js';
import { setup, randArray, assertClose } from './helpers.js';

const s = suite('truncation');
s.before(setup);

// ---- float64 helpers ------------------------------------------------------------------------

type Mat = number[][];
const matT = (m: Mat): Mat => m[0]!.map((_, j) => m.map((r) => r[j]!));
const matVec = (m: Mat, v: number[]): number[] => m.map((r) => r.reduce((acc, e, j) => acc + e * v[j]!, 0));
const addVec = (a: number[], b: number[]): number[] => a.map((e, i) => e + b[i]!);

/** Closed forms for the last K steps: [sum_{j<K} B^T (A^T)^j c, (A^T)^K c]. */
function closedForm(A: Mat, B: Mat, c: number[], K: number): { du: number[]; boundary: number[] } {
  const At = matT(A);
  const Bt = matT(B);
  let p = c; // (A^T)^j c
  let du = new Array(B[0]!.length).fill(0) as number[];
  for (let j = 0; j < K; j++) {
    du = addVec(du, matVec(Bt, p));
    p = matVec(At, p);
  }
  return { du, boundary: p };
}

function randMat(rows: number, cols: number, seed: number, scale: number): Mat {
  const v = randArray(rows * cols, seed, -scale, scale);
  return Array.from({ length: rows }, (_, i) => Array.from(v.subarray(i * cols, (i + 1) * cols)));
}

const n = 4; // state size
const m = 3; // input size
const T = 30;
// Entries in [-0.4, 0.4] keep A's spectral radius below 1, so no term dominates the sums.
const A = randMat(n, n, 1, 0.4);
const B = randMat(n, m, 2, 1);
const c = Array.from(randArray(n, 3));
const x0v = Array.from(randArray(n, 4));
const uv = Array.from(randArray(m, 5));

/** Runs the recurrence on `tape`, marking each step; returns every iterate (x_0..x_T) and y. */
function recurrence(tape: Tape, u: Tensor, x0: Tensor): { xs: Tensor[]; y: Tensor } {
  const At = tensor(A);
  const Bt = tensor(B);
  const ct = tensor(c.map((e) => [e]));
  const xs = [x0];
  const Bu = tape.run(() => ht.matmul(Bt, u)); // recorded in step 0 (it depends on u)
  for (let t = 0; t < T; t++) {
    xs.push(tape.run(() => ht.add(ht.matmul(At, xs[t]!), Bu)));
    tape.markStep();
  }
  const y = tape.run(() => ht.sum(ht.mul(ct, xs[T]!)));
  ht.dispose([At, Bt, ct, Bu]);
  return { xs, y };
}

const TOL = { rtol: 1e-5, atol: 1e-6 };

s('backward over the last K steps gives the closed-form partial sums and boundary cotangent', async () => {
  const u = tensor(uv.map((e) => [e]));
  const x0 = tensor(x0v.map((e) => [e]));
  const tape = new Tape({ name: 'recurrence' }).watch(u, x0);
  const { xs, y } = recurrence(tape, u, x0);
  assert.is(tape.heldSteps, T);
  for (const K of [0, 1, 2, 5, 17, T]) {
    const [du, boundary] = tape.gradient(y, [u, xs[T - K]!], { steps: K });
    const want = closedForm(A, B, c, K);
    // Bu is computed once, before the first mark, so it is reached only when the window reaches step 0.
    const duWant = K === T ? want.du : new Array(m).fill(0);
    assertClose(await du!.data(), duWant, TOL, `dy/du over ${K} steps`);
    assertClose(await boundary!.data(), want.boundary, TOL, `dy/dx_${T - K}`);
    ht.dispose([du, boundary]);
  }
  tape.dispose();
  ht.dispose([u, x0, xs, y]);
});

s('with B u recomputed in every step, dy/du over K steps is the partial sum sum_{j<K} B^T (A^T)^j c', async () => {
  const u = tensor(uv.map((e) => [e]));
  const x0 = tensor(x0v.map((e) => [e]));
  const At = tensor(A);
  const Bt = tensor(B);
  const ct = tensor(c.map((e) => [e]));
  const tape = new Tape().watch(u, x0);
  const xs = [x0];
  for (let t = 0; t < T; t++) {
    xs.push(tape.run(() => ht.add(ht.matmul(At, xs[t]!), ht.matmul(Bt, u))));
    tape.markStep();
  }
  const y = tape.run(() => ht.sum(ht.mul(ct, xs[T]!)));
  for (const K of [1, 2, 3, 10, 29, T]) {
    const [du, boundary] = tape.gradient(y, [u, xs[T - K]!], { steps: K });
    const want = closedForm(A, B, c, K);
    assertClose(await du!.data(), want.du, TOL, `dy/du over ${K} steps`);
    assertClose(await boundary!.data(), want.boundary, TOL, `dy/dx_${T - K}`);
    ht.dispose([du, boundary]);
  }
  // K = T is the full gradient: the same as a backward pass with no truncation.
  const [fullDu, fullDx0] = tape.gradient(y, [u, x0]);
  const want = closedForm(A, B, c, T);
  assertClose(await fullDu!.data(), want.du, TOL, 'full dy/du');
  assertClose(await fullDx0!.data(), want.boundary, TOL, 'full dy/dx_0');
  const [truncDu] = tape.gradient(y, [u], { steps: T });
  assertClose(await truncDu!.data(), await fullDu!.data(), { rtol: 0, atol: 0 }, 'K = T vs untruncated');
  tape.dispose();
  ht.dispose([u, x0, At, Bt, ct, xs, y, fullDu, fullDx0, truncDu]);
});

s('the scalar recurrence x_{t+1} = a x_t + b u: dy/du over K steps = b sum_{j<K} a^j c', async () => {
  // Elementwise, one (a, c) per component: several scalar recurrences at once.
  const a = [0.9, -0.5, 0.3, 1.05];
  const b = 0.7;
  const cs = [1, -2, 0.5, 0.25];
  const at = tensor(a);
  const ct = tensor(cs);
  const u = tensor([0.4, -0.3, 1.2, 0.8]);
  const x0 = tensor([1, 1, -1, 0.5]);
  const tape = new Tape({ keepSteps: 8 }).watch(u);
  let x = x0;
  const kept: Tensor[] = [];
  for (let t = 0; t < 20; t++) {
    const next = tape.run(() => ht.add(ht.mul(at, x), ht.mul(u, b)));
    kept.push(next);
    x = next;
    tape.markStep();
  }
  const y = tape.run(() => ht.sum(ht.mul(ct, x)));
  for (const K of [1, 4, 8]) {
    const [du, boundary] = tape.gradient(y, [u, kept[20 - K - 1]!], { steps: K });
    assertClose(await du!.data(), a.map((ai, i) => b * cs[i]! * Array.from({ length: K }, (_, j) => ai ** j).reduce((p, q) => p + q, 0)), TOL, `du, K = ${K}`);
    assertClose(await boundary!.data(), a.map((ai, i) => ai ** K * cs[i]!), TOL, `boundary, K = ${K}`);
    ht.dispose([du, boundary]);
  }
  tape.dispose();
  ht.dispose([at, ct, u, x0, kept, y]);
});

s('a tape that keeps K steps gives what a full tape gives over its last K steps', async () => {
  const u = tensor(uv.map((e) => [e]));
  const x0 = tensor(x0v.map((e) => [e]));
  const K = 6;
  const full = new Tape().watch(u, x0);
  const kept = new Tape({ keepSteps: K }).watch(u, x0);
  const a = recurrenceWithInput(full, u, x0);
  const b = recurrenceWithInput(kept, u, x0);
  assert.is(kept.heldSteps, K);
  const [fa, fb] = [full.gradient(a.y, [u, a.xs[T - K]!], { steps: K }), kept.gradient(b.y, [u, b.xs[T - K]!], { steps: K })];
  assertClose(await fb[0]!.data(), await fa[0]!.data(), { rtol: 0, atol: 0 }, 'du');
  assertClose(await fb[1]!.data(), await fa[1]!.data(), { rtol: 0, atol: 0 }, 'boundary');
  full.dispose();
  kept.dispose();
  ht.dispose([u, x0, a, b, fa, fb]);
});

/** The recurrence with B u recomputed in every step (so every step depends on u). */
function recurrenceWithInput(tape: Tape, u: Tensor, x0: Tensor): { xs: Tensor[]; y: Tensor } {
  const At = tensor(A);
  const Bt = tensor(B);
  const ct = tensor(c.map((e) => [e]));
  const xs = [x0];
  for (let t = 0; t < T; t++) {
    xs.push(tape.run(() => ht.add(ht.matmul(At, xs[t]!), ht.matmul(Bt, u))));
    tape.markStep();
  }
  const y = tape.run(() => ht.sum(ht.mul(ct, xs[T]!)));
  ht.dispose([At, Bt, ct]);
  return { xs, y };
}

// ---- outside a tape -------------------------------------------------------------------------

s('computation outside any tape run records nothing and keeps nothing', async () => {
  const x = tensor([0.5, 1.5, -2]);
  const tape = new Tape().watch(x);
  const work = (): void => {
    // The tape watches x but is not running: nothing is recorded, nothing is held.
    const y = ht.tidy(() => ht.sum(ht.exp(ht.mul(x, 2))));
    assert.is(tape.size, 0, 'entries recorded outside run()');
    assert.not.ok(tape.isTracked(y), 'a result computed outside run() is not tracked');
    y.dispose();
    // With no tape at all, an iteration frees everything it does not return.
    let w = ht.mul(x, 1);
    for (let t = 0; t < 20; t++) {
      const next = ht.tidy(() => ht.sub(w, ht.mul(ht.sin(w), 0.1)));
      w.dispose();
      w = next;
    }
    w.dispose();
  };
  work(); // fills the scalar-constant cache
  await sync();
  const before = memory();
  work();
  await sync();
  const after = memory();
  assert.is(after.liveBuffers, before.liveBuffers, 'live buffers after untaped work');
  assert.is(after.liveBytes, before.liveBytes, 'live bytes after untaped work');
  tape.dispose();
  x.dispose();
});

// ---- memory ---------------------------------------------------------------------------------

// One step of gradient descent on a weighted softmax regression, the hypercleaning iteration in
// small: w_{t+1} = w_t - gamma * grad_w g(w_t, lambda). Each step records its inner backward
// pass on the tape (second order), so a step holds several activations.
const X = (): Tensor => ht.randomNormal([256, 64], { seed: 7 });
const labels = (): Tensor => tensor(Int32Array.from({ length: 256 }, (_, i) => i % 16));

interface Run {
  /** Peak live bytes above what was live before the run (iteration + backward pass). */
  peak: number;
  /** Bytes the tape held after the last step (before the backward pass). */
  held: number;
}

async function iterate(steps: number, keepSteps?: number): Promise<Run> {
  const data = X();
  const lab = labels();
  const Y = ht.oneHot(lab, 16);
  const lambda = ht.randomNormal([256], { seed: 8 });
  const w0 = ht.mul(ht.randomNormal([16, 64], { seed: 9 }), 0.01);
  const inner = (w: Tensor, l: Tensor): Tensor => {
    const ce = ht.neg(ht.sum(ht.mul(Y, ht.logSoftmax(ht.matmul(data, w, { transB: true }), -1)), -1));
    return ht.add(ht.mean(ht.mul(ht.sigmoid(l), ce)), ht.mul(ht.sum(ht.square(w)), 1e-3));
  };
  await sync();
  const base = memory().liveBytes;
  resetPeak();
  const tape = new Tape({ keepSteps }).watch(lambda, w0);
  let w = w0;
  for (let t = 0; t < steps; t++) {
    const next = tape.run(() => ht.tidy(() => ht.sub(w, ht.mul(ht.grad(inner)(w, lambda), 0.5))));
    if (w !== w0) w.dispose();
    w = next;
    tape.markStep();
  }
  await sync();
  const held = memory().liveBytes - base;
  const y = tape.run(() => ht.tidy(() => ht.sum(ht.square(w))));
  const [h] = tape.gradient(y, [lambda], keepSteps ? { steps: keepSteps } : {});
  await h!.data();
  const peak = memory().peakBytes - base;
  tape.dispose();
  ht.dispose([data, lab, Y, lambda, w0, w, y, h]);
  return { peak, held };
}

s('memory: a tape keeping K steps peaks at the same bytes for T = 50 and T = 400; a full tape grows linearly', async () => {
  await iterate(3, 2); // compiles pipelines and fills the constant cache outside the measurement
  const K = 5;
  const kept50 = await iterate(50, K);
  const kept400 = await iterate(400, K);
  const full50 = await iterate(50);
  const full200 = await iterate(200);
  const full400 = await iterate(400);
  const stepBytes = (full400.held - full50.held) / 350;
  console.log(`      one step holds ${(stepBytes / 1024).toFixed(1)} KiB on a full tape; peak live bytes above the inputs:`);
  console.log(`      keepSteps ${K}: T = 50 ${kib(kept50.peak)}, T = 400 ${kib(kept400.peak)} (difference ${kib(kept400.peak - kept50.peak)})`);
  console.log(`      full tape:  T = 50 ${kib(full50.peak)}, T = 200 ${kib(full200.peak)}, T = 400 ${kib(full400.peak)}`);
  assert.ok(stepBytes > 16 * 1024, `a step should hold its activations (measured ${stepBytes} bytes)`);
  assert.ok(Math.abs(kept400.peak - kept50.peak) < stepBytes, `keepSteps ${K}: peak ${kept400.peak} at T = 400 vs ${kept50.peak} at T = 50 differ by a step (${stepBytes} bytes) or more`);
  assert.ok(Math.abs(kept400.held - kept50.held) < stepBytes, 'keepSteps: held bytes must not grow with T');
  // Linear growth: equal increments per step over [50, 200] and [200, 400], within 2%.
  const slopeA = (full200.peak - full50.peak) / 150;
  const slopeB = (full400.peak - full200.peak) / 200;
  assert.ok(Math.abs(slopeA - slopeB) < 0.02 * slopeB, `full tape: ${slopeA} bytes/step over [50, 200] vs ${slopeB} over [200, 400]`);
  assert.ok(Math.abs(slopeB - stepBytes) < 0.02 * stepBytes, `full tape: the peak grows by ${slopeB} bytes/step, the tape holds ${stepBytes}`);
  assert.ok(full400.peak > kept400.peak + 300 * stepBytes, 'the full tape at T = 400 holds hundreds of steps more');
});

function kib(b: number): string {
  return `${(b / 1024).toFixed(1)} KiB`;
}

s.run();
