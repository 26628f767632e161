// The in-browser check page: initialises hypertape on navigator.gpu, runs every check of
// checks.ts in order, shows each result, and publishes them as `window.hypertapeChecks` for
// test/browser.test.ts (which drives this page in headless Chromium).
import { init, engine } from '../../src/browser.js';
import { browserChecks, type CheckData } from './checks.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  message?: string;
  data?: CheckData;
}

export interface PageReport {
  done: boolean;
  adapter?: string;
  /** Set when the page could not run its checks at all (no WebGPU, an uncaught error). */
  fatal?: string;
  results: CheckResult[];
}

const report: PageReport = { done: false, results: [] };
(window as unknown as { hypertapeChecks: PageReport }).hypertapeChecks = report;

const describe = (e: unknown) => (e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e));
const fail = (why: string) => {
  report.fatal ??= why;
  report.done = true;
  document.getElementById('adapter')!.textContent = why;
};
window.addEventListener('error', (e) => fail(`uncaught error: ${describe(e.error ?? e.message)}`));
window.addEventListener('unhandledrejection', (e) => fail(`unhandled rejection: ${describe(e.reason)}`));

function show(r: CheckResult): void {
  const row = document.createElement('tr');
  for (const [text, cls] of [[r.name, ''], [r.ok ? 'ok' : r.message ?? 'failed', r.ok ? 'ok' : 'fail'], [r.ms.toFixed(0), '']]) {
    const td = document.createElement('td');
    td.textContent = text!;
    if (cls) td.className = cls;
    row.append(td);
  }
  document.getElementById('results')!.append(row);
}

async function main(): Promise<void> {
  try {
    await init();
  } catch (e) {
    return fail(`no WebGPU: ${describe(e)}`);
  }
  const a = engine().adapter;
  report.adapter = `${a.description} (${a.backend}, ${a.featureLevel})`;
  document.getElementById('adapter')!.textContent = `Adapter: ${report.adapter}`;
  for (const check of browserChecks) {
    const t0 = performance.now();
    let result: CheckResult;
    try {
      const data = await check.run();
      result = { name: check.name, ok: true, ms: performance.now() - t0, data: data ?? undefined };
    } catch (e) {
      result = { name: check.name, ok: false, ms: performance.now() - t0, message: describe(e) };
    }
    report.results.push(result);
    show(result);
  }
  report.done = true;
}

void main();
