// The repository stands alone (issue 13, item 14): every Markdown document that a source file,
// test, shader, script or doc names exists in the repository.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const s = suite('repo');

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|mts|mjs|js|wgsl|md)$/.test(name)) out.push(p);
  }
  return out;
}

s('every .md file that the sources name is in the repository', () => {
  const roots = ['src', 'test', 'shaders', 'scripts', 'bench', 'examples', 'docs'].filter((d) => existsSync(d));
  const all = [...roots.flatMap((d) => files(d)), 'README.md', 'DEVELOPERS.md'];
  const present = new Set(all.filter((p) => p.endsWith('.md')).map((p) => basename(p)));
  const missing: string[] = [];
  for (const f of all) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/[\w./-]*?([\w-]+\.md)\b/g)) {
      const ref = m[0]!;
      if (/^https?:|\/\//.test(ref) || ref.includes('node_modules')) continue;
      if (!present.has(m[1]!) && !existsSync(ref)) missing.push(`${f}: ${ref}`);
    }
  }
  assert.equal(missing, [], `documents named but not in the repository:\n${missing.join('\n')}`);
});

s.run();
