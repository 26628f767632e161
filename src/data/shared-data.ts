// Finding the data sets that ship next to the repository (not inside it): a folder `shared/data/`
// beside the checkout, as in CI (a fresh clone with `shared/` as a sibling of the repository root)
// or beside any folder above it. Searched, in order: the folder of this module (dist/ or
// .test-dist/ once bundled, src/data/ otherwise) and every folder above it, which passes the
// package root and its parent, then the current directory and every folder above it; the first
// `<folder>/shared/data/<relative>` that exists wins.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `dir` and every folder above it, nearest first. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) return out;
  }
}

/** Every path searched for `shared/data/<relative>`, in order (see the file comment). */
export function sharedDataCandidates(relative: string): string[] {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  const out = new Set<string>();
  for (const s of starts) for (const d of ancestors(s)) out.add(join(d, 'shared', 'data', relative));
  return [...out];
}

/** The path of `shared/data/<relative>` beside the checkout, or null when no candidate exists. */
export function findSharedData(relative: string): string | null {
  return sharedDataCandidates(relative).find((p) => existsSync(p)) ?? null;
}

/** Where `findSharedData(relative)` looked, in words, for "not found" errors. */
export function sharedDataSearched(relative: string): string {
  return `looked for shared/data/${relative} in ${dirname(fileURLToPath(import.meta.url))}, ${process.cwd()} and every folder above them`;
}
