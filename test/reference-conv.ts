// Float64 references of the convolutional ops (src/ops/conv.ts, pool.ts, norm.ts), written from
// their definitions by multi-index loops, like test/reference.ts. NCHW throughout.
import { ref, size, type Ref } from './reference.js';

/** out[n, o, oy, ox] = sum_{c, ki, kj} w[o, c, ki, kj] x[n, c, oy sh + ki - ph, ox sw + kj - pw], x = 0 outside. */
export function conv2d(x: Ref, w: Ref, stride: [number, number], padding: [number, number]): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, , kh, kw] = w.shape as [number, number, number, number];
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  const out = new Float64Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
    let acc = 0;
    for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
      const y = oy * sh + ki - ph;
      const xx = ox * sw + kj - pw;
      if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
      acc += w.data[((o * C + c) * kh + ki) * kw + kj]! * x.data[((n * C + c) * H + y) * W + xx]!;
    }
    out[((n * O + o) * Ho + oy) * Wo + ox] = acc;
  }
  return ref(out, [N, O, Ho, Wo]);
}

/** Max over size x size windows `stride` apart; a NaN in a window makes its value NaN. */
export function maxPool2d(x: Ref, sz: number, stride: number): Ref {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const Ho = Math.floor((H - sz) / stride) + 1;
  const Wo = Math.floor((W - sz) / stride) + 1;
  const out = new Float64Array(N * C * Ho * Wo);
  for (let q = 0; q < N * C; q++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
    let m = -Infinity;
    for (let i = 0; i < sz; i++) for (let j = 0; j < sz; j++) {
      const v = x.data[(q * H + oy * stride + i) * W + ox * stride + j]!;
      m = Number.isNaN(m) || Number.isNaN(v) ? NaN : Math.max(m, v);
    }
    out[(q * Ho + oy) * Wo + ox] = m;
  }
  return ref(out, [N, C, Ho, Wo]);
}

/** (x - mean) / sqrt(var + eps) per channel (axis 1), over all other axes, biased variance. */
export function batchNorm(x: Ref, eps: number): Ref {
  const [N, C] = x.shape as [number, number];
  const inner = size(x.shape.slice(2));
  const out = new Float64Array(x.data.length);
  for (let c = 0; c < C; c++) {
    const at = (n: number, i: number) => (n * C + c) * inner + i;
    let mean = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < inner; i++) mean += x.data[at(n, i)]!;
    mean /= N * inner;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < inner; i++) v += (x.data[at(n, i)]! - mean) ** 2;
    v /= N * inner;
    for (let n = 0; n < N; n++) for (let i = 0; i < inner; i++) out[at(n, i)] = (x.data[at(n, i)]! - mean) / Math.sqrt(v + eps);
  }
  return ref(out, x.shape);
}
