// A kernel's parameter block declared once: the WGSL struct and the TypeScript packing are both
// generated from the same list of fields, so the two sides cannot disagree on an offset.
//
//   const P = paramLayout({ N: 'u32', H: 'u32', pad: 'i32' });
//   P.wgsl            // "struct Params {\n  N: u32,\n  H: u32,\n  pad: i32,\n  _pad0: u32,\n}"
//   P.pack({ N: 2, H: 28, pad: -1 })  // an ArrayBuffer for engine().dispatch
//
// Fields are 4-byte scalars or arrays of them, laid out in declaration order. An array of n
// values is declared as `{ array: 'u32', length: n }`: WGSL gets `array<vec4<u32>, ceil(n / 4)>`
// (the uniform address space wants 16-byte array elements), starting on 16 bytes, and
// `P.at(name, k)` is the WGSL that reads value k (`p.name[k / 4].xyzw`). The struct is padded to
// a multiple of 16 bytes (the uniform address space's alignment for structs). Templates take the
// struct through a {{PARAMS}} hole.

/** The WGSL scalar type of one parameter. */
export type ScalarParamType = 'u32' | 'i32' | 'f32';

/** An array of `length` scalars of one type, held as vec4s. */
export interface ArrayParamType {
  /** The element type. */
  array: ScalarParamType;
  /** How many values (the WGSL array holds ceil(length / 4) vec4s). */
  length: number;
}

/** The type of one parameter: a scalar or an array of scalars. */
export type ParamType = ScalarParamType | ArrayParamType;

/** What `pack` takes for a field of type T: a number, or for an array up to `length` numbers (the rest are 0). */
export type ParamValue<T extends ParamType> = T extends ArrayParamType ? readonly number[] : number;

/** A parameter block: its WGSL declaration and the packing of values into it. */
export interface ParamLayout<F extends Record<string, ParamType>> {
  /** `struct Params { ... }` with the fields in order (plus padding). */
  readonly wgsl: string;
  /** Bytes of the packed block. */
  readonly bytes: number;
  /** Packs one value per field; throws on a missing field or a value its type cannot hold. */
  pack(values: { readonly [K in keyof F]: ParamValue<F[K]> }): ArrayBuffer;
  /** WGSL that reads value `k` of an array field (`p.<name>[k / 4].<lane>`), or the scalar field itself. */
  at(name: keyof F & string, k?: number): string;
}

const LANES = ['x', 'y', 'z', 'w'];

/** Declares a parameter block from its fields (name to type), in order. */
export function paramLayout<F extends Record<string, ParamType>>(fields: F): ParamLayout<F> {
  const entries = Object.entries(fields) as [keyof F & string, ParamType][];
  const lines: string[] = [];
  const slots: { name: keyof F & string; type: ParamType; word: number }[] = [];
  let word = 0;
  let pads = 0;
  const pad = (): void => {
    lines.push(`  _pad${pads++}: u32,`);
    word++;
  };
  for (const [name, type] of entries) {
    if (typeof type === 'string') {
      lines.push(`  ${name}: ${type},`);
      slots.push({ name, type, word });
      word++;
    } else {
      if (!Number.isInteger(type.length) || type.length < 1) throw new Error(`hypertape internal: parameter array '${name}' needs a positive length, got ${type.length}`);
      while (word % 4 !== 0) pad();
      const vecs = Math.ceil(type.length / 4);
      lines.push(`  ${name}: array<vec4<${type.array}>, ${vecs}>,`);
      slots.push({ name, type, word });
      word += 4 * vecs;
    }
  }
  while (word < 4 || word % 4 !== 0) pad();
  const words = word;
  const wgsl = `struct Params {\n${lines.join('\n')}\n}`;
  const put = (name: string, type: ScalarParamType, v: unknown, k: number, u: Uint32Array, i: Int32Array, f: Float32Array): void => {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`hypertape internal: kernel parameter '${name}' is ${v}`);
    if (type === 'f32') f[k] = v;
    else if (!Number.isInteger(v) || (type === 'u32' ? v < 0 || v > 0xffffffff : v < -(2 ** 31) || v >= 2 ** 31)) {
      throw new Error(`hypertape internal: kernel parameter '${name}' = ${v} does not fit ${type}`);
    } else if (type === 'u32') u[k] = v;
    else i[k] = v;
  };
  return {
    wgsl,
    bytes: 4 * words,
    pack(values) {
      const buf = new ArrayBuffer(4 * words);
      const u = new Uint32Array(buf);
      const i = new Int32Array(buf);
      const f = new Float32Array(buf);
      for (const { name, type, word: at } of slots) {
        const v = (values as Record<string, unknown>)[name];
        if (typeof type === 'string') {
          put(name, type, v, at, u, i, f);
          continue;
        }
        if (!Array.isArray(v) || v.length > type.length) {
          throw new Error(`hypertape internal: kernel parameter '${name}' needs up to ${type.length} numbers, got ${Array.isArray(v) ? `${v.length}` : String(v)}`);
        }
        v.forEach((x, k) => put(`${name}[${k}]`, type.array, x, at + k, u, i, f));
      }
      return buf;
    },
    at(name, k) {
      const slot = slots.find((s) => s.name === name);
      if (!slot) throw new Error(`hypertape internal: no kernel parameter '${name}'`);
      if (typeof slot.type === 'string') return `p.${name}`;
      if (k === undefined || !Number.isInteger(k) || k < 0 || k >= slot.type.length) {
        throw new Error(`hypertape internal: kernel parameter '${name}' has ${slot.type.length} values, asked for ${k}`);
      }
      return `p.${name}[${k >> 2}].${LANES[k & 3]}`;
    },
  };
}
