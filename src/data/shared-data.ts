// Finding the data sets that ship next to the repository (not inside it): a folder `shared/data/`
// beside the checkout, as in CI (a fresh clone with `shared/` as a sibling of the repository root)
// or any folder above it. Searched, in order: the package root (the nearest folder above this
// module holding hypertape's package.json) and each folder above it, then the current directory
// and each folder above it; the first `<folder>/shared/data/<relative>` that exists wins.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of the hypertape package this module belongs to (bundled or not), or null. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hypertape') return dir;
      } catch {
        // not a readable package.json: keep looking above
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** `dir` and every folder above it. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    out.push(d);
    if (dirname(d) === d) return out;
  }
}

/** The folders searched for `shared/data/`, in order (see the file comment). */
export function sharedDataCandidates(relative: string): string[] {
  const starts = [packageRoot(), process.cwd()].filter((d): d is string => d !== null);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of starts) {
    for (const d of ancestors(s)) {
      const p = join(d, 'shared', 'data', relative);
      if (!seen.has(p)) {
        seen.add(p);
        out.push(p);
      }
    }
  }
  return out;
}

/** The path of `shared/data/<relative>` beside the checkout, or null when no candidate exists. */
export function findSharedData(relative: string): string | null {
  return sharedDataCandidates(relative).find((p) => existsSync(p)) ?? null;
}
