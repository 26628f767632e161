// The folder through which hypertape hands a problem's arrays to bench/vs_torch.py: manifest.json
// (a format tag, the settings, and for each array its file, dtype and shape) and one raw
// little-endian file per array. The manifest is the one statement of the layout; the Python side
// reads it and checks every file's size against it, and readExport here does the same (the
// round-trip test holds both readers to what was written).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Format tag of manifest.json; bench/vs_torch.py refuses any other. */
export const EXPORT_FORMAT = 'hypertape-vs-torch/1';

/** An array to export: float32 or uint8 values in row-major order with their shape. */
export type ExportArray = { data: Float32Array; shape: number[] } | { data: Uint8Array; shape: number[] };

/** Settings (plain numbers) and named arrays, as written to and read from a folder. */
export interface ExportContents {
  /** Plain numbers (T, gamma, ...). */
  settings: Record<string, number>;
  /** Arrays by name (letters, digits and _). */
  arrays: Record<string, ExportArray>;
}

interface Manifest {
  format: string;
  settings: Record<string, number>;
  arrays: Record<string, { file: string; dtype: 'float32' | 'uint8'; shape: number[] }>;
}

function dtypeOf(a: ExportArray): 'float32' | 'uint8' {
  if (a.data instanceof Float32Array) return 'float32';
  if (a.data instanceof Uint8Array) return 'uint8';
  throw new Error(`torch export: arrays must be Float32Array or Uint8Array, got ${Object.prototype.toString.call(a.data)}`);
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Little-endian bytes of the array (the machine's order is checked, not assumed). */
function bytesOf(a: ExportArray): Uint8Array {
  if (a.data instanceof Float32Array && new Uint8Array(new Float32Array([1]).buffer)[3] !== 0x3f) {
    throw new Error('torch export: this machine is big-endian; the export format is little-endian float32');
  }
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/** Writes `contents` to `dir` (created if needed): manifest.json and <name>.<f32|u8> per array. */
export function writeExport(dir: string, contents: ExportContents): void {
  mkdirSync(dir, { recursive: true });
  const manifest: Manifest = { format: EXPORT_FORMAT, settings: contents.settings, arrays: {} };
  for (const [name, a] of Object.entries(contents.arrays)) {
    if (!/^\w+$/.test(name)) throw new Error(`torch export: array name ${JSON.stringify(name)} must be letters, digits and _`);
    if (a.data.length !== count(a.shape)) {
      throw new Error(`torch export: array ${name} has ${a.data.length} values, but its shape [${a.shape.join(', ')}] holds ${count(a.shape)}`);
    }
    const dtype = dtypeOf(a);
    const file = `${name}.${dtype === 'float32' ? 'f32' : 'u8'}`;
    writeFileSync(join(dir, file), bytesOf(a));
    manifest.arrays[name] = { file, dtype, shape: [...a.shape] };
  }
  for (const [k, v] of Object.entries(contents.settings)) {
    if (!Number.isFinite(v)) throw new Error(`torch export: setting ${k} = ${v} is not a finite number`);
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
}

/** Reads a folder written by writeExport, checking the format tag and every file's size. */
export function readExport(dir: string): ExportContents {
  const path = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  if (manifest.format !== EXPORT_FORMAT) throw new Error(`${path}: format ${JSON.stringify(manifest.format)}, expected ${JSON.stringify(EXPORT_FORMAT)}`);
  const arrays: Record<string, ExportArray> = {};
  for (const [name, spec] of Object.entries(manifest.arrays)) {
    const file = join(dir, spec.file);
    const size = statSync(file).size;
    const itemSize = spec.dtype === 'float32' ? 4 : 1;
    if (size !== itemSize * count(spec.shape)) {
      throw new Error(`${file}: ${size} bytes, expected ${itemSize * count(spec.shape)} (${spec.dtype} [${spec.shape.join(', ')}])`);
    }
    const raw = readFileSync(file);
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    arrays[name] = spec.dtype === 'float32'
      ? { data: new Float32Array(copy.buffer), shape: spec.shape }
      : { data: copy, shape: spec.shape };
  }
  return { settings: manifest.settings, arrays };
}
