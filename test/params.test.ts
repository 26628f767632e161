// Kernel parameter blocks declared once (src/ops/kernels/params.ts): the WGSL struct and the
// packing agree on order and padding, and values a field cannot hold are refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { empty } from '../src/node.js';
import { paramLayout, type ParamType } from '../src/ops/kernels/params.js';
import { kernel } from '../src/ops/kernels/template.js';
import { setup } from './helpers.js';

const s = suite('params');
s.before(setup);

/**
 * Byte offsets and size by WGSL's rules for the uniform address space, written out here apart
 * from params.ts: scalars align to 4 (size 4), vec4 to 16 (size 16), array<vec4<T>, N> to 16
 * (stride 16, size 16 N); a struct's size is rounded up to its alignment, and a uniform buffer
 * binding here to 16 bytes.
 */
function wgslLayout(fields: Record<string, ParamType>): { offsets: Record<string, number>; bytes: number } {
  const offsets: Record<string, number> = {};
  let end = 0;
  for (const [name, type] of Object.entries(fields)) {
    const arr = /^array<vec4<\w+>, (\d+)>$/.exec(type);
    const [align, size] = arr ? [16, 16 * Number(arr[1])] : type.startsWith('vec4') ? [16, 16] : [4, 4];
    const at = Math.ceil(end / align) * align;
    offsets[name] = at;
    end = at + size;
  }
  return { offsets, bytes: Math.max(16, Math.ceil(end / 16) * 16) };
}

s('the struct lists the fields in order, padded to 16 bytes; pack writes each at its offset', () => {
  const P = paramLayout({ n: 'u32', shift: 'i32', scale: 'f32', m: 'u32', k: 'u32' });
  assert.is(P.wgsl, 'struct Params {\n  n: u32,\n  shift: i32,\n  scale: f32,\n  m: u32,\n  k: u32,\n  _pad0: u32,\n  _pad1: u32,\n  _pad2: u32,\n}');
  assert.is(P.bytes, 32);
  const buf = P.pack({ n: 7, shift: -3, scale: 0.5, m: 2 ** 32 - 1, k: 0 });
  assert.is(buf.byteLength, 32);
  assert.equal(Array.from(new Uint32Array(buf, 0, 1)), [7]);
  assert.equal(Array.from(new Int32Array(buf, 4, 1)), [-3]);
  assert.equal(Array.from(new Float32Array(buf, 8, 1)), [0.5]);
  assert.equal(Array.from(new Uint32Array(buf, 12, 2)), [2 ** 32 - 1, 0]);
});

s('a value its field cannot hold, or a missing one, is refused with the field named', () => {
  const P = paramLayout({ n: 'u32', shift: 'i32' });
  assert.throws(() => P.pack({ n: -1, shift: 0 }), /'n' = -1 does not fit u32/);
  assert.throws(() => P.pack({ n: 1.5, shift: 0 }), /'n' = 1.5 does not fit u32/);
  assert.throws(() => P.pack({ n: 1, shift: 2 ** 31 }), /'shift' = 2147483648 does not fit i32/);
  assert.throws(() => P.pack({ n: 1 } as unknown as { n: number; shift: number }), /'shift' is undefined/);
});

s('vec4s and arrays of vec4 align to 16 bytes, as WGSL lays out uniform structs', () => {
  const decls: Record<string, ParamType>[] = [
    { n: 'u32', shape: 'array<vec4<u32>, 2>', scale: 'f32' },
    { a: 'f32', b: 'i32', c: 'u32', v: 'vec4<f32>', k: 'u32' },
    { strides: 'array<vec4<i32>, 3>', offsets: 'vec4<u32>', n: 'u32', m: 'u32', q: 'u32', r: 'u32', t: 'u32' },
    { x: 'u32', y: 'u32', z: 'u32', w: 'u32', v: 'vec4<u32>' },
  ];
  for (const d of decls) {
    const P = paramLayout(d);
    const want = wgslLayout(d);
    assert.equal(P.offsets, want.offsets, `offsets of ${JSON.stringify(d)}`);
    assert.is(P.bytes, want.bytes, `size of ${JSON.stringify(d)}`);
    assert.is(P.pack(Object.fromEntries(Object.entries(d).map(([k, t]) => [k, t.includes('vec4') ? [] : 0])) as never).byteLength, want.bytes);
  }
  const P = paramLayout({ n: 'u32', shape: 'array<vec4<u32>, 2>', scale: 'f32' });
  assert.is(P.wgsl, 'struct Params {\n  n: u32,\n  _pad0: u32,\n  _pad1: u32,\n  _pad2: u32,\n  shape: array<vec4<u32>, 2>,\n  scale: f32,\n  _pad3: u32,\n  _pad4: u32,\n  _pad5: u32,\n}');
  const buf = P.pack({ n: 9, shape: [2, 3, 4, 5, 6], scale: -1.5 });
  assert.equal(Array.from(new Uint32Array(buf, 0, 12)), [9, 0, 0, 0, 2, 3, 4, 5, 6, 0, 0, 0], 'a short list is padded with zeros');
  assert.equal(Array.from(new Float32Array(buf, 48, 1)), [-1.5]);
});

s('lists too long, or with a value the type cannot hold, and unknown types are refused', () => {
  const P = paramLayout({ shape: 'array<vec4<u32>, 1>', v: 'vec4<i32>' });
  assert.throws(() => P.pack({ shape: [1, 2, 3, 4, 5], v: [] }), /'shape' \(array<vec4<u32>, 1>\) holds 4 numbers, got 5/);
  assert.throws(() => P.pack({ shape: [1, -2], v: [] }), /'shape'\[1\] = -2 does not fit u32/);
  assert.throws(() => P.pack({ shape: [], v: [0, 2 ** 31] }), /'v'\[1\] = 2147483648 does not fit i32/);
  assert.throws(() => P.pack({ shape: 3, v: [] } as never), /'shape' \(array<vec4<u32>, 1>\) needs a list of numbers/);
  assert.throws(() => paramLayout({ x: 'array<f32, 4>' as ParamType }), /'x' has type 'array<f32, 4>'/);
  assert.throws(() => paramLayout({ 'x y': 'u32' }), /not a plain WGSL identifier/);
});

s('the GPU reads every field where pack wrote it (Dawn compiles the generated struct)', async () => {
  const decls: Record<string, ParamType>[] = [
    { n: 'u32', shape: 'array<vec4<u32>, 2>', scale: 'f32', shift: 'i32' },
    { a: 'f32', v: 'vec4<i32>', k: 'u32', strides: 'array<vec4<u32>, 3>', b: 'f32' },
  ];
  for (const d of decls) {
    const P = paramLayout(d);
    // One value per scalar, all different, so a field read from the wrong offset shows.
    const values: Record<string, number | number[]> = {};
    const reads: string[] = [];
    let next = 1;
    for (const [name, type] of Object.entries(d)) {
      const arr = /^array<vec4<\w+>, (\d+)>$/.exec(type);
      const count = arr ? 4 * Number(arr[1]) : type.startsWith('vec4') ? 4 : 1;
      const vals = Array.from({ length: count }, () => (type.includes('f32') ? next++ + 0.25 : type.includes('i32') ? -next++ : next++));
      values[name] = count === 1 ? vals[0]! : vals;
      for (let k = 0; k < count; k++) {
        const at = arr ? `p.${name}[${k >> 2}][${k & 3}]` : count === 4 ? `p.${name}[${k}]` : `p.${name}`;
        reads.push(`  out[${reads.length}] = bitcast<u32>(${at});`);
      }
    }
    const src = `{{PARAMS}}\n@group(0) @binding(0) var<uniform> p: Params;\n@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n` +
      `@compute @workgroup_size(1)\nfn main() {\n${reads.join('\n')}\n}\n`;
    const out = empty([reads.length], 'i32');
    const packed = P.pack(values as never);
    ht.engine().dispatch(kernel(src, { PARAMS: P.wgsl }), [out.buffer], packed, [1]);
    const got = Array.from(new Uint32Array(Int32Array.from(await out.data() as ArrayLike<number>).buffer));
    // What pack wrote, word by word at each field's offset.
    const want: number[] = [];
    for (const name of Object.keys(d)) {
      const n = ([values[name]].flat() as number[]).length;
      want.push(...new Uint32Array(packed, P.offsets[name]!, n));
    }
    assert.equal(got, want, `fields of ${JSON.stringify(d)} as the GPU reads them`);
    out.dispose();
  }
});

s.run();
