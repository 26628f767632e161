// The device layer: one GPUDevice, a buffer pool, a pipeline cache, one open command encoder
// whose dispatches are submitted in batches, async readback and memory counters.
// Nothing here knows about tensors or autodiff; the layers above call `dispatch`, `upload`, `read`.

/** The WebGPU implementation's backend: what Dawn was asked for under Node, 'webgpu' in a browser. */
export type Backend = 'vulkan' | 'opengles' | 'metal' | 'd3d12' | 'webgpu' | 'unknown';

/** The GPU adapter `init()` got (also in every experiment's results.json). */
export interface AdapterReport {
  /** Human-readable adapter description (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"). */
  description: string;
  /** The backend we asked Dawn for, or 'webgpu' in a browser / for an injected device. */
  backend: Backend;
  /** 'core' or 'compatibility' (WebGPU feature level). */
  featureLevel: 'core' | 'compatibility';
  /** True for CPU implementations (lavapipe, llvmpipe, SwiftShader). */
  software: boolean;
  /** The device's maxComputeInvocationsPerWorkgroup limit. */
  maxWorkgroupInvocations: number;
  /** The subgroup size when the device has the 'subgroups' feature and one fixed size, else null. */
  subgroupSize: number | null;
}

/** Thrown by GPU work after the device was lost (driver reset, destroy()); call `init()` again. */
export class DeviceLostError extends Error {
  constructor(reason: string) {
    super(`hypertape: the GPU device was lost (${reason}). Call init() again to get a new device; ` +
      `tensors made on the lost device cannot be used any more.`);
    this.name = 'DeviceLostError';
  }
}

/** Counters of GPU memory and work, from {@link memory}. */
export interface MemoryStats {
  /** Buffers currently owned by live tensors. */
  liveBuffers: number;
  /** Bytes of those buffers. */
  liveBytes: number;
  /** Highest liveBytes since init or the last resetPeak(). */
  peakBytes: number;
  /** Bytes kept in the pool for reuse (not counted as live). */
  pooledBytes: number;
  /** Compute dispatches recorded so far. */
  dispatches: number;
  /** Readbacks to the CPU so far. */
  readbacks: number;
}

/** Size classes: 2^k * {1, 1.25, 1.5, 1.75}, at least 256 bytes, so a reused buffer wastes < 25%. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const k = Math.floor(Math.log2(bytes - 1));
  const base = 2 ** k;
  const quarter = base / 4;
  return base + Math.ceil((bytes - base) / quarter) * quarter;
}

const STORAGE_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8 /* COPY_DST */;
const UNIFORM_BLOCK = 256; // minUniformBufferOffsetAlignment upper bound
const UNIFORM_RING_BYTES = 256 * UNIFORM_BLOCK;

/** A compute shader as the engine caches it: WGSL source and a cache key. */
export interface Kernel {
  /** Cache key; usually the WGSL source itself. */
  key: string;
  /** The WGSL source, with one `main` compute entry point. */
  code: string;
  /** How many storage bindings, from binding 1 on, are read-write (default 1: the output). */
  writable?: number;
  /**
   * Bindings (numbers, after the writable ones) that are sampled float textures instead of
   * read-only storage buffers: the dispatch passes a GPUTextureView there (default none).
   */
  textures?: readonly number[];
  /** Bindings (numbers) that are write-only rgba32float storage textures (a GPUTextureView there). */
  storageTextures?: readonly number[];
}

/** What a dispatch binds from binding 1 on: storage buffers, and texture views where the kernel says. */
export type Binding = GPUBuffer | GPUTextureView;

/** Called before a command writes `buffer`; returns true if it recorded commands (see setWriteHook). */
export type WriteHook = (buffer: GPUBuffer) => boolean;

let writeHook: WriteHook | null = null;

/**
 * @internal Installs the function every engine calls before a command writes a buffer (a
 * dispatch's writable bindings, a copy's destination, an upload): the lazy ops layer computes the
 * pending values that still read that buffer first (src/ops/fusion/graph.ts).
 */
export function setWriteHook(fn: WriteHook | null): void {
  writeHook = fn;
}

const writeListeners: ((buffer: GPUBuffer) => void)[] = [];

/**
 * @internal Adds a function called, like the write hook, before any command writes a buffer
 * (caches of a buffer's contents drop them: src/ops/kernels/matrix-texture.ts).
 */
export function addWriteListener(fn: (buffer: GPUBuffer) => void): void {
  writeListeners.push(fn);
}

/** Tells the hook and the listeners that `buf` is about to be written; true if the hook recorded commands. */
function beforeWrite(buf: GPUBuffer): boolean {
  for (const l of writeListeners) l(buf);
  return writeHook?.(buf) ?? false;
}

/** The ops whose kernels check indices, in the order of the op code (1, 2, ...) they record in the index-error block. */
export const INDEX_ERROR_OPS = ['gather', 'oneHot', 'scatterAdd'] as const;

/**
 * The device layer every op runs on: one GPUDevice, a buffer pool, a pipeline cache, one open
 * command encoder submitted in batches, async readback and memory counters. `init()` returns it;
 * most users need only its `adapter`.
 */
export class Engine {
  /** The GPUDevice in use. */
  readonly device: GPUDevice;
  /** What the adapter is (description, backend, feature level, software or not). */
  readonly adapter: AdapterReport;
  /** Dispatches per submit. Smaller batches free pooled buffers sooner; larger ones cost less CPU. */
  batchSize = 64;
  /**
   * Blocks the calling thread for about `ms` milliseconds, if the platform can (Node can; a
   * browser's main thread cannot). Set by src/gpu/node.ts; see `settle`.
   */
  sleep: ((ms: number) => void) | null = null;

  private pipelines = new Map<string, GPUComputePipeline>();
  /** Bind group layouts by number of storage buffers: the uniform block, then the buffers. */
  private layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  /**
   * Kernels that read indices (gather, one-hot, scatter-add) record the first out-of-range one here:
   * [found (0/1), index (i32 bits), bound, op (1 + index in INDEX_ERROR_OPS)]. It is read with the
   * next readback or sync, which then throws. Made on first use.
   */
  private indexErrors: GPUBuffer | null = null;
  private indexChecksPending = false;
  private free = new Map<number, GPUBuffer[]>();
  private pendingFree: GPUBuffer[] = [];
  private pooledBytes = 0;
  private readonly poolCapBytes: number;
  private stagingFree: GPUBuffer[] = [];

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private uniformBuffer: GPUBuffer;
  private uniformData = new ArrayBuffer(UNIFORM_RING_BYTES);
  private uniformBytes = new Uint8Array(this.uniformData);
  private uniformOffset = 0;

  private liveBuffers = 0;
  private liveBytes = 0;
  private peakBytes = 0;
  private dispatches = 0;
  private readbacks = 0;
  private lostReason: string | null = null;
  private destroyed = false;
  private firstError: string | null = null;
  private errorsSeen = 0;

  constructor(device: GPUDevice, adapter: AdapterReport, opts: { poolCapBytes?: number } = {}) {
    this.device = device;
    this.adapter = adapter;
    this.poolCapBytes = opts.poolCapBytes ?? 512 * 1024 * 1024;
    this.uniformBuffer = device.createBuffer({ size: UNIFORM_RING_BYTES, usage: 0x40 /* UNIFORM */ | 0x8 });
    device.lost.then((info) => {
      this.lostReason = `${info.reason ?? 'unknown'}: ${info.message || 'no message'}`;
    });
    device.addEventListener?.('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      const message = err?.message ?? String(err);
      // "X is invalid due to a previous error" follows an error already reported: the same
      // failure, which must not be blamed on the next operation.
      if (this.errorsSeen++ > 0 && /invalid due to a previous error/.test(message)) return;
      this.firstError ??= message;
    });
  }

  /** Throws if the device is gone or an earlier command failed validation; never hangs. */
  check(): void {
    if (this.destroyed) throw new Error('hypertape: this engine was replaced by a later init(); use the new one (engine()).');
    if (this.lostReason !== null) throw new DeviceLostError(this.lostReason);
    if (this.firstError !== null) {
      const msg = this.firstError;
      this.firstError = null;
      throw new Error(`hypertape: the GPU rejected a command: ${msg}`);
    }
  }

  /** True once the device is lost or destroyed. */
  get isLost(): boolean {
    return this.lostReason !== null;
  }

  /** False once the device is lost or this engine was destroyed (replaced by a later init()). */
  get usable(): boolean {
    return this.lostReason === null && !this.destroyed;
  }

  /** Why this engine cannot be used (its device lost, or itself replaced), or null while it can. */
  get lostMessage(): string | null {
    if (this.destroyed) return 'its GPU device was replaced by a later init()';
    if (this.lostReason !== null) return `its GPU device was lost (${this.lostReason}); call init() again for a new one`;
    return null;
  }

  // ---- buffers -------------------------------------------------------------------------------

  /**
   * A storage buffer of at least `bytes` bytes, owned by the caller until `releaseBuffer`.
   * `internal` buffers (engine-owned caches) are not counted as live tensor memory.
   */
  acquireBuffer(bytes: number, opts: { internal?: boolean } = {}): GPUBuffer {
    this.check();
    const limit = this.maxBindingBytes;
    if (bytes > limit) {
      throw new Error(`hypertape: a buffer of ${bytes.toLocaleString('en-US')} bytes is over this device's limit of ` +
        `${limit.toLocaleString('en-US')} bytes for a buffer a kernel can use (maxStorageBufferBindingSize); split the work into smaller tensors.`);
    }
    // Size classes round up by < 25%; never past what a kernel can bind.
    const size = Math.min(sizeClass(Math.max(bytes, 4)), limit);
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) this.pooledBytes -= size;
    else buf = this.device.createBuffer({ size, usage: STORAGE_USAGE });
    if (opts.internal) return buf;
    this.liveBuffers++;
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return buf;
  }

  /**
   * Gives a buffer back. While unsubmitted commands may still use it, it waits in `pendingFree`:
   * an upload (queue.writeBuffer) into it would otherwise run before those commands.
   */
  releaseBuffer(buf: GPUBuffer, opts: { internal?: boolean } = {}): void {
    for (const l of writeListeners) l(buf); // its contents mean nothing any more
    if (!opts.internal) {
      this.liveBuffers--;
      this.liveBytes -= buf.size;
    }
    if (this.encoder) this.pendingFree.push(buf);
    else this.toPool(buf);
  }

  private toPool(buf: GPUBuffer): void {
    if (this.lostReason !== null || this.pooledBytes + buf.size > this.poolCapBytes) {
      buf.destroy();
      return;
    }
    let list = this.free.get(buf.size);
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
    this.pooledBytes += buf.size;
  }

  /** Frees every pooled buffer (live ones are untouched). */
  trimPool(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  /** Writes `data` into `buf` at `byteOffset`, ordered after the commands recorded so far. */
  upload(buf: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check();
    // queue.writeBuffer runs before commands not yet submitted: pending reads of buf go first.
    if (beforeWrite(buf)) this.flush();
    this.device.queue.writeBuffer(buf, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The largest buffer a kernel can bind (a multiple of 4): the most bytes one tensor may have. */
  get maxBindingBytes(): number {
    const l = this.device.limits;
    return Math.floor(Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) / 4) * 4;
  }

  // ---- memory counters ---------------------------------------------------------------------

  /** Live and peak tensor bytes, pooled bytes, dispatches and readbacks so far. */
  memory(): MemoryStats {
    return {
      liveBuffers: this.liveBuffers,
      liveBytes: this.liveBytes,
      peakBytes: this.peakBytes,
      pooledBytes: this.pooledBytes,
      dispatches: this.dispatches,
      readbacks: this.readbacks,
    };
  }

  /** Starts peak tracking afresh from the current live bytes. */
  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  // ---- pipelines and dispatch --------------------------------------------------------------

  /**
   * Every kernel binds its parameters at binding 0 (a 256-byte slot of one uniform ring buffer)
   * and `storage` bindings at 1.. : the kernel's `writable` buffers read-write, the inputs
   * read-only, and texture views where the kernel's `textures` and `storageTextures` say.
   */
  private layout(storage: number, kernel: Kernel): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const { writable = 1, textures = [], storageTextures: stores = [] } = kernel;
    const key = `${storage}/${writable}/${textures.join(',')}/${stores.join(',')}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'uniform' } },
      ];
      for (let i = 1; i <= storage; i++) {
        entries.push(textures.includes(i)
          ? { binding: i, visibility: 4, texture: { sampleType: 'unfilterable-float' } }
          : stores.includes(i)
            ? { binding: i, visibility: 4, storageTexture: { access: 'write-only', format: 'rgba32float' } }
            : { binding: i, visibility: 4, buffer: { type: i <= writable ? 'storage' : 'read-only-storage' } });
      }
      const group = this.device.createBindGroupLayout({ entries });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, l);
    }
    return l;
  }

  /** The compute pipeline of `kernel` with `storage` storage buffers (compiled once, then cached). */
  pipeline(kernel: Kernel, storage: number): GPUComputePipeline {
    let p = this.pipelines.get(kernel.key);
    if (!p) {
      const module = this.device.createShaderModule({ code: kernel.code });
      p = this.device.createComputePipeline({ layout: this.layout(storage, kernel).pipeline, compute: { module, entryPoint: 'main' } });
      this.pipelines.set(kernel.key, p);
    }
    return p;
  }

  /**
   * A new bind group per dispatch. (Caching them by buffers and uniform slot made small
   * dispatches about 40% cheaper on lavapipe, but keeping thousands of bind groups alive crashed
   * Dawn on lavapipe after some 10,000 steps of a training-like loop, so it is not done.)
   */
  private bindGroup(bindings: readonly Binding[], buffers: readonly (GPUBuffer | null)[], offset: number, kernel: Kernel): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.uniformBuffer, offset, size: UNIFORM_BLOCK } }];
    for (let i = 0; i < bindings.length; i++) {
      const buffer = buffers[i];
      entries.push({ binding: i + 1, resource: buffer ? { buffer } : bindings[i] as GPUTextureView });
    }
    return this.device.createBindGroup({ layout: this.layout(bindings.length, kernel).group, entries });
  }

  /**
   * The index-error block that index-reading kernels bind (read-write, after their output);
   * calling this marks it to be checked at the next readback or sync.
   */
  indexErrorBuffer(): GPUBuffer {
    this.indexErrors ??= this.device.createBuffer({ size: 16, usage: STORAGE_USAGE });
    this.indexChecksPending = true;
    return this.indexErrors;
  }

  /** Throws for an index error recorded by a kernel (see indexErrorBuffer) and clears it. */
  private reportIndexError(block: Uint32Array): void {
    if (block[0] === 0) return;
    this.device.queue.writeBuffer(this.indexErrors!, 0, new Uint32Array(4));
    const index = block[1]! | 0;
    const bound = block[2]!;
    const op = INDEX_ERROR_OPS[block[3]! - 1] ?? 'an index op';
    const what = op === 'oneHot' || op === 'scatterAdd' ? `depth ${bound}` : `an axis of length ${bound}`;
    throw new Error(`hypertape: ${op}: index ${index} is out of range for ${what} (valid: 0 to ${bound - 1}). ` +
      'It was found on the GPU by an op since the last readback, so values computed from it are wrong; ' +
      'check the index tensor (e.g. labels against the number of classes).');
  }

  /** The number of compiled pipelines (for tests of the cache). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Records one dispatch into the open compute pass. Binding 0 is the uniform block `params`
   * (at most 256 bytes), bindings 1.. are the storage buffers in order (texture views at the
   * kernel's `textures` bindings).
   */
  dispatch(kernel: Kernel, bindings: readonly Binding[], params: ArrayBuffer, workgroups: [number, number?, number?]): void {
    this.check();
    // The bindings that are buffers (null where the kernel takes a texture view).
    const views = [...(kernel.textures ?? []), ...(kernel.storageTextures ?? [])];
    const buffers = views.length === 0 ? bindings as readonly GPUBuffer[] : bindings.map((b, i) => (views.includes(i + 1) ? null : b as GPUBuffer));
    for (let i = 0; i < (kernel.writable ?? 1); i++) if (buffers[i]) beforeWrite(buffers[i]!);
    // Limits are checked before anything is encoded: a command the device rejects would make
    // the whole open command buffer invalid, and with it the next operations.
    if (params.byteLength > UNIFORM_BLOCK) throw new Error(`hypertape: kernel params of ${params.byteLength} bytes exceed ${UNIFORM_BLOCK}`);
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (workgroups.some((g) => g !== undefined && (!Number.isInteger(g) || g < 0 || g > maxGroups))) {
      throw new Error(`hypertape: a kernel would need a grid of [${workgroups.join(', ')}] workgroups, over this device's limit of ` +
        `${maxGroups.toLocaleString('en-US')} per dimension (maxComputeWorkgroupsPerDimension); split the work into smaller tensors.`);
    }
    // A buffer written by a kernel and also bound to it for reading is a bookkeeping error (a
    // buffer freed while still read); say so here instead of the device's later, vaguer error.
    const writable = kernel.writable ?? 1;
    for (let i = 0; i < writable; i++) {
      for (let j = 0; j < buffers.length; j++) {
        if (j !== i && buffers[j] !== null && buffers[j] === buffers[i]) {
          throw new Error(`hypertape internal: a kernel would write binding ${i + 1} and also bind the same buffer at ${j + 1}; ` +
            'a buffer was released while something still read it. Please report this with the code that triggered it.');
        }
      }
    }
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    for (const b of buffers) {
      if (b && b.size > maxBinding) {
        throw new Error(`hypertape: a kernel would bind a buffer of ${b.size.toLocaleString('en-US')} bytes, over this device's limit of ` +
          `${maxBinding.toLocaleString('en-US')} (maxStorageBufferBindingSize); split the work into smaller tensors.`);
      }
    }
    if (this.uniformOffset + UNIFORM_BLOCK > UNIFORM_RING_BYTES) this.flush();
    const pipeline = this.pipeline(kernel, bindings.length);
    const offset = this.uniformOffset;
    this.uniformBytes.set(new Uint8Array(params), offset);
    this.uniformOffset += UNIFORM_BLOCK;
    const bindGroup = this.bindGroup(bindings, buffers, offset, kernel);
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    this.dispatches++;
    if (++this.pendingDispatches >= this.batchSize) this.flush();
  }

  /**
   * A new rgba32float texture of width x height texels that kernels write with textureStore and
   * read with textureLoad, counted in memory() like a buffer until destroyTexture().
   */
  createTexture(width: number, height: number): GPUTexture {
    this.check();
    const tex = this.device.createTexture({ size: [width, height], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING });
    this.liveBytes += 16 * width * height;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return tex;
  }

  /** Frees a texture made by createTexture (after the commands recorded so far). */
  destroyTexture(tex: GPUTexture): void {
    this.liveBytes -= 16 * tex.width * tex.height;
    if (this.encoder) this.flush(); // commands that read it go first
    tex.destroy();
  }

  /** Records a buffer-to-buffer copy (used by the copy benchmark and by readback). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.check();
    beforeWrite(dst);
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    if (++this.pendingDispatches >= this.batchSize) this.flush();
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.uniformOffset > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformData, 0, this.uniformOffset);
      this.uniformOffset = 0;
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pendingDispatches = 0;
    for (const b of this.pendingFree) this.toPool(b);
    this.pendingFree = [];
  }

  /** Resolves when the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    if (this.indexChecksPending) {
      await this.read(this.indexErrors!, 0, 4); // throws for a recorded index error
      return;
    }
    this.flush();
    await this.settle(this.device.queue.onSubmittedWorkDone());
    this.check();
  }

  /**
   * Awaits a promise from the device. Under Node, Dawn delivers it by polling on the JavaScript
   * thread back to back while it is pending, which on a CPU adapter (lavapipe) takes a core away
   * from the threads doing the GPU's work. With a `sleep` available the thread instead lets one
   * poll run, then sleeps a little (20 us, doubling up to 1 ms), until the promise settles.
   */
  private async settle<T>(promise: Promise<T>): Promise<T> {
    const sleep = this.sleep;
    if (!sleep) return promise;
    let settled = false;
    promise.then(() => (settled = true), () => (settled = true));
    let pause = 0.02;
    for (;;) {
      await new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
      if (settled) return promise;
      this.check(); // a lost device may never settle what was pending on it
      sleep(pause);
      pause = Math.min(2 * pause, 1);
    }
  }

  /** Copies `bytes` bytes of `buf` (from `offset`) to the CPU. The only way data leaves the GPU. */
  async read(buf: GPUBuffer, offset: number, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    // With index checks pending, the index-error block travels in the same staging buffer.
    const withIndex = this.indexChecksPending;
    this.indexChecksPending = false;
    const total = withIndex ? size + 16 : size;
    const staging = this.takeStaging(total);
    this.copy(buf, offset, staging, 0, size);
    if (withIndex) this.copy(this.indexErrors!, 0, staging, size, 16);
    this.flush();
    this.readbacks++;
    try {
      await this.settle(staging.mapAsync(1 /* GPUMapMode.READ */, 0, total));
    } catch (e) {
      this.check();
      throw e;
    }
    const mapped = staging.getMappedRange(0, total);
    const out = mapped.slice(0, bytes);
    const block = withIndex ? new Uint32Array(mapped.slice(size, size + 16)) : null;
    staging.unmap();
    this.stagingFree.push(staging);
    this.check();
    if (block) this.reportIndexError(block);
    return out;
  }

  private takeStaging(size: number): GPUBuffer {
    const i = this.stagingFree.findIndex((b) => b.size >= size && b.size <= 4 * size);
    if (i >= 0) return this.stagingFree.splice(i, 1)[0]!;
    if (this.stagingFree.length > 8) this.stagingFree.shift()!.destroy();
    return this.device.createBuffer({ size: sizeClass(size), usage: 0x1 /* MAP_READ */ | 0x8 /* COPY_DST */ });
  }

  /** Destroys the device and every pooled buffer; the engine cannot be used afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.trimPool();
    for (const b of this.stagingFree) b.destroy();
    this.stagingFree = [];
    this.uniformBuffer.destroy();
    this.indexErrors?.destroy();
    this.device.destroy();
  }
}
