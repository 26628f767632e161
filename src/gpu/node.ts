// Node: WebGPU through Dawn (npm package `webgpu`). Tries Vulkan first; with no Vulkan adapter
// (a stock Debian machine has Mesa's GL drivers but no Vulkan ICD) falls back to Dawn's OpenGL ES
// backend at the compatibility feature level, on Mesa's surfaceless EGL platform.
import { create, globals } from 'webgpu';
import { Engine } from './engine.js';
import { describeAdapter, install, initWith, requestDevice, NO_WEBGPU_HELP, type InitOptions } from './device.js';
import { setKernelLog } from '../ops/fusion/log.js';

// HYPERTAPE_PRINT_KERNELS=1 prints each generated elementwise kernel (with the ops it fused) on
// stderr, once per distinct kernel, for the library and the `hypertape` command alike;
// setKernelLog replaces or removes the printer.
if (process.env.HYPERTAPE_PRINT_KERNELS === '1') setKernelLog((text) => process.stderr.write(text));

let globalsInstalled = false;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds (Atomics.wait on a cell nobody notifies). */
function sleepOnThisThread(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
// dawn.node lives as long as the object returned by create(); dropping it while a device made
// from it is alive (or still being destroyed) crashes the process (SIGABRT, SIGSEGV or a hang),
// as a second init() did when it replaced the first one's GPU object. So one GPU object per
// backend is made, once, and held for the life of the process; a later init() reuses it.
const gpus = new Map<'vulkan' | 'opengles', GPU>();

function gpuFor(backend: 'vulkan' | 'opengles'): GPU {
  let gpu = gpus.get(backend);
  if (!gpu) gpus.set(backend, (gpu = create([`backend=${backend}`]) as GPU));
  return gpu;
}

async function tryBackend(backend: 'vulkan' | 'opengles', powerPreference?: GPUPowerPreference) {
  if (backend === 'opengles') process.env.EGL_PLATFORM ??= 'surfaceless';
  const gpu = gpuFor(backend);
  const featureLevel = backend === 'opengles' ? 'compatibility' : 'core';
  const adapter = await gpu.requestAdapter({ featureLevel, powerPreference } as GPURequestAdapterOptions);
  return adapter ? { adapter, gpu, featureLevel: featureLevel as 'core' | 'compatibility' } : null;
}

/**
 * Acquires a GPU under Node through Dawn (npm package `webgpu`) and makes it the device every op
 * runs on. Tries Vulkan, then Dawn's OpenGL ES backend at WebGPU's compatibility feature level;
 * `options.backend` or the environment variable HYPERTAPE_BACKEND ('auto', 'vulkan', 'opengles')
 * forces one. Call it (and await it) once before creating tensors; calling it again replaces the
 * device. Throws, saying what was tried, when no adapter is found.
 *
 * @returns The engine, whose `adapter` describes the GPU in use.
 */
export async function init(options: InitOptions = {}): Promise<Engine> {
  if (!globalsInstalled) {
    // GPUBufferUsage, GPUMapMode, ... as in a browser.
    for (const [k, v] of Object.entries(globals)) (globalThis as Record<string, unknown>)[k] ??= v;
    globalsInstalled = true;
  }
  if (options.device || options.gpu) {
    // A device or GPU object of the caller's: waiting for it sleeps between polls as below,
    // instead of spinning the main thread while lavapipe's workers do the work.
    const engine = await initWith(options);
    engine.sleep = sleepOnThisThread;
    return engine;
  }
  const env = process.env.HYPERTAPE_BACKEND?.toLowerCase();
  const choice = (env || options.backend || 'auto') as string;
  if (!['auto', 'vulkan', 'opengles'].includes(choice)) {
    throw new Error(`hypertape: unknown backend '${choice}' (from ${env ? 'HYPERTAPE_BACKEND' : 'init options'}); use 'auto', 'vulkan' or 'opengles'.`);
  }
  const order: ('vulkan' | 'opengles')[] = choice === 'auto' ? ['vulkan', 'opengles'] : [choice as 'vulkan' | 'opengles'];
  const tried: string[] = [];
  for (const backend of order) {
    let found;
    try {
      found = await tryBackend(backend, options.powerPreference);
    } catch (e) {
      tried.push(`${backend}: ${(e as Error).message}`);
      continue;
    }
    if (!found) {
      tried.push(`${backend}: no adapter`);
      continue;
    }
    const device = await requestDevice(found.adapter);
    const report = describeAdapter(found.adapter, backend, found.featureLevel, device);
    const engine = new Engine(device, report);
    engine.sleep = sleepOnThisThread;
    return install(engine, options);
  }
  throw new Error(`${NO_WEBGPU_HELP}\n  Tried: ${tried.join('; ')}.`);
}
