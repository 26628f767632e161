// hypertape in a browser: headless Chromium (Debian's `chromium`, WebGPU on SwiftShader) driven
// by playwright-core. It runs the check page (test/browser/: kernels against float64, gradients,
// HVPs, the toy hypergradients), compares the numbers that must match Node's, runs the demo page
// and saves a screenshot to test-output/demo.png, and checks that the browser bundle reaches
// nothing Node-only. Without Chromium the suite reports SKIPPED with the install hint and passes,
// except under CI (CI=true), where a missing browser is a failure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from '../scripts/static-server.mjs';
import { writeMnistSubset } from '../scripts/mnist-subset.mjs';
import { browserChecks, type CheckData } from './browser/checks.js';
import type { PageReport } from './browser/page.js';
import { setup } from './helpers.js';

const CHROMIUM = process.env.HYPERTAPE_CHROMIUM || '/usr/bin/chromium';
// WebGPU is behind --enable-unsafe-webgpu on Linux; headless Chromium then finds SwiftShader
// (Vulkan on the CPU) by itself: no --use-angle / --use-webgpu-adapter / --enable-features=Vulkan
// is needed (measured with Chromium 156). The rest keep a fresh profile quiet and offline;
// playwright adds --headless and a fresh --user-data-dir. The page must come from
// http://127.0.0.1 (a secure context): navigator.gpu does not exist on about:blank or file:// pages.
const CHROMIUM_FLAGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
// Generous: the check page takes ~15-30 s on SwiftShader here, more when other suites share the CPUs.
const PAGE_TIMEOUT_MS = 150_000;
const SCREENSHOT = 'test-output/demo.png';
const CLEANING_SCREENSHOT = 'test-output/demo-hypercleaning.png';

const s = suite('browser');

/** One headless Chromium, one static server for the check page and the demo, shared by the suite. */
interface Session {
  context: BrowserContext;
  server: StaticServer;
  profile: string;
}
let session: Promise<Session> | null = null;

function start(): Promise<Session> {
  session ??= (async () => {
    for (const [what, path] of [['check page', '.test-dist/browser/page.js'], ['demo', 'dist/demo/demo.js']]) {
      if (!existsSync(path)) throw new Error(`browser: the ${what} bundle ${path} is missing; run \`node scripts/build.mjs --tests\` (npm test does).`);
    }
    // The demo's hypercleaning section fetches the subset that `npm run demo` writes.
    await writeMnistSubset('dist/demo');
    const server = await serveStatic({ routes: { '/checks/': '.test-dist/browser', '/demo/': 'dist/demo' } });
    const profile = mkdtempSync(join(tmpdir(), 'hypertape-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 860 },
    });
    return { context, server, profile };
  })();
  return session;
}

/** Opens `path`, collecting the page's uncaught errors and console errors. */
async function open(path: string, before?: (page: Page) => Promise<void>): Promise<{ page: Page; errors: string[] }> {
  const { context, server } = await start();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.stack ?? e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url || 'no url'})`);
  });
  await before?.(page);
  await page.goto(server.url + path);
  return { page, errors };
}

/** Waits until window[name].done, failing with what the page had so far if it never comes. */
async function waitDone<T>(page: Page, name: string, errors: string[]): Promise<T> {
  try {
    await page.waitForFunction((n: string) => (window as unknown as Record<string, { done?: boolean }>)[n]?.done, name, { timeout: PAGE_TIMEOUT_MS, polling: 200 });
  } catch (e) {
    const partial = await page.evaluate((n: string) => JSON.stringify((window as unknown as Record<string, unknown>)[n] ?? null), name).catch(() => 'unavailable');
    throw new Error(`browser: ${name} did not finish within ${PAGE_TIMEOUT_MS / 1000} s (${(e as Error).message.split('\n')[0]}).\n` +
      `Page state: ${partial.slice(0, 2000)}\nPage errors: ${errors.join('\n') || 'none'}`);
  }
  return page.evaluate((n: string) => (window as unknown as Record<string, T>)[n]!, name);
}

let checkReport: Promise<PageReport> | null = null;

/** The check page's results (run once, shared by the per-check tests). */
function checkPage(): Promise<PageReport> {
  checkReport ??= (async () => {
    const { page, errors } = await open('checks/');
    const report = await waitDone<PageReport>(page, 'hypertapeChecks', errors);
    await page.close();
    if (report.fatal) throw new Error(`browser: the check page could not run: ${report.fatal}`);
    if (errors.length) throw new Error(`browser: the check page reported errors:\n${errors.join('\n')}`);
    return report;
  })();
  return checkReport;
}

/** Largest |a - b| - (atol + rtol |a|) over the series, with where it happens. */
function compareSeries(node: number[], browser: number[], tol: { rtol: number; atol: number }) {
  if (node.length !== browser.length) return { ok: false, detail: `${node.length} numbers under Node, ${browser.length} in the browser` };
  let worst = -1;
  let maxDiff = 0;
  for (let i = 0; i < node.length; i++) {
    const d = Math.abs(node[i]! - browser[i]!);
    if (!(d <= tol.atol + tol.rtol * Math.abs(node[i]!))) worst = worst < 0 ? i : worst;
    if (d > maxDiff || Number.isNaN(d)) maxDiff = d;
  }
  const detail = worst >= 0
    ? `element ${worst}: Node ${node[worst]}, browser ${browser[worst]} (rtol ${tol.rtol}, atol ${tol.atol})`
    : `max |Node - browser| = ${maxDiff.toExponential(2)}`;
  return { ok: worst < 0, detail };
}

if (!existsSync(CHROMIUM)) {
  const why = `no Chromium at ${CHROMIUM}; install it (Debian/Ubuntu: \`apt-get install chromium\`) or point HYPERTAPE_CHROMIUM at a Chromium binary.`;
  s('browser suite needs Chromium', () => {
    if (process.env.CI === 'true') assert.unreachable(`browser suite under CI: ${why}`);
    console.log(`\nSKIPPED: browser suite: ${why}`);
  });
} else {
  s.before(setup);
  s.after(async () => {
    if (!session) return;
    const { context, server, profile } = await session.catch(() => ({ context: null, server: null, profile: '' }));
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  s('dist/browser.js reaches nothing Node-only (esbuild metafile)', async () => {
    // Bundle src/browser.ts as scripts/build.mjs does for the browser, but only to inspect it.
    // platform 'browser' already refuses to resolve Node built-ins (fs, path, ...); the metafile
    // then shows every module that made it in.
    let result;
    try {
      result = await esbuild.build({
        entryPoints: ['src/browser.ts'], bundle: true, format: 'esm', platform: 'browser', loader: { '.wgsl': 'text' },
        write: false, metafile: true, logLevel: 'silent', outdir: 'unused',
      });
    } catch (e) {
      throw new Error(`the browser bundle does not build for platform 'browser': ${(e as Error).message}`);
    }
    const inputs = Object.keys(result.metafile.inputs);
    const nodeOnly = inputs.filter((p) => /node_modules[\\/]webgpu[\\/]|src[\\/]gpu[\\/]node\.ts$|src[\\/]node\.ts$|^node:|(^|[\\/])(fs|path|child_process|os)$/.test(p));
    assert.equal(nodeOnly, [], `Node-only modules reachable from src/browser.ts: ${nodeOnly.join(', ')}`);
    // What the written bundle still imports (inputs' lists also name type-only imports that were dropped).
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((x) => x.path));
    assert.equal(imports, [], `the browser bundle leaves imports to resolve at run time: ${imports.join(', ')}`);
    // Globals that exist only under Node; comments are gone from esbuild's output.
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    const globals = [...new Set(code.match(/\b(process\.(env|argv|exit|cwd)|require\(|__dirname|__filename|Buffer\.)/g) ?? [])];
    assert.equal(globals, [], `the browser bundle uses Node globals: ${globals.join(', ')}`);
  });

  for (const check of browserChecks) {
    s(`in Chromium: ${check.name}`, async () => {
      const report = await checkPage();
      const r = report.results.find((x) => x.name === check.name);
      if (!r) throw new Error(`the check page did not run "${check.name}" (adapter ${report.adapter})`);
      if (!r.ok) assert.unreachable(`in Chromium (${report.adapter}): ${r.message}`);
    });
  }

  for (const check of browserChecks.filter((c) => c.sameNumbers)) {
    s(`same numbers in Node and in Chromium: ${check.name}`, async () => {
      const browser = (await checkPage()).results.find((x) => x.name === check.name)?.data;
      if (!browser) throw new Error(`the check page returned no numbers for "${check.name}"`);
      const node = (await check.run()) as CheckData;
      for (const [series, tol] of Object.entries(check.sameNumbers!)) {
        const { ok, detail } = compareSeries(node[series] ?? [], browser[series] ?? [], tol);
        if (process.env.HYPERTAPE_VERBOSE) console.log(`\n  ${check.name} / ${series}: ${detail}`);
        if (!ok) assert.unreachable(`${series} differ between Node and Chromium: ${detail}`);
      }
    });
  }

  s('the demo page draws the toy runs and the hypercleaning grid without errors and saves screenshots', async () => {
    interface Cleaning {
      done: boolean; hyperIterations: number; nTrain: number; iterations: { valLoss: number; ms: number }[];
      rule: 'threshold' | 'lowest'; flagged: number; shown: number; precision: number; recall: number; corrupted: number;
    }
    interface Demo { done: boolean; webgpu: boolean | null; error?: string; runs: { K: number; lambdas: number[][]; ms: number[]; peakBytes: number[] }[]; cleaning: Cleaning }
    const iterations = 6;
    const { page, errors } = await open(`demo/?iterations=${iterations}`);
    const demo = await waitDone<Demo>(page, 'hypertapeDemo', errors);
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.locator('#cleaning').screenshot({ path: CLEANING_SCREENSHOT });
    const cleaningStatus = await page.locator('#cleaning-status').innerText();
    // Pixels of the grid: red and green borders around grey-scale digits.
    const borders = await page.evaluate(() => {
      const c = document.getElementById('grid') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let red = 0;
      let green = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] === 0xd6 && d[i + 1] === 0x27 && d[i + 2] === 0x28) red++;
        if (d[i] === 0x2c && d[i + 1] === 0xa0 && d[i + 2] === 0x2c) green++;
      }
      return { red, green };
    });
    // Pixels of the plot: the contours alone give many distinct colours; a blank canvas gives one.
    const colours = await page.evaluate(() => {
      const c = document.getElementById('plot') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size;
    });
    const table = await page.locator('#runs tr').count();
    await page.close();
    if (demo.error) assert.unreachable(`the demo failed (screenshot ${SCREENSHOT}): ${demo.error}`);
    assert.equal(errors, [], `the demo reported errors (screenshot ${SCREENSHOT})`);
    assert.ok(demo.webgpu, 'the demo found no WebGPU in Chromium');
    assert.ok(colours > 50, `the plot looks blank: ${colours} distinct colours`);
    assert.equal(demo.runs.map((r) => r.K), [1, 5, 25, 100]);
    assert.is(table, 4, 'one table row per K');
    for (const r of demo.runs) {
      assert.is(r.lambdas.length, iterations + 1, `K = ${r.K}: lambda_1 and one iterate per hyper-iteration`);
      assert.ok(r.lambdas.flat().every(Number.isFinite), `K = ${r.K}: non-finite iterates ${JSON.stringify(r.lambdas)}`);
      assert.ok(r.ms.length === iterations && r.peakBytes.every((b) => b > 0), `K = ${r.K}: a time and a positive peak per hypergradient`);
    }
    // K-RMD keeps K steps: its peak memory must grow with K.
    const peaks = demo.runs.map((r) => Math.max(...r.peakBytes));
    assert.ok(peaks.every((p, i) => i === 0 || p > peaks[i - 1]!), `peak bytes should grow with K, got ${peaks.join(', ')}`);
    const c = demo.cleaning;
    assert.ok(c.done, 'the hypercleaning section did not finish');
    assert.is(c.iterations.length, c.hyperIterations, 'one validation loss per hyper-iteration');
    assert.ok(c.iterations.every((r) => Number.isFinite(r.valLoss) && r.ms > 0), `non-finite losses or times: ${JSON.stringify(c.iterations)}`);
    assert.ok(c.iterations[c.iterations.length - 1]!.valLoss < c.iterations[0]!.valLoss,
      `cleaning should lower the validation loss: ${c.iterations.map((r) => r.valLoss.toFixed(4)).join(', ')}`);
    assert.ok(c.shown >= 1 && c.flagged >= c.shown, `the grid should show at least one flagged image (flagged ${c.flagged}, shown ${c.shown})`);
    assert.ok(borders.red + borders.green > 0, 'the grid canvas has no image borders');
    // Half the training labels are corrupted: flagging at random has precision 0.5.
    assert.ok(c.precision > 0.5, `precision of the flags ${c.precision} (rule ${c.rule}, ${c.flagged} flagged) is no better than chance`);
    console.log(`\n  demo screenshots: ${resolve(SCREENSHOT)}, ${resolve(CLEANING_SCREENSHOT)}`);
    console.log(`  hypercleaning in Chromium: ${c.flagged} flagged (${c.rule}), precision ${c.precision.toFixed(3)}, recall ${c.recall.toFixed(3)}, ` +
      `validation loss ${c.iterations[0]!.valLoss.toFixed(4)} -> ${c.iterations[c.iterations.length - 1]!.valLoss.toFixed(4)}, ` +
      `${(c.iterations.reduce((a, r) => a + r.ms, 0) / c.iterations.length).toFixed(0)} ms per hypergradient; page: ${cleaningStatus}`);
  });

  s('the demo says plainly when the browser has no WebGPU', async () => {
    const hideWebGPU = async (p: Page) => {
      await p.addInitScript(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
    };
    const { page, errors } = await open('demo/', hideWebGPU);
    const demo = await waitDone<{ webgpu: boolean | null; error?: string }>(page, 'hypertapeDemo', errors);
    const notice = await page.locator('#no-webgpu').innerText();
    const visible = await page.locator('#no-webgpu').isVisible();
    await page.close();
    assert.is(demo.webgpu, false);
    assert.is(demo.error, undefined);
    assert.ok(visible && notice.includes('This browser has no WebGPU'), `the notice is missing or hidden: "${notice}"`);
    assert.equal(errors, []);
  });
}

s.run();
