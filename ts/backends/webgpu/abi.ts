/**
 * The interface of every WGSL kernel, declared once (as onnxruntime-web's ProgramInfo does): the
 * fields of its uniform `Params` struct in order, and its storage bindings by name. kernels.ts
 * builds every call through these names; test/webgpu-units.test.ts checks each shader in
 * shaders/ against this table (every `@binding(N) var<…> name` and every Params field), so a
 * shader and its host code cannot drift apart. Binding 0 is always `p: Params` (uniform).
 */
import type { ShaderName } from './wgsl.generated.js';

export interface KernelAbi {
  /** The Params fields (u32 or f32 words), in declaration order. */
  readonly params: readonly string[];
  /** Storage bindings: name → binding number. */
  readonly bindings: Readonly<Record<string, number>>;
}

export const KERNEL_ABI = {
  embed: { params: ['rows', 'cols', 't', 'posOffset'], bindings: { ids: 1, typeIds: 2, word: 3, position: 4, tokenType: 5, out: 6 } },
  rope: { params: ['rows', 't', 'c', 'hs'], bindings: { x: 1, cosTable: 2, sinTable: 3, out: 4 } },
  glu: { params: ['rows', 'i', 'pad0', 'pad1'], bindings: { x: 1, out: 2 } },
  // Split-K partial sums go to `partial` (binding 5, the slot of `out` in the other variants).
  gemm: { params: ['n', 'k', 'm', 'kc'], bindings: { x: 1, wt: 2, bias: 3, res: 4, out: 5, partial: 5 } },
  gemm_reduce: { params: ['n', 'm', 'splits', 'pad'], bindings: { partial: 1, bias: 2, res: 3, out: 4 } },
  layernorm: { params: ['rows', 'cols', 'eps', 'pad'], bindings: { x: 1, gamma: 2, beta: 3, out: 4 } },
  normalize: { params: ['rows', 'cols', 'eps', 'pad'], bindings: { x: 1, out: 2 } },
  pool: { params: ['b', 't', 'cols', 'pad'], bindings: { mask: 1, x: 2, out: 3 } },
  dense: { params: ['b', 'k', 'm', 'pad'], bindings: { x: 1, wt: 2, bias: 3, out: 4 } },
  attention: { params: ['t', 'c', 'scale', 'window', 'span', 'pad0', 'pad1', 'pad2'], bindings: { qkv: 1, mask: 2, keyLen: 3, out: 4, bias: 5 } },
  transpose: { params: ['rows', 'cols', 'pad0', 'pad1'], bindings: { src: 1, dst: 2 } },
  // q8 linear layers (kernels-q8.ts): range of x, quantized x, integer GEMM.
  q8_minmax: { params: ['count', 'chunk', 'groups', 'pad'], bindings: { x: 1, stats: 2 } },
  q8_quantize: { params: ['n', 'k', 'kw', 'groups'], bindings: { x: 1, stats: 2, xq: 3 } },
  gemm_q8: { params: ['n', 'kw', 'm', 'mp', 'k', 'zero', 'pad0', 'pad1'], bindings: { xq: 1, wq: 2, wmeta: 3, bias: 4, res: 5, out: 6, stats: 7 } },
} as const satisfies Partial<Record<ShaderName, KernelAbi>>;

/** The shaders that are kernels (the others are included snippets: gelu, reduce). */
export type KernelName = keyof typeof KERNEL_ABI;

const words = new Uint32Array(1);
const floats = new Float32Array(words.buffer);
/** The bits of an f32 uniform value. */
export function f32Bits(value: number): number {
  floats[0] = value;
  return words[0]!;
}

/**
 * A kernel's Params block from named values (u32 words; pass f32 values through f32Bits).
 * Fields left out are 0 (padding).
 */
export function paramsOf<K extends KernelName>(kernel: K, values: Partial<Record<(typeof KERNEL_ABI)[K]['params'][number], number>>): number[] {
  return (KERNEL_ABI[kernel].params as readonly string[]).map((f) => (values as Record<string, number | undefined>)[f] ?? 0);
}

/** The binding number of a kernel's storage binding. */
export function bindingOf<K extends KernelName>(kernel: K, name: keyof (typeof KERNEL_ABI)[K]['bindings']): number {
  return (KERNEL_ABI[kernel].bindings as Record<string, number>)[name as string]!;
}
