// Run by test/fallback.test.ts in a child process (HYPERTAPE_BACKEND picks the backend): a few
// kernels of each family and a gradient, on the built library (dist/), against values computed
// here in float64. Prints one JSON line and exits by itself (no process.exit: an engine that kept
// the process alive would show up as a timeout in the test).
const ht = await import(new URL('../dist/node.js', import.meta.url).href);

await ht.init();
const adapter = ht.engine().adapter;
const checks = [];

/** Deterministic test values in [-1, 1), rounded to f32. */
function values(n, seed) {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return Math.fround((a / 2 ** 32) * 2 - 1);
  });
}

/** Largest |got - want| / (1 + |want|). */
function error(got, want) {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return got.length === want.length ? worst : Infinity;
}

async function check(name, tensor, want, tol) {
  const got = await tensor.data();
  checks.push({ name, error: error(got, want), tol });
}

function matmulRef(a, b, M, K, N, transA = false, transB = false) {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[transA ? k * M + i : i * K + k] * b[transB ? j * K + k : k * N + j];
    out[i * N + j] = s;
  }
  return out;
}

// Elementwise with broadcasting, 17 x 59 (not a multiple of 4 or of the workgroup size).
const xs = values(17 * 59, 1);
const rowv = values(59, 2);
const x = ht.tensor(xs, [17, 59]);
const row = ht.tensor(rowv, [59]);
await check('elementwise: x * 2 + exp(-row)', ht.add(ht.mul(x, 2), ht.exp(ht.neg(row))),
  Float64Array.from(xs, (v, i) => 2 * v + Math.exp(-rowv[i % 59])), 1e-6);
await check('elementwise: sigmoid(x)', ht.sigmoid(x), Float64Array.from(xs, (v) => 1 / (1 + Math.exp(-v))), 1e-6);

// Reductions: a short axis, a long row (the tree path), max, logsumexp.
const sums = new Float64Array(17);
xs.forEach((v, i) => (sums[Math.floor(i / 59)] += v));
await check('reduction: sum over axis 1', ht.sum(x, 1), sums, 1e-5);
const longv = values(3 * 3001, 3);
const long = ht.tensor(longv, [3, 3001]);
const longSums = [0, 1, 2].map((r) => longv.slice(r * 3001, (r + 1) * 3001).reduce((p, q) => p + q, 0));
await check('reduction: sum of rows of 3001', ht.sum(long, 1), longSums, 1e-4);
const maxes = [0, 1, 2].map((r) => Math.max(...longv.slice(r * 3001, (r + 1) * 3001)));
await check('reduction: max of rows of 3001', ht.max(long, 1), maxes, 0);
const lse = [0, 1, 2].map((r) => Math.log(longv.slice(r * 3001, (r + 1) * 3001).reduce((p, q) => p + Math.exp(q), 0)));
await check('reduction: logsumexp of rows of 3001', ht.logsumexp(long, 1), lse, 1e-5);

// Matmul: every kernel variant, with and without transposes, on a skinny shape (N = 10) and a
// square-ish one.
for (const variant of ht.matmulVariants()) {
  ht.forceMatmulVariant(variant);
  for (const [M, K, N] of [[300, 70, 10], [45, 33, 37]]) {
    const av = values(M * K, M + K);
    const bv = values(K * N, K + N);
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      const a = ht.tensor(av, transA ? [K, M] : [M, K]);
      const b = ht.tensor(bv, transB ? [N, K] : [K, N]);
      await check(`matmul ${M}x${K} @ ${K}x${N} (${variant}${transA ? ', transA' : ''}${transB ? ', transB' : ''})`,
        ht.matmul(a, b, { transA, transB }), matmulRef(av, bv, M, K, N, transA, transB), 1e-5);
    }
  }
  ht.forceMatmulVariant(null);
}

// A gradient: d/dw sum(logSigmoid(X w)) = X^T (1 - sigmoid(X w)).
const Xv = values(40 * 7, 4);
const wv = values(7, 5);
const X = ht.tensor(Xv, [40, 7]);
const w = ht.tensor(wv, [7, 1]);
const z = matmulRef(Xv, wv, 40, 7, 1);
const dz = Float64Array.from(z, (v) => 1 - 1 / (1 + Math.exp(-v)));
await check('gradient of sum(logSigmoid(X w))', ht.grad((w) => ht.sum(ht.logSigmoid(ht.matmul(X, w))))(w), matmulRef(Xv, dz, 7, 40, 1, true), 1e-5);

// A lost device: the next operation throws, it does not hang.
let lost = null;
ht.engine().device.destroy();
await ht.engine().device.lost;
try {
  ht.add(x, 1);
  lost = { threw: false };
} catch (e) {
  lost = { threw: true, message: e.message };
}

console.log(JSON.stringify({ adapter, checks, lost }));
