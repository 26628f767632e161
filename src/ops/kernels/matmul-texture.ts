// The matmul kernels that read A from a texture copy (shaders/matmul_texture.wgsl), for CPU
// adapters: the 'texture' variant of src/ops/kernels/matmul.ts. Which products qualify, the two
// kernel forms, and their launch. Nothing here knows about autodiff.
import matmulTextureSrc from '../../../shaders/matmul_texture.wgsl';
import type { Kernel } from '../../gpu/engine.js';
import { kernel, memoKernel } from './template.js';
import { epiKey, matmulKernel, matmulParams, sharedB, storeRow, type EpilogueLaunch } from './matmul.js';
import { textureFits } from './matrix-texture.js';

/**
 * Rows of C per invocation in the rows form. On lavapipe, 5000x785 by 785x10, CPU ms: 4 rows
 * 8.9-9.8, 8 rows 4.6-5.1, 12 rows 3.9-4.2, 16 rows 4.1-4.3 (three runs each, interleaved).
 */
const TEX_R = 12;
/** Values of k per loop iteration in the columns form (X^T G, CPU ms: 1: 9.3, 2: 5.3-5.6, 3: 5.0-5.2, 4: 4.8-5.1). */
const TEX_U = 4;

/**
 * How a product as the rows kernels see it (C = op(A) op(B), M rows, N <= 16 columns; `a` with
 * its strides) reads A from a texture: 'rows' when op(A) is the matrix P = [M, K] stored in A's
 * buffer (aCol 1, aRow K), 'columns' when op(A) = P^T with P = [K, M] (aRow 1, aCol M); null
 * when A is read otherwise (batched, strided) or P does not fit a texture.
 */
export interface TextureForm {
  form: 'rows' | 'columns';
  /** The stored matrix P: rows and columns. */
  rows: number;
  cols: number;
}

export function textureForm(p: { M: number; K: number; batch: number; aBatch: number; aRow: number; aCol: number }): TextureForm | null {
  if (p.batch !== 1 && p.aBatch !== 0) return null;
  const f: TextureForm | null = p.aCol === 1 && p.aRow === p.K ? { form: 'rows', rows: p.M, cols: p.K }
    : p.aRow === 1 && p.aCol === p.M ? { form: 'columns', rows: p.K, cols: p.M } : null;
  return f && textureFits(f.rows, f.cols) ? f : null;
}

/** The workgroups of the texture kernel for M rows of C (grid x; y is the batch). */
export function textureGroups(f: TextureForm, M: number, lanes: number): number {
  return f.form === 'rows' ? Math.ceil(M / (lanes * TEX_R)) : Math.ceil(Math.ceil(M / 4) / lanes);
}

/** The texture kernel of this form for N columns, B shared across `lanes` invocations. */
export function textureKernel(form: 'rows' | 'columns', N: number, lanes: number, epi?: EpilogueLaunch): Kernel {
  return memoKernel(`matmulTexture|${form}|${N}|${lanes}|${epiKey(epi)}`, () => {
    const body = form === 'rows' ? rowsBody(N, lanes) : columnsBody(N, lanes);
    return matmulKernel(kernel(matmulTextureSrc, { MATMUL_PARAMS: matmulParams('f32', epi, true), WG: lanes, FORM: form, R: TEX_R, BODY: body }), epi, true);
  });
}

/** The rows form: TEX_R rows per invocation, a texel of each per 4 values of k (B zero past K). */
function rowsBody(N: number, lanes: number): string {
  const R = TEX_R;
  const L: string[] = [`  let base = wid.x * ${lanes * R}u + li;`];
  for (let i = 0; i < R; i++) L.push(`  let r${i} = min(base + ${i * lanes}u, p.M - 1u);`);
  for (let i = 0; i < R; i++) for (let j = 0; j < N; j++) L.push(`  var c${i}_${j} = 0.0;`);
  L.push('  for (var k4 = 0u; k4 < (p.K + 3u) / 4u; k4 = k4 + 1u) {');
  for (let i = 0; i < R; i++) L.push(`    let a${i} = textureLoad(a, vec2<u32>(k4, r${i}), 0);`);
  // Past K the texel holds zeros and B's values are 0 too (not B's last row: 0 * inf is NaN).
  for (let q = 0; q < 4; q++) L.push(...sharedB(`b${q}_`, `4u * k4 + ${q}u`, N, lanes, q === 0 ? null : `4u * k4 + ${q}u < p.K`));
  for (let i = 0; i < R; i++) {
    for (let j = 0; j < N; j++) L.push(`    c${i}_${j} = c${i}_${j} + ${[0, 1, 2, 3].map((q) => `a${i}[${q}] * b${q}_${j}`).join(' + ')};`);
  }
  L.push('  }');
  for (let i = 0; i < R; i++) L.push(...storeRow(`base + ${i * lanes}u`, N, (j) => `c${i}_${j}`));
  return L.join('\n');
}

/** The columns form: the 4 rows of C in one texel column, one texel per value of k. */
function columnsBody(N: number, lanes: number): string {
  const L: string[] = [
    `  let t = wid.x * ${lanes}u + li;`,
    '  let tc = min(t, (p.M + 3u) / 4u - 1u);',
  ];
  for (let j = 0; j < N; j++) L.push(`  var c${j} = vec4<f32>(0.0);`);
  const step = (ks: string[]): void => {
    ks.forEach((k, u) => {
      L.push(`    let a${u} = textureLoad(a, vec2<u32>(tc, ${k}), 0);`);
      L.push(...sharedB(`b${u}_`, k, N, lanes));
    });
    for (let j = 0; j < N; j++) L.push(`    c${j} = c${j} + ${ks.map((_, u) => `a${u} * b${u}_${j}`).join(' + ')};`);
  };
  L.push('  var k = 0u;', `  for (; k + ${TEX_U}u <= p.K; k = k + ${TEX_U}u) {`);
  step(Array.from({ length: TEX_U }, (_, u) => `k + ${u}u`));
  L.push('  }', '  for (; k < p.K; k = k + 1u) {');
  step(['k']);
  L.push('  }');
  for (let q = 0; q < 4; q++) L.push(...storeRow(`4u * t + ${q}u`, N, (j) => `c${j}[${q}]`));
  return L.join('\n');
}
