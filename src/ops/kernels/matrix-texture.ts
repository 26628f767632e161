// A row-major f32 matrix in a buffer, copied into an rgba32float texture for the matmul kernels
// of CPU adapters: on lavapipe a textureLoad of four floats costs about as much as one or two
// storage loads (docs/methods.md section 3), and the skinny products are bound by their loads.
// Texel (t, r) holds elements 4t .. 4t + 3 of row r (zeros past the last column); one kernel
// (shaders/matrix_texture.wgsl) writes it.
//
// The copy is made the COPY_AT_READ-th time a matmul reads the same matrix (the same storage,
// rows and columns) while its contents stay the same (so operands read a few times never pay for
// a copy), kept while its buffer is not written or released (the engine's write listener drops
// it), and at most MAX_TEXTURES are kept (the least recently used goes). Textures count in
// memory() like buffers.
// Nothing here knows about autodiff.
import { engine } from '../../gpu/device.js';
import { addWriteListener, type Engine } from '../../gpu/engine.js';
import type { Storage } from '../../tensor.js';
import matrixTextureSrc from '../../../shaders/matrix_texture.wgsl';
import { paramLayout } from './params.js';
import { cappedGrid, kernel, memoKernel, WG } from './template.js';

const PARAMS = paramLayout({ rows: 'u32', cols: 'u32', width: 'u32' });

/**
 * The read (by a matmul, its contents unchanged) at which the copy is made: making it costs about
 * 130 ms for a 5000 x 785 matrix on lavapipe (the texture's first clear and the stores), some 50
 * reads' worth of what it saves, so only matrices read again and again (data) get one.
 */
const COPY_AT_READ = 8;
/** The most texture copies kept at once. */
const MAX_TEXTURES = 4;
/** The most matrices remembered (their reads counted) without a copy. */
const MAX_SEEN = 16;

interface Entry {
  owner: Engine;
  storage: Storage;
  rows: number;
  cols: number;
  texture: GPUTexture | null;
  view: GPUTextureView | null;
  /** Reads so far. */
  reads: number;
}

/** Entries in least-recently-used order (the last is the most recent). */
let entries: Entry[] = [];
let enabled = true;

function drop(e: Entry): void {
  if (e.texture && e.owner.usable) e.owner.destroyTexture(e.texture);
  e.texture = null;
  e.view = null;
}

addWriteListener((buf) => {
  if (!entries.some((e) => e.storage.buffer === buf)) return;
  entries = entries.filter((e) => {
    if (e.storage.buffer !== buf) return true;
    drop(e);
    return false;
  });
});

/**
 * Turns the texture copies on (the default) or off (the matmuls then read every operand from its
 * buffer; the copies held are freed). Returns the previous setting.
 */
export function setMatmulTextures(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  if (!on) {
    for (const e of entries) drop(e);
    entries = [];
  }
  return prev;
}

/** Whether a rows x cols matrix fits a texture on this device. */
export function textureFits(rows: number, cols: number): boolean {
  const max = engine().device.limits.maxTextureDimension2D;
  return enabled && rows >= 1 && cols >= 1 && rows <= max && Math.ceil(cols / 4) <= max;
}

/**
 * The texture copy of the rows x cols matrix at the start of `st`, when there is one or this is
 * read COPY_AT_READ of it (`now`: make it on the first); null otherwise (read the buffer).
 */
export function matrixTexture(st: Storage, rows: number, cols: number, now = false): GPUTextureView | null {
  const e = engine();
  if (!textureFits(rows, cols) || st.bytes < 4 * rows * cols) return null;
  entries = entries.filter((x) => x.owner === e || (drop(x), false));
  const k = entries.findIndex((x) => x.storage === st && x.rows === rows && x.cols === cols);
  const entry = k >= 0 ? entries.splice(k, 1)[0]! : { owner: e, storage: st, rows, cols, texture: null, view: null, reads: 0 };
  entry.reads++;
  if (!entry.texture && !now && entry.reads < COPY_AT_READ) {
    remember(entry);
    return null;
  }
  if (!entry.texture) {
    const width = Math.ceil(cols / 4);
    const tex = e.createTexture(width, rows);
    e.dispatch(memoKernel('matrixTexture', () => ({ ...kernel(matrixTextureSrc, { PARAMS: PARAMS.wgsl, WG }), writable: 0, storageTextures: [1] })),
      [tex.createView(), st.buffer], PARAMS.pack({ rows, cols, width }), cappedGrid(width * rows));
    entry.texture = tex;
    entry.view = tex.createView();
  }
  remember(entry);
  return entry.view;
}

/** Puts `entry` last (most recent), dropping the oldest textures and sightings past the limits. */
function remember(entry: Entry): void {
  entries.push(entry);
  let textures = entries.filter((x) => x.texture).length;
  let seen = entries.length - textures;
  entries = entries.filter((x) => {
    if (x === entry) return true;
    if (x.texture && textures > MAX_TEXTURES) {
      textures--;
      drop(x);
      return false;
    }
    if (!x.texture && seen > MAX_SEEN) {
      seen--;
      return false;
    }
    return true;
  });
}
