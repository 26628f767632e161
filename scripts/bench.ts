// `npm run bench`: runs every section listed in bench/index.ts in order, prints one table per
// section and writes bench-results/bench.json with the adapter's description.
// `npm run bench -- kernels autodiff` runs only the named sections.
import { mkdirSync, writeFileSync } from 'node:fs';
import { init, engine } from '../src/node.js';
import { sections } from '../bench/index.js';
import { table, type BenchRow } from '../bench/util.js';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !sections.some((s) => s.name === w));
if (unknown.length) {
  console.error(`bench: no section named ${unknown.join(', ')}; sections: ${sections.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

await init();
const adapter = engine().adapter;
console.log(`adapter: ${adapter.description} (${adapter.backend}, ${adapter.featureLevel})`);
console.log('times are medians of repeated runs after warm-up; other processes may share the CPUs\n');

const results: { name: string; rows: BenchRow[]; seconds: number }[] = [];
for (const section of sections) {
  if (wanted.length && !wanted.includes(section.name)) continue;
  const t0 = performance.now();
  const rows = await section.run();
  const seconds = (performance.now() - t0) / 1000;
  results.push({ name: section.name, rows, seconds });
  console.log(`## ${section.name} (${seconds.toFixed(0)} s)\n${table(rows)}\n`);
}

mkdirSync('bench-results', { recursive: true });
const out = {
  date: new Date().toISOString(),
  adapter,
  batchSize: engine().batchSize,
  node: process.version,
  sections: results,
};
writeFileSync('bench-results/bench.json', JSON.stringify(out, null, 2) + '\n');
console.log('wrote bench-results/bench.json');
