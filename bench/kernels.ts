// The engine's kernels against the targets: matmul shapes from the hypercleaning model
// and its gradient, square matmuls, elementwise and reduction bandwidth, and the fixed cost of a
// small dispatch, with a plain buffer copy on the same adapter as the yardstick.
import { add, arange, engine, exp, gather, matmul, matmulVariant, matmulVariants, forceMatmulVariant, oneHot, randomNormal, sum, tensor, sync, dispose, type Tensor } from '../src/node.js';
import { copier, copyGBps, median, spread, time, type BenchRow, type BenchSection, type Timing } from './util.js';

interface MatmulCase {
  /** As the issue writes it: MxK x KxN. */
  label: string;
  /** Stored operand shapes and flags (the gradient's partners read their operands transposed). */
  a: [number, number];
  b: [number, number];
  transA?: boolean;
  transB?: boolean;
  target?: 'copy5x' | 'gflops5';
}

const MATMULS: MatmulCase[] = [
  { label: '5000x785 x 785x10', a: [5000, 785], b: [785, 10], target: 'copy5x' },
  // The gradient of X W with X 5000x785: dW = X^T g and dX = g W^T; the 10x5000 x 5000x785
  // is g^T X, the same product for a model stored as W^T.
  { label: '10x5000 x 5000x785 (g^T X)', a: [5000, 10], b: [5000, 785], transA: true },
  { label: '785x5000 x 5000x10 (X^T g)', a: [5000, 785], b: [5000, 10], transA: true },
  { label: '5000x10 x 10x785 (g W^T)', a: [5000, 10], b: [785, 10], transB: true },
  { label: '1000x576 x 576x64', a: [1000, 576], b: [576, 64] },
  { label: '512x512 x 512x512', a: [512, 512], b: [512, 512] },
  { label: '1024x1024 x 1024x1024', a: [1024, 1024], b: [1024, 1024], target: 'gflops5' },
];

function dims(c: MatmulCase): { M: number; K: number; N: number } {
  const M = c.transA ? c.a[1] : c.a[0];
  const K = c.transA ? c.a[0] : c.a[1];
  const N = c.transB ? c.b[0] : c.b[1];
  return { M, K, N };
}

/**
 * Median process CPU time (every thread: Dawn's, lavapipe's) of one call of `fn`, in ms: a second
 * opinion next to the wall time on a shared machine, where the wall time also counts the waits
 * for a CPU that other processes hold.
 */
async function cpuMs(fn: () => Tensor, reps = 9): Promise<number> {
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    await sync();
    const c0 = process.cpuUsage();
    const out = fn().realise(); // a matmul is pending until something needs it
    await sync();
    const c = process.cpuUsage(c0);
    out.dispose();
    xs.push((c.user + c.system) / 1000);
  }
  return median(xs);
}

async function matmulRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of MATMULS) {
    const { M, K, N } = dims(c);
    const a = randomNormal(c.a, { seed: 1 });
    const b = randomNormal(c.b, { seed: 2 });
    const bytes = 4 * (M * K + K * N + M * N);
    // The copies are timed after the matmul, not in alternation with it: on this VM a large copy
    // seemed to leave the next kernels slower for a while (once measured on a quiet machine: a 16M
    // add took 61 ms right after a 64 MB copy and 14 ms on its own).
    const copyAll = copier(bytes);
    const copyInput = copier(4 * M * K);
    const t = await time(() => matmul(a, b, { transA: c.transA, transB: c.transB }), { reps: 9, inner: M * N * K < 1e8 ? 4 : 1 });
    const cpu = await cpuMs(() => matmul(a, b, { transA: c.transA, transB: c.transB }));
    const [copy, readInput] = [await time(copyAll.run, { reps: 9 }), await time(copyInput.run, { reps: 9 })];
    const row: BenchRow = {
      name: `matmul ${c.label}`,
      ms: t.median,
      rate: (2 * M * N * K) / (t.median * 1e6),
      unit: 'GFLOP/s',
      ofCopy: bytes / (t.median * 1e6) / copyGBps(bytes, copy),
      note: `${variantOf(a, b, c)}; ${spread(t!)}; ${cpu.toFixed(1)} cpu ms`,
    };
    if (c.target === 'copy5x') {
      row.target = `<= 5x copy of ${(4 * M * K / 1e6).toFixed(1)} MB (5 x ${readInput.median.toFixed(2)} ms)`;
      row.met = t.median <= 5 * readInput.median;
    }
    if (c.target === 'gflops5') {
      row.target = '>= 5 GFLOP/s';
      row.met = row.rate! >= 5;
    }
    rows.push(row);
    copyAll.free();
    copyInput.free();
    dispose([a, b]);
  }
  return rows;
}

/**
 * The kernel the automatic choice gives this product: 'rows' on CPU adapters reads A from its
 * texture copy from A's eighth read on (src/ops/kernels/matrix-texture.ts), which the timed
 * repetitions pass.
 */
function variantOf(a: Tensor, b: Tensor, c: MatmulCase): string {
  const v = automaticVariant(a, b, c);
  return v === 'rows' && engine().adapter.software ? 'rows, then texture (A from its copy once read often)' : v;
}

function automaticVariant(a: Tensor, b: Tensor, c: MatmulCase): string {
  const { M, K, N } = dims(c);
  return matmulVariant({
    M, N, K, batch: 1, aBatch: 0, bBatch: 0,
    aRow: c.transA ? 1 : a.shape[1]!, aCol: c.transA ? a.shape[1]! : 1,
    bRow: c.transB ? 1 : b.shape[1]!, bCol: c.transB ? b.shape[1]! : 1,
  });
}

async function bandwidthRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1 << 20, 1 << 24]) {
    const label = n === 1 << 20 ? '1M' : '16M';
    const x = randomNormal([n], { seed: 3 });
    const y = randomNormal([n], { seed: 4 });
    const copy = copier(4 * n);
    // gather and oneHot check every index on the GPU (the out-of-range report of issue 13).
    const idx = arange(n - 1, -1, -1, 'i32');
    const labels = tensor(Int32Array.from({ length: n / 16 }, (_, i) => i % 16));
    const ops: [string, () => unknown, number, string][] = [
      ['add', () => add(x, y), 12 * n, '2 reads + 1 write'],
      ['exp', () => exp(x), 8 * n, '1 read + 1 write'],
      ['sum', () => sum(x), 4 * n, 'reads only'],
      ['gather', () => gather(x, idx), 12 * n, 'index + value read, 1 write; indices checked'],
      ['oneHot (depth 16)', () => oneHot(labels, 16), 4 * n + n / 4, 'n/16 labels read, n written; labels checked'],
    ];
    const opts = { inner: n < 4e6 ? 8 : 1, reps: 11 };
    const ts: Timing[] = [];
    for (const op of ops) ts.push(await time(op[1] as () => void, opts));
    const tCopy = await time(copy.run, opts); // after the ops: see matmulRows
    const copyRate = copyGBps(4 * n, tCopy);
    rows.push({ name: `copy ${label} floats`, ms: tCopy.median, rate: copyRate, unit: 'GB/s', ofCopy: 1, note: `engine().copy; read + write; ${spread(tCopy)}` });
    ops.forEach(([name, , bytes, what], i) => {
      const t = ts[i]!;
      const rate = bytes / (t.median * 1e6);
      const row: BenchRow = { name: `${name} ${label} floats`, ms: t.median, rate, unit: 'GB/s', ofCopy: rate / copyRate, note: `${what}; ${spread(t)}` };
      if (name === 'add') {
        row.target = '>= 50% of copy';
        row.met = rate / copyRate >= 0.5;
      }
      rows.push(row);
    });
    copy.free();
    dispose([x, y, idx, labels]);
  }
  return rows;
}

async function dispatchRow(): Promise<BenchRow> {
  // A chain of dependent small adds, as an optimizer loop issues them; each call is one dispatch.
  const a = tensor(new Float32Array(64).fill(1));
  const b = tensor(new Float32Array(64).fill(2));
  const count = 2000;
  const t = await time(() => add(a, b), { inner: count, reps: 7 });
  dispose([a, b]);
  await sync();
  const us = t.median * 1000;
  return {
    name: 'small dispatch (add of 64 floats) in a batch', ms: t.median, rate: us, unit: 'us',
    target: '< 40 us', met: us < 40, note: `${count} per repetition; ${spread(t)}`,
  };
}

/** Every kernel variant forced on three shapes, to show what the automatic choice rests on. */
async function variantRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of [MATMULS[0]!, MATMULS[4]!, MATMULS[6]!]) {
    const { M, K, N } = dims(c);
    const a = randomNormal(c.a, { seed: 1 });
    const b = randomNormal(c.b, { seed: 2 });
    const chosen = automaticVariant(a, b, c);
    for (const v of matmulVariants()) {
      if (((v === 'rows' || v === 'texture') && N > 16 && M > 16) || (v === 'splitk' && N > 16)) continue; // not for this shape
      forceMatmulVariant(v);
      try {
        const t = await time(() => matmul(a, b, { transA: c.transA, transB: c.transB }), { reps: 3, warmup: 1 });
        rows.push({
          name: `  ${c.label} forced ${v}`, ms: t.median, rate: (2 * M * N * K) / (t.median * 1e6), unit: 'GFLOP/s',
          note: `${v === chosen ? 'the automatic choice; ' : ''}${v === 'texture' && chosen === 'rows' && engine().adapter.software ? 'the automatic choice once A has been read often; ' : ''}${spread(t)}`,
        });
      } finally {
        forceMatmulVariant(null);
      }
    }
    dispose([a, b]);
  }
  return rows;
}

/**
 * What a load costs a CPU adapter (docs/methods.md section 3, "What a load costs on lavapipe"):
 * each probe reads the same 5000 x 788 floats once, a row per invocation, and sums them; timed
 * in alternation, in wall time and in process CPU time (all threads: Dawn's, lavapipe's).
 */
async function loadCostRows(): Promise<BenchRow[]> {
  const device = engine().device;
  const M = 5000;
  const K4 = 197;
  const K = 4 * K4;
  const values = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
  const src = device.createBuffer({ size: values.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(src, 0, values);
  const tex = device.createTexture({ size: [K4, M], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  device.queue.writeTexture({ texture: tex }, values, { bytesPerRow: 16 * K4 }, [K4, M]);
  const out = device.createBuffer({ size: 4 * 8 * M, usage: GPUBufferUsage.STORAGE });
  const head = (x: string) => `@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@group(0) @binding(1) ${x};\n`;
  const row = `let r = min(g.x, ${M - 1}u);`;
  const probes: [string, string, number, string][] = [
    ['f32, address per invocation', `${head('var<storage, read> x: array<f32>')}@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${row} var s = 0.0; for (var k = 0u; k < ${K}u; k++) { s += x[r * ${K}u + k]; } o[g.x] = s; }`, M, 'each invocation its own row: the rows kernels\' loads of A'],
    ['vec4<f32>, address per invocation', `${head('var<storage, read> x: array<vec4<f32>>')}@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${row} var s = vec4<f32>(0.0); for (var k = 0u; k < ${K4}u; k++) { s += x[r * ${K4}u + k]; } o[g.x] = s.x + s.y + s.z + s.w; }`, M, 'rows padded to a multiple of 4'],
    ['f32, one address per workgroup', `${head('var<storage, read> x: array<f32>')}@compute @workgroup_size(8) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  var s = 0.0; for (var k = 0u; k < ${K}u; k++) { s += x[w.x * ${K}u + k]; } o[w.x * 8u + l] = s; }`, 8 * M, 'uniform address inside a loop; 8 invocations per row, so 8x the loads'],
    ['textureLoad rgba32float', `${head('var x: texture_2d<f32>')}@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${row} var s = vec4<f32>(0.0); for (var k = 0u; k < ${K4}u; k++) { s += textureLoad(x, vec2<u32>(k, r), 0); } o[g.x] = s.x + s.y + s.z + s.w; }`, M, 'the same values as a 197 x 5000 texture'],
  ];
  const runs = probes.map(([name, code, invocations, note]) => {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: name.startsWith('texture') ? tex.createView() : { buffer: src } }],
    });
    const run = async () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(invocations / 8));
      pass.end();
      device.queue.submit([enc.finish()]);
      await sync(); // waits for the queue, this submission included, without spinning the thread
    };
    return { name, note, run, wall: [] as number[], cpu: [] as number[] };
  });
  await sync();
  for (const r of runs) for (let i = 0; i < 2; i++) await r.run();
  for (let rep = 0; rep < 15; rep++) {
    for (const r of runs) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await r.run();
      const c = process.cpuUsage(c0);
      r.wall.push(performance.now() - t0);
      r.cpu.push((c.user + c.system) / 1000);
    }
  }
  src.destroy();
  out.destroy();
  tex.destroy();
  const base = median(runs[0]!.cpu);
  return runs.map((r) => {
    const cpu = median(r.cpu);
    return {
      name: `load cost: ${r.name}`, ms: median(r.wall), rate: (cpu * 1e6) / (M * K), unit: 'cpu ns/value',
      note: `${r.note}; ${cpu.toFixed(2)} cpu ms, x${(base / cpu).toFixed(2)} the first row's; 15 reps`,
    };
  });
}

export const kernels: BenchSection = {
  name: 'kernels',
  async run() {
    return [...(await matmulRows()), ...(await bandwidthRows()), await dispatchRow(), ...(await variantRows()), ...(await loadCostRows())];
  },
};
