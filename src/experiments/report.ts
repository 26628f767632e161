// The files every experiment writes: results.json (every number of its tables and figures, the
// settings, seed, adapter and version), summary.md (Markdown tables laid out like the paper's,
// with the figures), and one SVG per figure. Figures are specs for vega-lite or vega, compiled
// and rendered headless by those libraries; nothing here draws SVG by hand. Every file is
// written to a temporary name and renamed into place, so an interrupt never leaves half a file.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { AdapterReport } from '../gpu/engine.js';
import type { ExperimentReport } from './registry.js';

export type Figure = {
  /** File stem: `<name>.svg`. */
  name: string;
  title: string;
  /** What the figure shows, in a sentence or two (goes under it in summary.md). */
  caption: string;
} & ({ grammar: 'vega-lite'; spec: TopLevelSpec } | { grammar: 'vega'; spec: vega.Spec });

/** Who ran what, where: the head of results.json and summary.md. */
export interface RunMeta {
  experiment: string;
  /** The experiment's one-line summary (the title of summary.md). */
  title: string;
  version: string;
  /** The command line as typed (or as a test built it). */
  command: string;
  seed: number;
  quick: boolean;
  /** Every option's value, the defaults included. */
  settings: Record<string, unknown>;
  adapter: AdapterReport;
  startedAt: string;
  wallSeconds?: number;
  node: string;
}

// ---- files ----------------------------------------------------------------------------------

let tmpCounter = 0;

/** Writes `data` to `path` through a temporary file in the same folder and a rename. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The package version, read from the package.json next to the bundle's folder. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'hypertape' && pkg.version) return pkg.version;
  } catch {
    // fall through: running from an unusual layout
  }
  return 'unknown';
}

function resultsDocument(meta: RunMeta, results: object, complete: boolean): string {
  const head: Record<string, unknown> = { ...meta, complete };
  for (const key of Object.keys(results)) {
    if (key in head) throw new Error(`hypertape: the experiment's result key '${key}' collides with a results.json header field; rename it.`);
  }
  return compactJson({ ...head, ...results });
}

/** JSON indented for reading, with arrays of plain values (series, points) kept on one line. */
export function compactJson(value: unknown): string {
  const string = String.raw`"(?:[^"\\]|\\.)*"`;
  const scalar = String.raw`(?:-?\d[\d.eE+-]*|${string}|true|false|null)`;
  // Strings are matched (and kept) as wholes, so brackets inside them are never taken for arrays.
  const pattern = new RegExp(String.raw`${string}|\[\s*${scalar}(?:,\s*${scalar})*\s*\]`, 'g');
  const oneLine = (m: string) => (m.startsWith('"') ? m : `[${(JSON.parse(m) as unknown[]).map((v) => JSON.stringify(v)).join(', ')}]`);
  return JSON.stringify(value, null, 2).replace(pattern, oneLine) + '\n';
}

/** Writes results.json marked incomplete (for checkpoints of long runs). */
export function writePartialResults(dir: string, meta: RunMeta, results: object): string {
  const path = join(dir, 'results.json');
  writeFileAtomic(path, resultsDocument(meta, results, false));
  return path;
}

/** Writes results.json, every figure as SVG, and summary.md; returns the paths written. */
export async function writeReport(dir: string, meta: RunMeta, report: ExperimentReport<object>): Promise<string[]> {
  const written: string[] = [];
  const names = new Set<string>();
  for (const figure of report.figures) {
    if (names.has(figure.name)) throw new Error(`hypertape: two figures are named '${figure.name}'; figure names must be unique.`);
    names.add(figure.name);
    const path = join(dir, `${figure.name}.svg`);
    writeFileAtomic(path, await renderSvg(figure));
    written.push(path);
  }
  const resultsPath = join(dir, 'results.json');
  writeFileAtomic(resultsPath, resultsDocument(meta, report.results, true));
  const summaryPath = join(dir, 'summary.md');
  writeFileAtomic(summaryPath, summaryMarkdown(meta, report));
  return [resultsPath, summaryPath, ...written];
}

function summaryMarkdown(meta: RunMeta, report: ExperimentReport<object>): string {
  const a = meta.adapter;
  const lines = [
    `# ${meta.title}`,
    '',
    `\`${meta.command}\` — hypertape ${meta.version}, ${meta.startedAt}` +
      (meta.wallSeconds !== undefined ? `, ${meta.wallSeconds.toFixed(1)} s` : '') + '.',
    `Adapter: ${a.description} (${a.backend}, ${a.featureLevel} feature level${a.software ? ', software' : ''}).`,
    `Seed ${meta.seed}${meta.quick ? ', quick profile' : ''}. Settings: ` +
      Object.entries(meta.settings).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(',') : String(v)}`).join('; ') + '.',
    '',
    report.summary.trim(),
    '',
  ];
  if (report.figures.length) {
    lines.push('## Figures', '');
    for (const f of report.figures) lines.push(`### ${f.title}`, '', `![${f.title}](${f.name}.svg)`, '', f.caption, '');
  }
  return lines.join('\n');
}

// ---- figures --------------------------------------------------------------------------------

/** Compiles (vega-lite) and renders a figure to SVG with vega's headless View. */
export async function renderSvg(figure: Figure): Promise<string> {
  const spec = figure.grammar === 'vega-lite' ? vegaLite.compile(figure.spec).spec : figure.spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface LineChartOptions {
  title: string;
  rows: Record<string, number | string>[];
  x: { field: string; title: string; log?: boolean };
  y: { field: string; title: string; log?: boolean };
  /** Field naming the series (one line and one legend entry each). */
  series?: { field: string; title: string; sort?: (string | number)[] };
  /** Field whose values pick the dash pattern (e.g. 'measured' vs 'bound'). */
  dash?: { field: string; title: string };
  points?: boolean;
  /** A horizontal rule at this y (e.g. 0). */
  rule?: number;
  width?: number;
  height?: number;
}

/**
 * A line chart as a vega-lite spec. On a log axis, rows with non-positive values are left out
 * (they have no place on it); say so in the caption where it matters.
 */
export function lineChart(o: LineChartOptions): TopLevelSpec {
  const positive = (field: string) => ({ filter: `datum['${field}'] > 0` });
  const transform = [...(o.x.log ? [positive(o.x.field)] : []), ...(o.y.log ? [positive(o.y.field)] : [])];
  const encoding = {
    x: { field: o.x.field, type: 'quantitative', title: o.x.title, ...(o.x.log ? { scale: { type: 'log' } } : {}) },
    y: { field: o.y.field, type: 'quantitative', title: o.y.title, ...(o.y.log ? { scale: { type: 'log' } } : { scale: { zero: false } }) },
    ...(o.series ? { color: { field: o.series.field, type: 'nominal', title: o.series.title, ...(o.series.sort ? { sort: o.series.sort } : {}) } } : {}),
    ...(o.dash ? { strokeDash: { field: o.dash.field, type: 'nominal', title: o.dash.title } } : {}),
  };
  const line = { mark: { type: 'line', point: !!o.points, clip: true }, encoding };
  const layers: unknown[] = [line];
  if (o.rule !== undefined) {
    layers.push({ data: { values: [{ y: o.rule }] }, mark: { type: 'rule', color: '#888', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 360,
    height: o.height ?? 240,
    data: { values: o.rows },
    transform,
    layer: layers,
    config: { font: 'sans-serif', legend: { labelLimit: 400 } },
  } as TopLevelSpec;
}

export interface ContourPlotOptions {
  title: string;
  /** Values on a regular grid: `values[j * xs.length + i]` is the value at (xs[i], ys[j]). */
  grid: { xs: readonly number[]; ys: readonly number[]; values: ArrayLike<number> };
  /** The levels at which to draw contours. */
  thresholds: readonly number[];
  valueTitle: string;
  xTitle: string;
  yTitle: string;
  /** Polylines drawn over the contours: points in order, one legend entry per series. */
  paths?: { series: string; x: number; y: number; order: number }[];
  seriesTitle?: string;
  seriesOrder?: string[];
  /** Marked points (e.g. the optimum as a red X). */
  markers?: { label: string; x: number; y: number }[];
  size?: number;
}

/**
 * Filled contours of a function on a grid (vega's isocontour transform) with trajectories and
 * markers on top, as a vega spec. The grid is sampled at cell centres: for `n` samples on
 * [lo, hi], `xs[i] = lo + (i + 1/2) (hi - lo) / n`.
 */
export function contourPlot(o: ContourPlotOptions): vega.Spec {
  const size = o.size ?? 380;
  const { xs, ys } = o.grid;
  const nx = xs.length;
  const ny = ys.length;
  const dx = nx > 1 ? xs[1]! - xs[0]! : 1;
  const dy = ny > 1 ? ys[1]! - ys[0]! : 1;
  const xDomain = [xs[0]! - dx / 2, xs[nx - 1]! + dx / 2];
  const yDomain = [ys[0]! - dy / 2, ys[ny - 1]! + dy / 2];
  // d3-contour puts sample (i, j) in the cell [i, i+1] x [j, j+1]; scale cells to pixels, with
  // y flipped so that ys grow upwards.
  const grid = { width: nx, height: ny, values: Array.from(o.grid.values), scale: [size / nx, -size / ny], translate: [0, size] };
  const markers = o.markers ?? [];
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: size,
    height: size,
    padding: 5,
    title: { text: o.title },
    config: { text: { font: 'sans-serif' }, title: { font: 'sans-serif' }, axis: { labelFont: 'sans-serif', titleFont: 'sans-serif' }, legend: { labelFont: 'sans-serif', titleFont: 'sans-serif' } },
    data: [
      { name: 'grid', values: [grid] },
      { name: 'contours', source: 'grid', transform: [{ type: 'isocontour', thresholds: [...o.thresholds] }] },
      { name: 'paths', values: o.paths ?? [] },
      { name: 'markers', values: markers },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: xDomain, range: 'width', zero: false, nice: false },
      { name: 'y', type: 'linear', domain: yDomain, range: 'height', zero: false, nice: false },
      { name: 'fill', type: 'linear', domain: [o.thresholds[0]!, o.thresholds[o.thresholds.length - 1]!], range: { scheme: 'greys' }, zero: false },
      { name: 'series', type: 'ordinal', domain: o.seriesOrder ?? { data: 'paths', field: 'series' }, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.xTitle },
      { orient: 'left', scale: 'y', title: o.yTitle },
    ],
    legends: [
      ...(o.paths?.length ? [{ stroke: 'series', title: o.seriesTitle ?? '', symbolType: 'stroke' }] : []),
      { fill: 'fill', title: o.valueTitle, type: 'gradient' as const, gradientLength: size / 2 },
    ],
    marks: [
      {
        type: 'path',
        from: { data: 'contours' },
        encode: { enter: { stroke: { value: '#777' }, strokeWidth: { value: 0.5 }, fill: { scale: 'fill', field: 'contour.value' }, fillOpacity: { value: 0.35 } } },
        transform: [{ type: 'geopath', field: 'datum.contour' }],
        clip: true,
      },
      {
        type: 'group',
        from: { facet: { name: 'path', data: 'paths', groupby: 'series' } },
        clip: true,
        marks: [
          {
            type: 'line',
            from: { data: 'path' },
            sort: { field: 'datum.order' },
            encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { scale: 'series', field: 'series' }, strokeWidth: { value: 1.5 } } },
          },
          {
            type: 'symbol',
            from: { data: 'path' },
            encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, fill: { scale: 'series', field: 'series' }, size: { value: 9 } } },
          },
        ],
      },
      {
        type: 'symbol',
        from: { data: 'markers' },
        encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, shape: { value: 'cross' }, angle: { value: 45 }, size: { value: 220 }, fill: { value: '#d62728' }, stroke: { value: 'white' }, strokeWidth: { value: 0.8 } } },
      },
      {
        type: 'text',
        from: { data: 'markers' },
        encode: { enter: { x: { scale: 'x', field: 'x', offset: 10 }, y: { scale: 'y', field: 'y', offset: 18 }, text: { field: 'label' }, fill: { value: '#d62728' }, fontSize: { value: 11 }, font: { value: 'sans-serif' } } },
      },
    ],
  } as vega.Spec;
}

// ---- Markdown -------------------------------------------------------------------------------

/** A number for tables: fixed for moderate magnitudes, scientific for tiny or huge ones. */
export function formatNumber(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? x.toPrecision(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') : x.toExponential(digits - 1);
}

/** A Markdown table; numbers go through formatNumber, and columns of numbers align right. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  // A '|' inside a cell (as in a norm ||x||) would end the cell.
  const cell = (c: string | number) => (typeof c === 'number' ? formatNumber(c) : c).replace(/\|/g, '\\|');
  const cells = rows.map((r) => r.map(cell));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...cells.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
