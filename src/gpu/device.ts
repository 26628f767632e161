// Adapter and device acquisition shared by Node and the browser. Platform code (src/gpu/node.ts)
// supplies a `GPU` object; in a browser it is `navigator.gpu`; a caller may also pass a GPUDevice.
import { Engine, type AdapterReport, type Backend } from './engine.js';

/** Options of `init()`. */
export interface InitOptions {
  /** Use this device instead of requesting one. */
  device?: GPUDevice;
  /** The `GPU` entry point (defaults to navigator.gpu, or Dawn's under Node). */
  gpu?: GPU;
  /** Node only: 'vulkan', 'opengles' or 'auto' (default; env HYPERTAPE_BACKEND overrides). */
  backend?: 'auto' | 'vulkan' | 'opengles';
  /** Which adapter to prefer where there are several ('low-power' or 'high-performance'). */
  powerPreference?: GPUPowerPreference;
  /** Dispatches per submit (default 64). */
  batchSize?: number;
  /** Print the chosen adapter to stderr. */
  verbose?: boolean;
}

let current: Engine | null = null;

/** The engine every op runs on. Throws a clear error if `init()` has not been awaited. */
export function engine(): Engine {
  if (!current) {
    throw new Error('hypertape: no GPU device yet. Call `await init()` before creating tensors.');
  }
  return current;
}

/** The engine every op runs on, or null before init() (no throw; for checks). */
export function currentEngine(): Engine | null {
  return current;
}

/** Whether `init()` has completed and its device is not lost. */
export function hasEngine(): boolean {
  return current !== null && !current.isLost;
}

export function setEngine(e: Engine | null): void {
  current = e;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|softpipe/i;

export function describeAdapter(adapter: GPUAdapter | null, backend: Backend, featureLevel: 'core' | 'compatibility', device: GPUDevice): AdapterReport {
  const info = (adapter?.info ?? (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo) as GPUAdapterInfo | undefined;
  const description = [info?.description, info?.device, info?.vendor, info?.architecture]
    .filter((s) => s && String(s).trim()).join(' ').trim() || 'unknown adapter';
  return {
    description,
    backend,
    featureLevel,
    software: SOFTWARE.test(description) || (info as { type?: string } | undefined)?.type === 'cpu',
    maxWorkgroupInvocations: device.limits.maxComputeInvocationsPerWorkgroup,
    subgroupSize: fixedSubgroupSize(info, device),
  };
}

function fixedSubgroupSize(info: GPUAdapterInfo | undefined, device: GPUDevice): number | null {
  if (!device.features.has('subgroups' as GPUFeatureName)) return null;
  const { subgroupMinSize: min, subgroupMaxSize: max } = (info ?? {}) as { subgroupMinSize?: number; subgroupMaxSize?: number };
  return typeof min === 'number' && min > 0 && min === max ? min : null;
}

/**
 * Requests a device that keeps the adapter's larger buffer and workgroup limits where granted,
 * and subgroups where offered (the 'rows' matmul kernel shares values through them).
 */
export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const want: Record<string, number> = {};
  const names = [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupStorageSize',
    'maxStorageBuffersPerShaderStage',
  ] as const;
  for (const n of names) {
    const v = (adapter.limits as unknown as Record<string, number>)[n];
    if (typeof v === 'number') want[n] = v;
  }
  // Compatibility-mode adapters report core-features-and-limits only when they have it.
  const features: GPUFeatureName[] = [];
  if (adapter.features.has('core-features-and-limits' as GPUFeatureName)) features.push('core-features-and-limits' as GPUFeatureName);
  if (adapter.features.has('subgroups' as GPUFeatureName)) features.push('subgroups' as GPUFeatureName);
  return adapter.requestDevice({ requiredLimits: want, requiredFeatures: features });
}

export const NO_WEBGPU_HELP =
  'hypertape: no WebGPU adapter was found.\n' +
  '  - In a browser: use one with WebGPU enabled (Chrome/Edge 113+, or Chromium with --enable-unsafe-webgpu).\n' +
  '  - Under Node on Linux: install a Vulkan driver, e.g. Mesa\'s lavapipe (Debian: add bookworm-backports, then\n' +
  '    `apt-get install -t bookworm-backports mesa-vulkan-drivers`), or let hypertape use Dawn\'s OpenGL ES backend\n' +
  '    with Mesa\'s GL drivers (HYPERTAPE_BACKEND=opengles; needs libEGL/libGLESv2, e.g. `apt-get install libegl1 libgles2 libgl1-mesa-dri`).\n' +
  '  - Force a backend with init({ backend }) or HYPERTAPE_BACKEND=vulkan|opengles.';

/** Browser/injected-device initialisation; Node's `init` (src/node.ts) wraps this. */
export async function initWith(options: InitOptions = {}): Promise<Engine> {
  let device = options.device;
  let adapter: GPUAdapter | null = null;
  let featureLevel: 'core' | 'compatibility' = 'core';
  if (!device) {
    const gpu = options.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new Error(NO_WEBGPU_HELP);
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
    if (!adapter) {
      adapter = await gpu.requestAdapter({ featureLevel: 'compatibility', powerPreference: options.powerPreference } as GPURequestAdapterOptions);
      featureLevel = 'compatibility';
    }
    if (!adapter) throw new Error(NO_WEBGPU_HELP);
    if (!adapter.features.has('core-features-and-limits' as GPUFeatureName) && 'featureLevel' in adapter) featureLevel = 'compatibility';
    device = await requestDevice(adapter);
  }
  return install(new Engine(device, describeAdapter(adapter, 'webgpu', featureLevel, device)), options);
}

export function install(e: Engine, options: InitOptions): Engine {
  if (current && current !== e && !current.isLost) current.destroy();
  if (options.batchSize) e.batchSize = options.batchSize;
  current = e;
  if (options.verbose) console.error(`hypertape: ${e.adapter.description} (${e.adapter.backend}, ${e.adapter.featureLevel})`);
  return e;
}
