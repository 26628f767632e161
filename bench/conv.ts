// conv2d on MAML's Omniglot shapes (N = 80 images; layer 1: 1 -> 64 channels at 28 x 28, layer 2:
// 64 -> 64 at 14 x 14; 3 x 3 kernels, stride 1, padding 1), next to the batched matmul that an
// im2col convolution runs, W [O, C 9] @ cols [N, C 9, H W], timed in alternation with it, so that
// the difference is the cost of making the patches. Also the backward pass (input and weight
// gradients: a transposed convolution and a correlation) and max-pooling and batch norm on the
// layer's output; and MAML's whole network on one small task. GFLOP/s count 2 N O C 9 H W per
// convolution.
import { add, batchNorm, conv2d, grad, hvp, logSoftmax, matmul, maxPool2d, mean, memory, mul, neg, oneHot, randomNormal, relu, reshape, sum, tensor, tidy, dispose, type Tensor } from '../src/node.js';
import { spread, timeTogether, time, type BenchRow, type BenchSection } from './util.js';

interface Layer {
  label: string;
  N: number;
  C: number;
  O: number;
  H: number;
}

const LAYERS: Layer[] = [
  { label: 'MAML layer 1: 80x1x28x28, 64 3x3 filters', N: 80, C: 1, O: 64, H: 28 },
  { label: 'MAML layer 2: 80x64x14x14, 64 3x3 filters', N: 80, C: 64, O: 64, H: 14 },
];

async function layerRows(l: Layer): Promise<BenchRow[]> {
  const x = randomNormal([l.N, l.C, l.H, l.H], { seed: 1 });
  const w = randomNormal([l.O, l.C, 3, 3], { seed: 2 });
  const [CK, L] = [l.C * 9, l.H * l.H];
  const w2 = randomNormal([l.O, CK], { seed: 3 });
  const cols = randomNormal([l.N, CK, L], { seed: 4 });
  const u = randomNormal([l.N, l.O, l.H, l.H], { seed: 5 });
  const flops = 2 * l.N * l.O * CK * L;
  const opts = { reps: 7, inner: 1 };
  const [tConv, tMatmul] = await timeTogether([() => conv2d(x, w, { padding: 1 }), () => matmul(w2, cols)], opts);
  const loss = (xx: Tensor, ww: Tensor) => sum(mul(conv2d(xx, ww, { padding: 1 }), u));
  const tBack = await time(() => grad(loss, { argnums: [0, 1] })(x, w) as Tensor[], { reps: 5 });
  const y = conv2d(x, w, { padding: 1 });
  const [tPool, tNorm] = await timeTogether([() => maxPool2d(y), () => batchNorm(y)], opts);
  const rows: BenchRow[] = [
    { name: `conv2d ${l.label}`, ms: tConv!.median, rate: flops / (tConv!.median * 1e6), unit: 'GFLOP/s', note: `im2col + matmul; ${spread(tConv!)}` },
    { name: `  matmul ${l.O}x${CK} @ ${l.N}x${CK}x${L} (its im2col product)`, ms: tMatmul!.median, rate: flops / (tMatmul!.median * 1e6), unit: 'GFLOP/s', note: spread(tMatmul!) },
    { name: '  conv2d forward + both gradients', ms: tBack.median, rate: (3 * flops) / (tBack.median * 1e6), unit: 'GFLOP/s', note: `3 products; ${spread(tBack)}` },
    { name: `  maxPool2d 2x2 of [${y.shape}]`, ms: tPool!.median, rate: (4 * y.size * 1.25) / (tPool!.median * 1e6), unit: 'GB/s', note: spread(tPool!) },
    { name: `  batchNorm of [${y.shape}]`, ms: tNorm!.median, rate: (4 * y.size * 2) / (tNorm!.median * 1e6), unit: 'GB/s', note: `a composition of 8 ops; ${spread(tNorm!)}` },
  ];
  dispose([x, w, w2, cols, u, y]);
  return rows;
}

/**
 * MAML's network on one 5-way one-shot task (5 images of 28 x 28): four blocks of 3 x 3
 * convolution with 64 filters (padding 1), batchNorm, relu and 2 x 2 max-pooling (28 -> 14 -> 7
 * -> 3 -> 1), then a linear 5-way output and the cross-entropy. Times one gradient (an inner
 * step) and one Hessian-vector product (what each step walked back in K-RMD costs, roughly).
 */
async function mamlRows(): Promise<BenchRow[]> {
  const images = randomNormal([5, 1, 28, 28], { seed: 11 });
  const labels = tensor(new Int32Array([0, 1, 2, 3, 4]), [5], 'i32');
  const Y = oneHot(labels, 5);
  const params = [
    randomNormal([64, 1, 3, 3], { seed: 12, std: 0.3 }),
    ...[13, 14, 15].map((seed) => randomNormal([64, 64, 3, 3], { seed, std: 0.05 })),
    randomNormal([64, 5], { seed: 16, std: 0.1 }),
  ];
  const loss = (...ws: Tensor[]): Tensor => {
    let h = images;
    for (let b = 0; b < 4; b++) h = maxPool2d(relu(batchNorm(conv2d(h, ws[b]!, { padding: 1 }))));
    const logits = matmul(reshape(h, [5, 64]), ws[4]!);
    return neg(mean(sum(mul(logSoftmax(logits), Y), 1)));
  };
  const argnums = [0, 1, 2, 3, 4];
  const g = () => grad(loss, { argnums })(...params) as Tensor[];
  const w3 = (v: Tensor) => (x: Tensor) => loss(params[0]!, params[1]!, x, params[3]!, params[4]!);
  const v = randomNormal(params[2]!.shape, { seed: 17 });
  const hv = () => hvp(w3(v), params[2]!, v);
  const dispatches = (fn: () => unknown) => {
    const before = memory().dispatches;
    tidy(() => fn()); // returned: pending results are computed
    return memory().dispatches - before;
  };
  const [dG, dH] = [dispatches(g), dispatches(hv)];
  const [tG, tH] = await timeTogether([g, hv], { reps: 7 });
  dispose([images, labels, Y, params, v]);
  return [
    { name: 'MAML net, 5 images: loss + gradient (4 conv blocks)', ms: tG!.median, note: `${dG} dispatches; ${spread(tG!)}` },
    { name: 'MAML net, 5 images: hvp in block 3 weights', ms: tH!.median, note: `${dH} dispatches; ${spread(tH!)}` },
  ];
}

export const conv: BenchSection = {
  name: 'conv',
  async run() {
    const rows: BenchRow[] = [];
    for (const l of LAYERS) rows.push(...(await layerRows(l)));
    rows.push(...(await mamlRows()));
    return rows;
  },
};
