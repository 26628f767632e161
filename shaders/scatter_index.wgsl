// The inverse of an index list, for the gather-sum (scatter-add) kernel: a stable counting sort
// of the J indices idx[i] in [0, D). After it, bucket k's members i (those with idx[i] == k)
// are order[start_k .. end_k) in increasing i, where end_k = ends[k * C + C - 1] and
// start_k = end_{k-1} (0 for k = 0). One workgroup does all of it, in three phases separated
// by barriers, so nothing depends on the order in which invocations run:
//   1. count: invocation c < C walks chunk c of the indices (i in [c chunk, (c + 1) chunk)) in
//      order and counts each bucket's members in ends[k * C + c] (its own entries: no atomics);
//   2. scan: an exclusive prefix sum over ends[0 .. C D) in (bucket, chunk) order, so
//      ends[k * C + c] becomes where chunk c's members of bucket k start;
//   3. fill: invocation c walks its chunk again in order and writes each i at its bucket's
//      cursor ends[k * C + c], which it advances; the cursor ends where the next region starts.
// An index outside [0, D) is skipped in both walks (so nothing is written for it) and recorded
// in `bad` (the engine's index-error block, read with the next readback, which then throws):
// [found, index, bound, op = 3 for scatterAdd].
{{PARAMS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> ends: array<u32>;
@group(0) @binding(2) var<storage, read_write> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> bad: array<atomic<u32>, 4>;
@group(0) @binding(4) var<storage, read> idx: array<i32>;

var<workgroup> partial: array<u32, {{WG}}>;

fn valid(k: i32) -> bool {
  return k >= 0 && u32(k) < p.D;
}

@compute @workgroup_size({{WG}})
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let c = lid.x;
  let first = c * p.chunk;
  let last = min(first + p.chunk, p.J);

  // 1. Counts of chunk c, in its own column of ends.
  if (c < p.C) {
    for (var k = 0u; k < p.D; k = k + 1u) {
      ends[k * p.C + c] = 0u;
    }
    for (var i = first; i < last; i = i + 1u) {
      let k = idx[i];
      if (valid(k)) {
        ends[u32(k) * p.C + c] = ends[u32(k) * p.C + c] + 1u;
      } else if (atomicMax(&bad[0], 1u) == 0u) {
        // The first invocation to find a bad index records it (atomicMax returns the old flag).
        atomicStore(&bad[1], bitcast<u32>(k));
        atomicStore(&bad[2], p.D);
        atomicStore(&bad[3], 3u);
      }
    }
  }
  storageBarrier();

  // 2. Exclusive scan of ends[0 .. M): invocation t owns the segment [t seg, (t + 1) seg).
  let s0 = min(c * p.seg, p.M);
  let s1 = min(s0 + p.seg, p.M);
  var total = 0u;
  for (var s = s0; s < s1; s = s + 1u) {
    total = total + ends[s];
  }
  partial[c] = total;
  workgroupBarrier();
  if (c == 0u) {
    var before = 0u;
    for (var t = 0u; t < {{WG}}u; t = t + 1u) {
      let v = partial[t];
      partial[t] = before;
      before = before + v;
    }
  }
  workgroupBarrier();
  var run = partial[c];
  for (var s = s0; s < s1; s = s + 1u) {
    let v = ends[s];
    ends[s] = run;
    run = run + v;
  }
  storageBarrier();

  // 3. Stable fill: chunk c's members of each bucket, in increasing i.
  if (c < p.C) {
    for (var i = first; i < last; i = i + 1u) {
      let k = idx[i];
      if (valid(k)) {
        let at = u32(k) * p.C + c;
        let slot = ends[at];
        if (slot < p.J) {
          order[slot] = i;
        }
        ends[at] = slot + 1u;
      }
    }
  }
}
