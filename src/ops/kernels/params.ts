// A kernel's parameter block declared once: the WGSL struct and the TypeScript packing are both
// generated from the same list of fields, so the two sides cannot disagree on an offset.
//
//   const P = paramLayout({ N: 'u32', pad: 'i32', scale: 'f32', shape: 'array<vec4<u32>, 2>' });
//   P.wgsl     // "struct Params {\n  N: u32,\n  pad: i32,\n  scale: f32,\n  _pad0: u32,\n
//              //   shape: array<vec4<u32>, 2>,\n}"
//   P.offsets  // { N: 0, pad: 4, scale: 8, shape: 16 } (bytes)
//   P.pack({ N: 2, pad: -1, scale: 0.5, shape: [28, 28, 3] })  // an ArrayBuffer for engine().dispatch
//
// Fields are laid out in declaration order by the rules of WGSL's uniform address space: a
// scalar (u32, i32, f32) is 4 bytes aligned to 4; a vec4 is 16 bytes aligned to 16; an array of
// vec4 has a 16-byte stride (uniform arrays need a stride that is a multiple of 16, which is why
// arrays of scalars are not offered: pack them as vec4s). The gaps that alignment leaves, and the
// tail up to a multiple of 16 bytes, are written into the struct as explicit `_padN: u32`
// fields, so the WGSL shows the same layout the packing uses. Templates take the struct through a
// {{PARAMS}} hole.

/** The WGSL scalar types a parameter can have. */
export type ParamScalar = 'u32' | 'i32' | 'f32';

/**
 * The WGSL type of one parameter: a scalar, a vec4 of scalars, or an array of vec4s
 * (e.g. 'array<vec4<u32>, 2>' for up to 8 dims of a shape).
 */
export type ParamType = ParamScalar | `vec4<${ParamScalar}>` | `array<vec4<${ParamScalar}>, ${number}>`;

/** What `pack` takes for a field of type T: a number for a scalar, a list of numbers otherwise. */
export type ParamValue<T extends ParamType> = T extends ParamScalar ? number : readonly number[];

/** A parameter block: its WGSL declaration and the packing of values into it. */
export interface ParamLayout<F extends Readonly<Record<string, ParamType>>> {
  /** `struct Params { ... }` with the fields in order (plus explicit padding). */
  readonly wgsl: string;
  /** Bytes of the packed block (a multiple of 16). */
  readonly bytes: number;
  /** Each field's byte offset in the block. */
  readonly offsets: Readonly<Record<keyof F, number>>;
  /**
   * Packs one value per field: a number for a scalar; for a vec4 or an array of vec4s, up to
   * 4 x length numbers, the rest written as 0. Throws on a missing field, a list too long, or a
   * value its type cannot hold.
   */
  pack(values: { readonly [K in keyof F]: ParamValue<F[K]> }): ArrayBuffer;
}

interface Field {
  name: string;
  type: ParamType;
  scalar: ParamScalar;
  /** Number of scalars: 1, or 4 x vec4s. */
  count: number;
  /** Byte offset. */
  offset: number;
}

/** The scalar type and the number of vec4s of a vector type (0 for a scalar); throws for others. */
function parseType(name: string, type: string): { scalar: ParamScalar; vec4s: number } {
  if (type === 'u32' || type === 'i32' || type === 'f32') return { scalar: type, vec4s: 0 };
  const vec = /^vec4<(u32|i32|f32)>$/.exec(type);
  if (vec) return { scalar: vec[1] as ParamScalar, vec4s: 1 };
  const arr = /^array<vec4<(u32|i32|f32)>, *([1-9][0-9]*)>$/.exec(type);
  if (arr) return { scalar: arr[1] as ParamScalar, vec4s: Number(arr[2]) };
  throw new Error(`hypertape internal: kernel parameter '${name}' has type '${type}'; a parameter is u32, i32, f32, vec4<T> or array<vec4<T>, N> of those`);
}

/** Checks that v fits the scalar type; names the field (and the element, for a list). */
function checkValue(what: string, v: unknown, type: ParamScalar): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`hypertape internal: kernel parameter ${what} is ${v}`);
  if (type === 'f32') return v;
  if (!Number.isInteger(v) || (type === 'u32' ? v < 0 || v > 0xffffffff : v < -(2 ** 31) || v >= 2 ** 31)) {
    throw new Error(`hypertape internal: kernel parameter ${what} = ${v} does not fit ${type}`);
  }
  return v;
}

/** Declares a parameter block from its fields (name to WGSL type), in order. */
export function paramLayout<const F extends Readonly<Record<string, ParamType>>>(fields: F): ParamLayout<F> {
  const lines: string[] = [];
  const layout: Field[] = [];
  let at = 0; // bytes
  let pads = 0;
  const padTo = (align: number) => {
    for (; at % align !== 0; at += 4) lines.push(`  _pad${pads++}: u32,`);
  };
  for (const [name, type] of Object.entries(fields) as [string, ParamType][]) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`hypertape internal: kernel parameter name '${name}' is not a plain WGSL identifier`);
    const { scalar, vec4s } = parseType(name, type);
    padTo(vec4s ? 16 : 4);
    layout.push({ name, type, scalar, count: vec4s ? 4 * vec4s : 1, offset: at });
    lines.push(`  ${name}: ${type},`);
    at += vec4s ? 16 * vec4s : 4;
  }
  if (at === 0) lines.push(`  _pad${pads++}: u32,`), (at = 4); // WGSL structs need a member
  padTo(16);
  const bytes = at;
  const wgsl = `struct Params {\n${lines.join('\n')}\n}`;
  const offsets = Object.fromEntries(layout.map((f) => [f.name, f.offset])) as Record<keyof F, number>;
  return {
    wgsl,
    bytes,
    offsets,
    pack(values) {
      const buf = new ArrayBuffer(bytes);
      const u = new Uint32Array(buf);
      const i = new Int32Array(buf);
      const f = new Float32Array(buf);
      const put = (word: number, v: number, type: ParamScalar) => {
        if (type === 'f32') f[word] = v;
        else if (type === 'u32') u[word] = v;
        else i[word] = v;
      };
      for (const field of layout) {
        const v = (values as Record<string, unknown>)[field.name];
        const word = field.offset / 4;
        if (field.count === 1) {
          put(word, checkValue(`'${field.name}'`, v, field.scalar), field.scalar);
          continue;
        }
        if (!Array.isArray(v)) throw new Error(`hypertape internal: kernel parameter '${field.name}' (${field.type}) needs a list of numbers, got ${v}`);
        if (v.length > field.count) {
          throw new Error(`hypertape internal: kernel parameter '${field.name}' (${field.type}) holds ${field.count} numbers, got ${v.length}`);
        }
        v.forEach((x, k) => put(word + k, checkValue(`'${field.name}'[${k}]`, x, field.scalar), field.scalar));
      }
      return buf;
    },
  };
}
