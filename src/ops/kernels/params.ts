// A kernel's parameter block declared once: the WGSL struct and the TypeScript packing are both
// generated from the same list of fields, so the two sides cannot disagree on an offset.
//
//   const P = paramLayout({ N: 'u32', H: 'u32', pad: 'i32' });
//   P.wgsl            // "struct Params {\n  N: u32,\n  H: u32,\n  pad: i32,\n  _pad0: u32,\n}"
//   P.pack({ N: 2, H: 28, pad: -1 })  // an ArrayBuffer for engine().dispatch
//
// Fields are 4-byte scalars, laid out in declaration order; the struct is padded to a multiple of
// 16 bytes (the uniform address space's alignment for structs). Templates take the struct
// through a {{PARAMS}} hole.

/** The WGSL scalar type of one parameter. */
export type ParamType = 'u32' | 'i32' | 'f32';

/** A parameter block: its WGSL declaration and the packing of values into it. */
export interface ParamLayout<K extends string> {
  /** `struct Params { ... }` with the fields in order (plus padding). */
  readonly wgsl: string;
  /** Bytes of the packed block. */
  readonly bytes: number;
  /** Packs one value per field; throws on a missing field or a value its type cannot hold. */
  pack(values: Readonly<Record<K, number>>): ArrayBuffer;
}

/** Declares a parameter block from its fields (name to WGSL scalar type), in order. */
export function paramLayout<K extends string>(fields: Readonly<Record<K, ParamType>>): ParamLayout<K> {
  const entries = Object.entries(fields) as [K, ParamType][];
  const words = Math.max(4, Math.ceil(entries.length / 4) * 4);
  const lines = entries.map(([name, type]) => `  ${name}: ${type},`);
  for (let i = entries.length; i < words; i++) lines.push(`  _pad${i - entries.length}: u32,`);
  const wgsl = `struct Params {\n${lines.join('\n')}\n}`;
  return {
    wgsl,
    bytes: 4 * words,
    pack(values) {
      const buf = new ArrayBuffer(4 * words);
      const u = new Uint32Array(buf);
      const i = new Int32Array(buf);
      const f = new Float32Array(buf);
      entries.forEach(([name, type], k) => {
        const v = values[name];
        if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`hypertape internal: kernel parameter '${name}' is ${v}`);
        if (type === 'f32') f[k] = v;
        else if (!Number.isInteger(v) || (type === 'u32' ? v < 0 || v > 0xffffffff : v < -(2 ** 31) || v >= 2 ** 31)) {
          throw new Error(`hypertape internal: kernel parameter '${name}' = ${v} does not fit ${type}`);
        } else if (type === 'u32') u[k] = v;
        else i[k] = v;
      });
      return buf;
    },
  };
}
