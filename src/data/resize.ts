// Image resizing by area averaging (a box filter with exact fractional coverage): each target
// pixel is the mean of the source over the rectangle it covers, source pixels cut by the
// rectangle's edges counting with the fraction of their area inside it. Omniglot's 105x105 images
// go to 28x28 this way: each target pixel covers 3.75 x 3.75 source pixels. Pure (no platform APIs).

/** For each of `to` target cells along one axis of length `from`: the source indices it overlaps and their coverage weights (summing to 1). */
export function areaWeights(from: number, to: number): { index: number[]; weight: number[] }[] {
  const scale = from / to;
  const out: { index: number[]; weight: number[] }[] = [];
  for (let t = 0; t < to; t++) {
    const lo = t * scale;
    const hi = (t + 1) * scale;
    const index: number[] = [];
    const weight: number[] = [];
    for (let c = Math.floor(lo); c < Math.min(from, Math.ceil(hi)); c++) {
      const w = Math.min(c + 1, hi) - Math.max(c, lo);
      if (w > 0) {
        index.push(c);
        weight.push(w / scale);
      }
    }
    out.push({ index, weight });
  }
  return out;
}

/**
 * Resizes a one-channel image `src` ([height, width] row-major) to [outHeight, outWidth] by area
 * averaging; separable (rows, then columns), accumulated in float64. Works for shrinking and
 * enlarging and any ratio.
 */
export function resizeArea(src: ArrayLike<number>, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  if (src.length !== height * width) throw new Error(`resizeArea: ${src.length} values for a ${height}x${width} image`);
  if (!(outHeight >= 1 && outWidth >= 1 && Number.isInteger(outHeight) && Number.isInteger(outWidth))) {
    throw new Error(`resizeArea: target size ${outHeight}x${outWidth} must be positive integers`);
  }
  const wx = areaWeights(width, outWidth);
  const wy = areaWeights(height, outHeight);
  // Horizontal pass: [height, outWidth].
  const mid = new Float64Array(height * outWidth);
  for (let r = 0; r < height; r++) {
    for (let t = 0; t < outWidth; t++) {
      const { index, weight } = wx[t]!;
      let acc = 0;
      for (let k = 0; k < index.length; k++) acc += weight[k]! * src[r * width + index[k]!]!;
      mid[r * outWidth + t] = acc;
    }
  }
  // Vertical pass: [outHeight, outWidth].
  const out = new Float32Array(outHeight * outWidth);
  for (let t = 0; t < outHeight; t++) {
    const { index, weight } = wy[t]!;
    for (let c = 0; c < outWidth; c++) {
      let acc = 0;
      for (let k = 0; k < index.length; k++) acc += weight[k]! * mid[index[k]! * outWidth + c]!;
      out[t * outWidth + c] = acc;
    }
  }
  return out;
}

/** A square [n, n] image rotated counterclockwise by `quarterTurns` x 90 degrees (numpy's rot90 and tf.image.rot90 convention). */
export function rotateSquare(src: Float32Array, n: number, quarterTurns: number): Float32Array {
  const q = ((quarterTurns % 4) + 4) % 4;
  let cur = src;
  for (let step = 0; step < q; step++) {
    const next = new Float32Array(n * n);
    // One counterclockwise quarter turn: out[i][j] = in[j][n - 1 - i].
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) next[i * n + j] = cur[j * n + (n - 1 - i)]!;
    cur = next;
  }
  return q === 0 ? Float32Array.from(src) : cur;
}
