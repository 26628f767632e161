// A small schema language for JSON read back from disk (saved run state): declare the fields once,
// and `check` both validates a parsed value and gives it its TypeScript type. Every failure names
// the field by its path (`runs[1].tau`), what was found and what was expected. Bounds and lengths
// may depend on fields declared earlier in the same object (`length: (run) => run.tau`), which is
// how a record says "one timing per hyper-iteration done".

/** A failed check: the field's path, what was there and what was expected. */
export class SchemaError extends Error {
  constructor(
    /** Where in the document, e.g. `runs[1].lambda`. */
    readonly field: string,
    /** A short description of the value found. */
    readonly found: string,
    readonly expected: string,
  ) {
    super(`${field || 'the document'} is ${found}; expected ${expected}`);
    this.name = 'SchemaError';
  }
}

/** A declared type: checks a parsed JSON value at `path`, returning it typed (or throwing SchemaError). */
export interface Schema<T> {
  /** What the value must be, in words ("an integer in [0, 6]"). */
  readonly expected: string;
  /**
   * Checks `value`; `parent` is the object holding it, already checked up to this field
   * (bounds and lengths given as functions are computed from it).
   */
  check(value: unknown, path: string, parent?: unknown): T;
  /** Set by `optional()`: the field may be absent. */
  readonly optional?: boolean;
}

/** The type a schema checks for. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** A bound or length, fixed or computed from the fields checked before it in the same object. */
export type Dependent = number | ((parent: any) => number);

const resolve = (d: Dependent | undefined, parent: unknown): number | undefined => (typeof d === 'function' ? d(parent) : d);

/** A short description of any JSON value, for error messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function range(what: string, lo: number | undefined, hi: number | undefined): string {
  if (lo !== undefined && hi !== undefined) return `${what} in [${lo}, ${hi}]`;
  if (lo !== undefined) return `${what} >= ${lo}`;
  if (hi !== undefined) return `${what} <= ${hi}`;
  return what;
}

/** Bounds of a number (inclusive), fixed or computed from earlier fields. */
export interface NumberBounds {
  min?: Dependent;
  max?: Dependent;
  /** Accept null, read back as NaN (JSON's spelling of NaN and ±Infinity: a diverged loss). */
  nullable?: boolean;
}

function numberSchema(integer: boolean, b: NumberBounds): Schema<number> {
  const what = (integer ? 'an integer' : 'a finite number');
  return {
    expected: range(what, typeof b.min === 'number' ? b.min : undefined, typeof b.max === 'number' ? b.max : undefined) + (b.nullable ? ' (or null)' : ''),
    check(v, path, parent) {
      if (v === null && b.nullable) return NaN;
      const lo = resolve(b.min, parent);
      const hi = resolve(b.max, parent);
      const expected = range(what, lo, hi);
      if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new SchemaError(path, describeValue(v), expected);
      if ((lo !== undefined && v < lo) || (hi !== undefined && v > hi)) throw new SchemaError(path, String(v), expected);
      return v;
    },
  };
}

/** An integer, optionally bounded (inclusive). */
export const int = (bounds: NumberBounds = {}): Schema<number> => numberSchema(true, bounds);

/** A finite number, optionally bounded (inclusive). */
export const number = (bounds: NumberBounds = {}): Schema<number> => numberSchema(false, bounds);

/** A string; with `values`, one of them. */
export function string<const V extends string = string>(values?: readonly V[]): Schema<V> {
  const expected = values ? `one of ${values.map((v) => JSON.stringify(v)).join(', ')}` : 'a string';
  return {
    expected,
    check(v, path) {
      if (typeof v !== 'string' || (values && !values.includes(v as V))) throw new SchemaError(path, describeValue(v), expected);
      return v as V;
    },
  };
}

/** true or false. */
export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    check(v, path) {
      if (typeof v !== 'boolean') throw new SchemaError(path, describeValue(v), 'true or false');
      return v;
    },
  };
}

/** Exactly this value (format names, version numbers). */
export function literal<const V extends string | number | boolean>(value: V): Schema<V> {
  const expected = JSON.stringify(value);
  return {
    expected,
    check(v, path) {
      if (v !== value) throw new SchemaError(path, describeValue(v), expected);
      return value;
    },
  };
}

/** The length of an array: exactly, or at most. */
export interface ArrayBounds {
  /** Exactly this many elements. */
  length?: Dependent;
  /** At most this many. */
  maxLength?: Dependent;
}

function lengthExpected(b: ArrayBounds, parent: unknown): { ok: (n: number) => boolean; text: string } {
  const exact = resolve(b.length, parent);
  const most = resolve(b.maxLength, parent);
  if (exact !== undefined) return { ok: (n) => n === exact, text: `of length ${exact}` };
  if (most !== undefined) return { ok: (n) => n <= most, text: `of length at most ${most}` };
  return { ok: () => true, text: '' };
}

/** An array whose elements all match `item`. */
export function array<T>(item: Schema<T>, bounds: ArrayBounds = {}): Schema<T[]> {
  const expected = `an array of ${item.expected}`;
  return {
    expected,
    check(v, path, parent) {
      const len = lengthExpected(bounds, parent);
      const want = `${expected}${len.text ? ' ' + len.text : ''}`;
      if (!Array.isArray(v)) throw new SchemaError(path, describeValue(v), want);
      if (!len.ok(v.length)) throw new SchemaError(path, describeValue(v), want);
      return v.map((x, i) => item.check(x, `${path}[${i}]`, parent));
    },
  };
}

/** Options of `numbers()`. */
export interface NumbersOptions extends ArrayBounds {
  /** Accept null elements (JSON's spelling of NaN and ±Infinity: a diverged loss). */
  nullable?: boolean;
}

/**
 * An array of finite numbers (lambda, a loss series), checked in one pass; with `nullable`,
 * null elements are read back as NaN.
 */
export function numbers(options: NumbersOptions = {}): Schema<number[]> {
  const what = `an array of finite numbers${options.nullable ? ' (or null)' : ''}`;
  return {
    expected: what,
    check(v, path, parent) {
      const len = lengthExpected(options, parent);
      const want = `${what}${len.text ? ' ' + len.text : ''}`;
      if (!Array.isArray(v) || !len.ok(v.length)) throw new SchemaError(path, describeValue(v), want);
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x === null && options.nullable) continue;
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new SchemaError(`${path}[${i}]`, describeValue(x), options.nullable ? 'a finite number or null' : 'a finite number');
      }
      return options.nullable ? v.map((x) => (x === null ? NaN : (x as number))) : (v as number[]);
    },
  };
}

/** The field may be absent (or undefined); when present it must match `inner`. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return {
    expected: `${inner.expected} (optional)`,
    optional: true,
    check(v, path, parent) {
      return v === undefined ? undefined : inner.check(v, path, parent);
    },
  };
}

/** Or null (e.g. a result not computed yet). */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    expected: `${inner.expected} or null`,
    check(v, path, parent) {
      return v === null ? null : inner.check(v, path, parent);
    },
  };
}

/** The fields of an object schema, by name. */
export type Fields = Record<string, Schema<unknown>>;

type OptionalKeys<F extends Fields> = { [k in keyof F]: F[k] extends { optional: true } ? k : never }[keyof F];

/** The object type an object schema checks for (optional fields become `?:`). */
export type ObjectOf<F extends Fields> = { -readonly [k in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[k]> } & { -readonly [k in OptionalKeys<F>]?: Infer<F[k]> };

/** Options of `object()`. */
export interface ObjectOptions<F extends Fields> {
  /** Accept fields that are not declared (kept as they are). Default: refuse them. */
  allowExtra?: boolean;
  /**
   * Checks across fields after each field passed its own check: return undefined when fine, or
   * [field, found, expected] for the first violation.
   */
  refine?: (value: ObjectOf<F>) => [field: string, found: string, expected: string] | undefined;
}

/**
 * A JSON object with these fields, checked in declaration order (so a field's bounds can depend
 * on the fields before it). Undeclared fields are refused unless `allowExtra`.
 */
export function object<const F extends Fields>(fields: F, options: ObjectOptions<F> = {}): Schema<ObjectOf<F>> {
  const expected = `an object with ${Object.keys(fields).join(', ')}`;
  return {
    expected,
    check(v, path) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, describeValue(v), expected);
      const input = v as Record<string, unknown>;
      const out: Record<string, unknown> = options.allowExtra ? { ...input } : {};
      for (const [key, schema] of Object.entries(fields)) {
        const at = path ? `${path}.${key}` : key;
        if (!(key in input) && !schema.optional) throw new SchemaError(at, 'missing', schema.expected);
        const checked = schema.check(input[key], at, out);
        if (checked !== undefined) out[key] = checked;
      }
      if (!options.allowExtra) {
        for (const key of Object.keys(input)) {
          if (!(key in fields)) throw new SchemaError(path ? `${path}.${key}` : key, 'a field this version does not know', `only ${Object.keys(fields).join(', ')}`);
        }
      }
      const bad = options.refine?.(out as ObjectOf<F>);
      if (bad) throw new SchemaError(path ? `${path}.${bad[0]}` : bad[0], bad[1], bad[2]);
      return out as ObjectOf<F>;
    },
  };
}

/** An object with any keys, every value matching `item` (e.g. settings by option name). */
export function record<T>(item: Schema<T>): Schema<Record<string, T>> {
  const expected = `an object of ${item.expected}`;
  return {
    expected,
    check(v, path, parent) {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, describeValue(v), expected);
      const out: Record<string, T> = {};
      for (const [k, x] of Object.entries(v)) out[k] = item.check(x, path ? `${path}.${k}` : k, parent);
      return out;
    },
  };
}

/** Any JSON value, unchecked (for fields checked elsewhere, such as settings compared to the run's). */
export function unknown(): Schema<unknown> {
  return { expected: 'any value', check: (v) => v };
}
