// Reading zip archives in memory with fflate, shared by the image readers. Pure (no file system):
// callers pass the archive's bytes and a name for error messages.
import { unzipSync } from 'fflate';

/** One file of an archive or folder: its '/'-separated path inside it and a way to read its bytes. */
export interface FileEntry {
  /** Path relative to the archive or folder root, '/'-separated, no leading './'. */
  path: string;
  /** The file's bytes (read or decompressed on demand or already in memory). */
  read(): Uint8Array;
}

/** True for a zip's local file header signature (PK\x03\x04) or an empty archive's (PK\x05\x06). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06));
}

/**
 * The files of a zip archive whose paths pass `keep` (directories and macOS `__MACOSX/` metadata
 * are dropped), decompressed. `name` (usually the file path) is used in errors: a file that is not
 * a zip or a corrupt or truncated archive throws.
 */
export function unzipEntries(bytes: Uint8Array, name: string, keep: (path: string) => boolean = () => true): FileEntry[] {
  if (!isZip(bytes)) {
    throw new Error(`${name}: not a zip archive (it does not start with the zip signature PK\\x03\\x04); download it again`);
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => !f.name.endsWith('/') && !f.name.startsWith('__MACOSX/') && keep(f.name),
    });
  } catch (e) {
    throw new Error(`${name}: the zip archive is corrupt or truncated (${(e as Error).message}); download it again`);
  }
  return Object.keys(files).sort().map((path) => ({ path, read: () => files[path]! }));
}
