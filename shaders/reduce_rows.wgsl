// Reduction of contiguous rows: [A, R] -> [A, C] partials, where workgroup (a, c) reduces the
// chunk r in [c * chunk, (c + 1) * chunk) with a tree in workgroup memory. Long rows are split
// into chunks so that a single huge reduction still spreads over many workgroups; the op layer
// calls this again on the partials until one value per row is left. When rows and chunks start on
// 16 bytes, x is read as vec4: CPU adapters pay per load, whatever its width. A fused prologue
// (an elementwise graph computed as it is read, src/ops/fusion/codegen.ts) is read through load(i).
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;

// Infinities cannot be WGSL constants; reading the bits from a variable makes them runtime values.
fn neg_inf() -> f32 {
  var b = 0xff800000u;
  return bitcast<f32>(b);
}

fn pos_inf() -> f32 {
  var b = 0x7f800000u;
  return bitcast<f32>(b);
}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
{{INPUT}}

var<workgroup> partial: array<f32, {{WG}}>;

@compute @workgroup_size({{WG}})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  let valid = w < p.A * p.C;
  let a = w / p.C;
  let c = w - a * p.C;
  let start = c * p.chunk;
  let stop = min(start + p.chunk, p.R);
  var acc: f32 = {{INIT}};
  if (valid) {
    let row = a * p.R;
{{LOOP}}
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var s: u32 = {{WG}}u / 2u; s > 0u; s = s >> 1u) {
    if (lid.x < s) {
      let v = partial[lid.x + s];
      var mine = partial[lid.x];
      {{COMBINE2}}
      partial[lid.x] = mine;
    }
    workgroupBarrier();
  }
  if (valid && lid.x == 0u) {
    out[w] = {{RESULT}};
  }
}
