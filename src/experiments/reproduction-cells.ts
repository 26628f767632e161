// Where every number of ours in docs/REPRODUCTION.md comes from. The report never types a number
// of ours in: each one is a Cell, made by a named formula (FORMULAS, stated in the document) from
// inputs that are paths into a run's results.json (or into the paper's numbers,
// paper-numbers.ts). The cells are kept with the document, so a test can re-read every file,
// resolve every path, recompute every formula and find every cell's text in the document.
//
// Paths: `table[K=5].testAcc`, `figure1.error`, `figure2[objective=f].ratio.*`, `runs[0].distance`:
//   .key      a field (any characters but . [ ])
//   [3]       an array element
//   [k=v,...] the one element of an array whose fields k (as strings) equal v (an error if none or several match)
//   [*] or .* every element of an array or every value of an object; later steps apply to each, and
//             the result is the flat list of numbers
import { formatNumber } from './report.js';

/** Where an input of a formula comes from: a run's results.json (by experiment name) or the paper. */
export type Source = { run: string; path: string } | { paper: string; path: string };

/** One number of ours in the report. */
export interface Cell {
  /** The formula's name in FORMULAS. */
  formula: FormulaName;
  inputs: Source[];
  /** How the value is written (see formatValue). */
  format: ValueFormat;
  value: number;
  /** The value as the document shows it. */
  text: string;
}

/** How a cell is written: fixed decimals ('f2'), fixed with a sign ('+f2'), significant digits ('s3'). */
export type ValueFormat = `f${number}` | `+f${number}` | `s${number}`;

/** Writes a value as `format` says; NaN and infinities as 'n/a'. */
export function formatValue(value: number, format: ValueFormat): string {
  if (!Number.isFinite(value)) return 'n/a';
  const m = /^(\+?)([fs])(\d+)$/.exec(format);
  if (!m) throw new Error(`reproduction: unknown value format '${format}'; expected f<digits>, +f<digits> or s<digits>`);
  const digits = Number(m[3]);
  if (m[2] === 's') return formatNumber(value, digits);
  const text = value.toFixed(digits);
  // -0.00 reads as a sign where there is none.
  const clean = /^-0\.?0*$/.test(text) ? text.slice(1) : text;
  return m[1] && value >= 0 && !clean.startsWith('-') ? `+${clean}` : clean;
}

type Arg = number | number[];

const list = (x: Arg): number[] => (Array.isArray(x) ? x : [x]);
const one = (x: Arg, name: string): number => {
  if (Array.isArray(x)) throw new Error(`reproduction: formula input ${name} is a list of ${x.length} numbers, expected one number`);
  return x;
};

/** Least-squares fit of ln y against x over the points with y > 0: slope and R². */
export function logLinearFit(xs: number[], ys: number[]): { slope: number; r2: number; points: number } {
  if (xs.length !== ys.length) throw new Error(`reproduction: a fit of ${ys.length} values against ${xs.length} abscissae`);
  const pts = xs.map((x, i) => [x, ys[i]!] as const).filter(([, y]) => y > 0).map(([x, y]) => [x, Math.log(y)] as const);
  const n = pts.length;
  if (n < 3) throw new Error(`reproduction: a log-linear fit needs 3 positive values, got ${n}`);
  const mx = pts.reduce((a, [x]) => a + x, 0) / n;
  const my = pts.reduce((a, [, y]) => a + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), points: n };
}

/** The formulas cells are made with: a description for the document and the computation. */
export const FORMULAS = {
  value: { describe: 'the number in results.json as it is', compute: (x: Arg) => one(x, 'x') },
  percent: { describe: '100 x (a fraction as a percentage)', compute: (x: Arg) => 100 * one(x, 'x') },
  percentMinus: { describe: '100 x - p: ours as a percentage minus the paper\'s, in points', compute: (x: Arg, p: Arg) => 100 * one(x, 'x') - one(p, 'p') },
  difference: { describe: 'a - b', compute: (a: Arg, b: Arg) => one(a, 'a') - one(b, 'b') },
  percentDifference: { describe: '100 (a - b): a difference of two fractions, in points', compute: (a: Arg, b: Arg) => 100 * (one(a, 'a') - one(b, 'b')) },
  ratio: { describe: 'a / b', compute: (a: Arg, b: Arg) => one(a, 'a') / one(b, 'b') },
  mebibytes: { describe: 'bytes / 2^20', compute: (x: Arg) => one(x, 'x') / 2 ** 20 },
  min: { describe: 'the smallest of the listed numbers', compute: (xs: Arg) => Math.min(...list(xs)) },
  max: { describe: 'the largest of the listed numbers', compute: (xs: Arg) => Math.max(...list(xs)) },
  first: { describe: 'the first of a series', compute: (xs: Arg) => list(xs)[0] ?? NaN },
  last: { describe: 'the last of a series', compute: (xs: Arg) => list(xs).at(-1) ?? NaN },
  lastMinusFirst: { describe: 'the last of a series minus its first', compute: (xs: Arg) => (list(xs).at(-1) ?? NaN) - (list(xs)[0] ?? NaN) },
  meanLastQuarter: {
    describe: 'the mean of the last quarter of a series (at least one value)',
    compute: (xs: Arg) => {
      const v = list(xs);
      const tail = v.slice(v.length - Math.max(1, Math.floor(v.length / 4)));
      return tail.reduce((a, b) => a + b, 0) / tail.length;
    },
  },
  maxRatio: {
    describe: 'the largest a_i / b_i over two series of the same length',
    compute: (a: Arg, b: Arg) => {
      const x = list(a);
      const y = list(b);
      if (x.length !== y.length) throw new Error(`reproduction: maxRatio of series of ${x.length} and ${y.length} values`);
      return Math.max(...x.map((v, i) => v / y[i]!));
    },
  },
  increases: {
    describe: 'how many times a series goes up from one value to the next',
    compute: (xs: Arg) => list(xs).reduce((n, v, i, a) => (i > 0 && v > a[i - 1]! ? n + 1 : n), 0),
  },
  decreases: {
    describe: 'how many times a series goes down from one value to the next',
    compute: (xs: Arg) => list(xs).reduce((n, v, i, a) => (i > 0 && v < a[i - 1]! ? n + 1 : n), 0),
  },
  logRate: {
    describe: 'exp(slope) of the least-squares line through (x, ln y) over the points with y > 0: the factor y shrinks by per unit of x',
    compute: (x: Arg, y: Arg) => Math.exp(logLinearFit(list(x), list(y)).slope),
  },
  logR2: {
    describe: 'R² of the same least-squares line through (x, ln y), y > 0',
    compute: (x: Arg, y: Arg) => logLinearFit(list(x), list(y)).r2,
  },
  logRateOverK: {
    describe: 'logRate of a series against K = 1, 2, ..., n (its position)',
    compute: (y: Arg) => Math.exp(logLinearFit(list(y).map((_, i) => i + 1), list(y)).slope),
  },
  logR2OverK: {
    describe: 'logR2 of a series against K = 1, 2, ..., n (its position)',
    compute: (y: Arg) => logLinearFit(list(y).map((_, i) => i + 1), list(y)).r2,
  },
  lastOverLast: { describe: 'the last of series a / the last of series b', compute: (a: Arg, b: Arg) => (list(a).at(-1) ?? NaN) / (list(b).at(-1) ?? NaN) },
  oneMinusProduct: { describe: '1 - a b (the rate (1 - γα) of Proposition 3.1\'s bound)', compute: (a: Arg, b: Arg) => 1 - one(a, 'a') * one(b, 'b') },
} as const satisfies Record<string, { describe: string; compute: (...args: Arg[]) => number }>;

/** The name of a formula. */
export type FormulaName = keyof typeof FORMULAS;

/** Applies a formula to resolved inputs. */
export function computeFormula(name: FormulaName, args: Arg[]): number {
  const f = FORMULAS[name] as { compute: (...a: Arg[]) => number } | undefined;
  if (!f) throw new Error(`reproduction: unknown formula '${name}'`);
  return f.compute(...args);
}

// ---- paths ------------------------------------------------------------------------------------

type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'match'; pairs: [string, string][] } | { kind: 'all' };

function parsePath(path: string): Step[] {
  const steps: Step[] = [];
  const re = /\.?([^.[\]]+)|\[([^\]]*)\]/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < path.length) {
    re.lastIndex = at;
    m = re.exec(path);
    if (!m) throw new Error(`reproduction: cannot read the path '${path}' at character ${at}`);
    at = re.lastIndex;
    if (m[1] !== undefined) steps.push(m[1] === '*' ? { kind: 'all' } : { kind: 'key', key: m[1] });
    else {
      const inside = m[2]!;
      if (inside === '*') steps.push({ kind: 'all' });
      else if (/^\d+$/.test(inside)) steps.push({ kind: 'index', index: Number(inside) });
      else {
        const pairs = inside.split(',').map((p) => {
          const eq = p.indexOf('=');
          if (eq <= 0) throw new Error(`reproduction: '[${inside}]' in the path '${path}' is neither an index, * nor key=value pairs`);
          return [p.slice(0, eq), p.slice(eq + 1)] as [string, string];
        });
        steps.push({ kind: 'match', pairs });
      }
    }
  }
  return steps;
}

/**
 * The value at `path` in `root` (see the file's header for the syntax). Throws with the path and
 * the step that failed when the path does not lead to a value.
 */
export function resolvePath(root: unknown, path: string, where: string): unknown {
  const steps = parsePath(path);
  let current: unknown[] = [root];
  let spread = false;
  steps.forEach((step, i) => {
    const done = steps.slice(0, i + 1).map((s) => (s.kind === 'key' ? `.${s.key}` : s.kind === 'index' ? `[${s.index}]` : s.kind === 'all' ? '[*]' : `[${s.pairs.map((p) => p.join('=')).join(',')}]`)).join('');
    const fail = (what: string) => new Error(`reproduction: ${where}: ${done.replace(/^\./, '')} (of the path '${path}'): ${what}`);
    current = current.flatMap((v) => {
      if (step.kind === 'key') {
        if (v === null || typeof v !== 'object' || Array.isArray(v) || !(step.key in v)) throw fail('no such field');
        return [(v as Record<string, unknown>)[step.key]];
      }
      if (step.kind === 'index') {
        if (!Array.isArray(v) || step.index >= v.length) throw fail(Array.isArray(v) ? `index out of range (length ${v.length})` : 'not an array');
        return [v[step.index]];
      }
      if (step.kind === 'all') {
        spread = true;
        if (Array.isArray(v)) return v;
        if (v !== null && typeof v === 'object') return Object.values(v);
        throw fail('neither an array nor an object');
      }
      if (!Array.isArray(v)) throw fail('not an array');
      const found = v.filter((e) => e !== null && typeof e === 'object' && step.pairs.every(([k, want]) => String((e as Record<string, unknown>)[k]) === want));
      if (found.length !== 1) throw fail(`${found.length} elements match, expected exactly one`);
      return found;
    });
  });
  return spread ? current.flat(Infinity) : current[0];
}

/** Whether `path` leads to a value in `root` (for optional fields of older files). */
export function hasPath(root: unknown, path: string): boolean {
  try {
    resolvePath(root, path, '');
    return true;
  } catch {
    return false;
  }
}

/** The documents cells read from: results.json of each run (by experiment) and the paper's numbers. */
export interface CellSources {
  /** results.json of each run, by experiment name. */
  runs: Record<string, unknown>;
  /** The paper's numbers (paper-numbers.ts), by name. */
  paper: Record<string, unknown>;
}

/** A formula input resolved to numbers. */
export function resolveSource(sources: CellSources, s: Source): Arg {
  const [root, where] = 'run' in s ? [sources.runs[s.run], `results.json of the ${s.run} run`] : [sources.paper[s.paper], `the paper's ${s.paper}`];
  if (root === undefined) throw new Error(`reproduction: ${where} is not loaded`);
  const v = resolvePath(root, s.path, where);
  if (Array.isArray(v)) {
    for (const x of v) if (typeof x !== 'number') throw new Error(`reproduction: ${where}: '${s.path}' holds ${JSON.stringify(x)}, expected numbers`);
    return v as number[];
  }
  // JSON writes NaN as null: a diverged loss reads back as NaN.
  if (v === null) return NaN;
  if (typeof v !== 'number') throw new Error(`reproduction: ${where}: '${s.path}' holds ${JSON.stringify(v)}, expected a number`);
  return v;
}

/** Makes cells and remembers them in order. */
export class CellBook {
  readonly cells: Cell[] = [];

  constructor(readonly sources: CellSources) {}

  /** A cell: formula(inputs) written as `format`; returns its text. */
  cell(formula: FormulaName, inputs: Source[], format: ValueFormat): string {
    const value = computeFormula(formula, inputs.map((s) => resolveSource(this.sources, s)));
    const text = formatValue(value, format);
    this.cells.push({ formula, inputs, format, value, text });
    return text;
  }

  /** The value of a cell without writing it (for decisions that the document then states with cell()). */
  peek(formula: FormulaName, inputs: Source[]): number {
    return computeFormula(formula, inputs.map((s) => resolveSource(this.sources, s)));
  }
}
