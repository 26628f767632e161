// Kernel parameter blocks declared once (src/ops/kernels/params.ts): the WGSL struct and the
// packing agree on order and padding, and values a field cannot hold are refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { paramLayout } from '../src/ops/kernels/params.js';

const s = suite('params');

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

s('array fields start on 16 bytes as vec4 arrays; at() names each value; pack pads and checks them', () => {
  const P = paramLayout({ n: 'u32', off: { array: 'u32', length: 5 }, k: 'i32', sc: { array: 'f32', length: 2 } });
  assert.is(P.wgsl, 'struct Params {\n  n: u32,\n  _pad0: u32,\n  _pad1: u32,\n  _pad2: u32,\n  off: array<vec4<u32>, 2>,\n  k: i32,\n' +
    '  _pad3: u32,\n  _pad4: u32,\n  _pad5: u32,\n  sc: array<vec4<f32>, 1>,\n}');
  assert.is(P.bytes, 80);
  assert.is(P.at('off', 4), 'p.off[1].x');
  assert.is(P.at('sc', 1), 'p.sc[0].y');
  assert.is(P.at('n'), 'p.n');
  assert.throws(() => P.at('off', 5), /'off' has 5 values, asked for 5/);
  const buf = P.pack({ n: 3, off: [1, 2, 3, 4, 5], k: -2, sc: [0.25] });
  assert.equal(Array.from(new Uint32Array(buf, 0, 1)), [3]);
  assert.equal(Array.from(new Uint32Array(buf, 16, 8)), [1, 2, 3, 4, 5, 0, 0, 0]);
  assert.equal(Array.from(new Int32Array(buf, 48, 1)), [-2]);
  assert.equal(Array.from(new Float32Array(buf, 64, 4)), [0.25, 0, 0, 0]);
  assert.throws(() => P.pack({ n: 3, off: [1, 2, 3, 4, 5, 6], k: 0, sc: [] }), /'off' needs up to 5 numbers, got 6/);
  assert.throws(() => P.pack({ n: 3, off: [1, -1], k: 0, sc: [] }), /'off\[1\]' = -1 does not fit u32/);
});

s.run();
