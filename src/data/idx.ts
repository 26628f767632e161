// The IDX file format (LeCun's MNIST files): a 4-byte magic number [0, 0, type, rank], `rank`
// big-endian uint32 dimensions, then the values in row-major order, big-endian. Files may be
// gzipped (detected by the gzip signature, not the name). Every check names the file and what
// was expected, because a wrong or half-downloaded data file otherwise shows up much later as
// a shape error or a silently bad experiment.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'fflate';

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

/** What the caller expects; every given field is checked. */
export interface IdxExpectation {
  type?: IdxType;
  /** Expected dims; `undefined` entries are free (e.g. [undefined, 28, 28] for any image count). */
  dims?: (number | undefined)[];
}

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'u8', bytes: 1 },
  0x09: { type: 'i8', bytes: 1 },
  0x0b: { type: 'i16', bytes: 2 },
  0x0c: { type: 'i32', bytes: 4 },
  0x0d: { type: 'f32', bytes: 4 },
  0x0e: { type: 'f64', bytes: 8 },
};

const CODE_OF: Record<IdxType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };

/** The IDX magic number for a type and rank (MNIST images: 0x00000803, labels: 0x00000801). */
export function idxMagic(type: IdxType, rank: number): number {
  return CODE_OF[type] * 256 + rank;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses IDX bytes (raw or gzipped). `name` is used in error messages (usually the file path).
 * Throws if the magic number, the dims or the byte count do not match the format or `expect`.
 */
export function parseIdx(input: Uint8Array, name: string, expect: IdxExpectation = {}): IdxArray {
  let bytes = input;
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`${name}: gzip data is corrupt or truncated (${(e as Error).message}); download the file again`);
    }
  }
  const wanted = expect.type !== undefined && expect.dims !== undefined
    ? ` (expected magic number ${hex(idxMagic(expect.type, expect.dims.length))})`
    : '';
  if (bytes.length < 4) {
    throw new Error(`${name}: ${bytes.length} bytes is too short for an IDX file (at least a 4-byte magic number)${wanted}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const code = bytes[2]!;
  const rank = bytes[3]!;
  const kind = TYPES[code];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !kind || rank === 0) {
    throw new Error(`${name}: magic number ${hex(magic)} is not an IDX header${wanted || ' (expected 0x0000TTRR: type code TT in 08,09,0b,0c,0d,0e and rank RR >= 1)'}`);
  }
  if (expect.type !== undefined && expect.dims !== undefined && magic !== idxMagic(expect.type, expect.dims.length)) {
    throw new Error(`${name}: magic number ${hex(magic)} (${kind.type}, rank ${rank}), expected ${hex(idxMagic(expect.type, expect.dims.length))} (${expect.type}, rank ${expect.dims.length}); is this the right file?`);
  }
  if (expect.type !== undefined && kind.type !== expect.type) {
    throw new Error(`${name}: holds ${kind.type} values, expected ${expect.type}`);
  }
  if (expect.dims !== undefined && rank !== expect.dims.length) {
    throw new Error(`${name}: has rank ${rank}, expected rank ${expect.dims.length}`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(`${name}: truncated header: ${bytes.length} bytes, expected at least ${headerBytes} for ${rank} dims`);
  }
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  expect.dims?.forEach((d, i) => {
    if (d !== undefined && dims[i] !== d) {
      throw new Error(`${name}: dims [${dims.join(', ')}], expected [${expect.dims!.map((x) => x ?? '*').join(', ')}]`);
    }
  });
  const count = dims.reduce((a, b) => a * b, 1);
  const dataBytes = count * kind.bytes;
  const actual = bytes.length - headerBytes;
  if (actual < dataBytes) {
    throw new Error(`${name}: truncated: ${actual} data bytes, expected ${dataBytes} for dims [${dims.join(', ')}] of ${kind.type}; download the file again`);
  }
  if (actual > dataBytes) {
    throw new Error(`${name}: ${actual - dataBytes} bytes of trailing data after the ${dataBytes} expected for dims [${dims.join(', ')}] of ${kind.type}; is this an IDX file?`);
  }
  return { type: kind.type, dims, data: decode(bytes, headerBytes, count, kind.type) };
}

function decode(bytes: Uint8Array, offset: number, count: number, type: IdxType): IdxData {
  // A copy (not a view), so a Node Buffer's shared pool never leaks into the result.
  if (type === 'u8') return new Uint8Array(bytes.subarray(offset, offset + count));
  if (type === 'i8') return new Int8Array(new Uint8Array(bytes.subarray(offset, offset + count)).buffer);
  // Multi-byte values are big-endian in IDX; DataView reads them on any host.
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  const read = {
    i16: (i: number) => view.getInt16(2 * i, false),
    i32: (i: number) => view.getInt32(4 * i, false),
    f32: (i: number) => view.getFloat32(4 * i, false),
    f64: (i: number) => view.getFloat64(8 * i, false),
  }[type];
  const out = { i16: Int16Array, i32: Int32Array, f32: Float32Array, f64: Float64Array }[type];
  const arr = new out(count);
  for (let i = 0; i < count; i++) arr[i] = read(i);
  return arr;
}

/** Reads and parses an IDX file (raw or gzipped). Errors name the file. */
export function readIdx(path: string, expect: IdxExpectation = {}): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`${path}: no such file (expected an IDX file${expect.dims ? ` of rank ${expect.dims.length}` : ''})`);
    throw new Error(`${path}: cannot read: ${err.message}`);
  }
  return parseIdx(bytes, path, expect);
}

/** Encodes an array as IDX bytes (big-endian): for tests and for writing subsets. */
export function encodeIdx(type: IdxType, dims: number[], values: ArrayLike<number>): Uint8Array {
  const { bytes: size } = TYPES[CODE_OF[type]]!;
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`encodeIdx: ${values.length} values for dims [${dims.join(', ')}] (${count} needed)`);
  const out = new Uint8Array(4 + 4 * dims.length + count * size);
  const view = new DataView(out.buffer);
  view.setUint32(0, idxMagic(type, dims.length), false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const o = 4 + 4 * dims.length;
  const write = {
    u8: (i: number, v: number) => view.setUint8(o + i, v),
    i8: (i: number, v: number) => view.setInt8(o + i, v),
    i16: (i: number, v: number) => view.setInt16(o + 2 * i, v, false),
    i32: (i: number, v: number) => view.setInt32(o + 4 * i, v, false),
    f32: (i: number, v: number) => view.setFloat32(o + 4 * i, v, false),
    f64: (i: number, v: number) => view.setFloat64(o + 8 * i, v, false),
  }[type];
  for (let i = 0; i < count; i++) write(i, values[i]!);
  return out;
}
