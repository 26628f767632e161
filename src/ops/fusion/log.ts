// The kernel log: a switch that shows each generated elementwise kernel once, with the ops it
// computes, for people who study the WGSL the lazy ops layer writes. Off by default; under Node
// the environment variable HYPERTAPE_PRINT_KERNELS=1 turns it on (src/node.ts), in a browser
// setKernelLog(console.log).

/** What the kernel log is given for each newly generated fused kernel. */
export interface KernelLogEntry {
  /** The ops the kernel computes, in the order it computes them (e.g. ['mul', 'add', 'sigmoid']). */
  ops: readonly string[];
  /**
   * The generated WGSL: the parameter block, the bindings, one function per distinct op and the
   * entry point (the shared helpers of shaders/elementwise.wgsl, such as expf and sigmoidf, are
   * left out; `code` has everything).
   */
  wgsl: string;
  /**
   * The complete shader as compiled; for a reduction's prologue or a matmul's epilogue, the
   * generated function with the shared helpers, as spliced into its host kernel's template.
   */
  code: string;
}

/**
 * A kernel log: given each newly generated kernel as printable text (a header naming the fused
 * ops, then the WGSL) and as data.
 */
export type KernelLog = (text: string, entry: KernelLogEntry) => void;

let log: KernelLog | null = null;

/**
 * Shows each elementwise kernel the lazy ops layer generates, once per distinct kernel, with the
 * ops it fused: `setKernelLog((text) => console.log(text))` prints them (in Node,
 * HYPERTAPE_PRINT_KERNELS=1 prints them on stderr), null turns the log off. Kernels generated
 * before the log was set are not shown.
 */
export function setKernelLog(fn: KernelLog | null): void {
  log = fn;
}

/** The text a log is given for an entry: a header naming the ops, then the generated WGSL. */
export function formatKernel(entry: KernelLogEntry): string {
  const n = entry.ops.length;
  return `// ---- hypertape fused kernel: ${entry.ops.join(' -> ')} (${n} op${n === 1 ? '' : 's'}) ----\n${entry.wgsl}\n`;
}

/** @internal called once per newly generated kernel. */
export function logKernel(entry: KernelLogEntry): void {
  log?.(formatKernel(entry), entry);
}

/** @internal Whether a log is set. */
export function kernelLogOn(): boolean {
  return log !== null;
}
