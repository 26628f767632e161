// Decoding single image files (JPEG with jpeg-js, PNG with fast-png) into plain 8-bit pixel
// arrays. No file system here: the readers (cifar.ts, omniglot.ts) hand in the bytes, so a browser
// build can reuse this. Every failure names the file (or archive entry) it came from.
import jpeg from 'jpeg-js';
import { decode as decodePngFile, convertIndexedToRgb, type DecodedPng } from 'fast-png';

/** A decoded image: `channels` interleaved 8-bit samples per pixel, row-major (height, width, channels). */
export interface DecodedImage {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). */
  channels: number;
  /** [height, width, channels] samples 0..255 (16-bit PNG samples keep their high byte). */
  data: Uint8Array;
}

/** The image formats this module decodes, recognised by their signature bytes (not the file name). */
export type ImageFormat = 'jpeg' | 'png';

/** 'jpeg' or 'png' from the first bytes of a file, or null for anything else. */
export function imageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** Samples of a fast-png result as unpacked 8-bit values (palettes expanded, 1/2/4-bit rows unpacked and scaled to 0..255). */
function pngSamples(png: DecodedPng): DecodedImage {
  const { width, height } = png;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return { width, height, channels: rgb.length / (width * height), data: rgb };
  }
  const channels = png.channels;
  const n = width * height * channels;
  const out = new Uint8Array(n);
  const src = png.data;
  if (png.depth === 8) {
    out.set(src.subarray(0, n));
  } else if (png.depth === 16) {
    for (let i = 0; i < n; i++) out[i] = src[i]! >> 8;
  } else {
    // Rows of 1, 2 or 4-bit samples, each row padded to whole bytes, most significant bits first.
    const depth = png.depth;
    const rowBytes = Math.ceil((width * channels * depth) / 8);
    const max = (1 << depth) - 1;
    const scale = Uint8Array.from({ length: max + 1 }, (_, v) => Math.round((v * 255) / max));
    const perRow = width * channels;
    for (let y = 0; y < height; y++) {
      let x = 0;
      for (let byteAt = y * rowBytes; x < perRow; byteAt++) {
        const byte = src[byteAt]!;
        for (let shift = 8 - depth; shift >= 0 && x < perRow; shift -= depth) out[y * perRow + x++] = scale[(byte >> shift) & max]!;
      }
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Decodes a JPEG or PNG file (recognised by its signature). `name` is used in errors (the file
 * path or archive entry). Throws if the bytes are neither format or do not decode.
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const format = imageFormat(bytes);
  if (format === null) {
    throw new Error(`${name}: not a JPEG or PNG file (its first bytes are neither signature); remove it or replace it with a valid image`);
  }
  try {
    if (format === 'jpeg') {
      // tolerantDecoding off: a truncated or corrupt JPEG throws instead of yielding gray pixels.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3) {
        throw new Error(`decoded to ${img.width}x${img.height} with ${img.data.length} bytes`);
      }
      // jpeg-js yields RGB for every JPEG (gray ones expanded to R = G = B).
      const rgb = img.data;
      return { width: img.width, height: img.height, channels: 3, data: rgb };
    }
    const png = decodePngFile(bytes);
    if (!(png.width > 0 && png.height > 0)) throw new Error(`decoded to ${png.width}x${png.height}`);
    return pngSamples(png);
  } catch (e) {
    throw new Error(`${name}: the ${format.toUpperCase()} image does not decode (${(e as Error).message}); the file is corrupt or truncated`);
  }
}

/** The image as RGB: gray is copied to all three channels, alpha is dropped (not composited). */
export function toRgb(img: DecodedImage): DecodedImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const c = img.channels;
  for (let i = 0; i < n; i++) {
    if (c <= 2) {
      const g = img.data[i * c]!;
      out[3 * i] = g;
      out[3 * i + 1] = g;
      out[3 * i + 2] = g;
    } else {
      out[3 * i] = img.data[i * c]!;
      out[3 * i + 1] = img.data[i * c + 1]!;
      out[3 * i + 2] = img.data[i * c + 2]!;
    }
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/**
 * The image's luminance in [0, 1], [height, width] row-major: gray as is, RGB by the Rec. 601
 * weights 0.299 R + 0.587 G + 0.114 B; alpha is ignored.
 */
export function toLuminance(img: DecodedImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const c = img.channels;
  const d = img.data;
  if (c <= 2) {
    for (let i = 0; i < n; i++) out[i] = UNIT[d[i * c]!]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = (0.299 * d[i * c]! + 0.587 * d[i * c + 1]! + 0.114 * d[i * c + 2]!) / 255;
  }
  return out;
}

/** v / 255 for every byte v. */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);
