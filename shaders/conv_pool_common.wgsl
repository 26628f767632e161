// What the max-pooling kernels share: the parameters, the bindings (the output; `data`, the
// values picked or routed; `key`, the tensor whose window maxima decide) and the window argmax.
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> data: array<f32>;
@group(0) @binding(3) var<storage, read> key: array<f32>;

// Windows are {{SIZE}} x {{SIZE}} (a constant of the kernel, so that the loops unroll), `stride`
// apart, with no padding. Ties go to the first maximum in row-major order; a NaN beats every number and
// the first NaN wins, so NaN propagates through the pooled value.
fn is_nan(v: f32) -> bool {
  // By its bits: WGSL lets compilers assume that float comparisons never see NaN.
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// The index, within a plane of H x W starting at key[kbase], of window (oy, ox)'s maximum.
fn window_argmax(kbase: u32, oy: u32, ox: u32) -> u32 {
  let y0 = oy * p.stride;
  let x0 = ox * p.stride;
  var best = y0 * p.W + x0;
  var bv = key[kbase + best];
  for (var i = 0u; i < {{SIZE}}u; i = i + 1u) {
    for (var j = 0u; j < {{SIZE}}u; j = j + 1u) {
      let at = (y0 + i) * p.W + x0 + j;
      let v = key[kbase + at];
      if (!is_nan(bv) && (is_nan(v) || v > bv)) {
        bv = v;
        best = at;
      }
    }
  }
  return best;
}
