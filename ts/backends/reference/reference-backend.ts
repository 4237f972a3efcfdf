/**
 * The reference backend: plain TypeScript, float64 activations and accumulation, written to be
 * read. It is the oracle that every fast kernel (WASM, WGSL) is tested against, so it has no
 * tricks beyond visiting memory in a sensible order. Shapes use the legend of `ts/graph/ops.ts`.
 */
import type { Batch } from '../../graph/batch.js';
import { type OpKernels, dispatchStep } from '../../graph/execute.js';
import type {
  AttentionNode,
  DenseNode,
  EmbedNode,
  GluNode,
  GraphNode,
  LayerNormNode,
  LinearNode,
  NormalizeNode,
  PoolNode,
  RopeNode,
} from '../../graph/ops.js';
import type { GraphPlan, PlannedValue } from '../../graph/plan.js';
import type { GraphWeights, Tensor } from '../../graph/weights.js';
import type { Backend, BackendStats, RunIO } from '../types.js';
import { gelu, geluTanh, silu } from './math.js';
import { quantizedLinear } from './quantized.js';

/** A float64 activation [rows, cols]. */
export interface RefTensor {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/**
 * The float64 oracle as a device. Every activation gets its own array (no slot sharing: the
 * oracle stays as plain as possible).
 * @example
 * const backend = new ReferenceBackend(bindWeights(graph.weights, checkpoint));
 * const { output } = await runGraph(graph, backend, batch);   // Float64Array
 */
export class ReferenceBackend implements Backend {
  readonly device = 'reference' as const;
  readonly threads = 1;

  constructor(private readonly weights: GraphWeights) {}

  dispose(): void {}

  /** The reference implements every node of the vocabulary: every pooling mode and the Dense head. */
  supports(_node: GraphNode): boolean {
    return true;
  }

  stats(): BackendStats {
    let weightBytes = 0;
    for (const t of this.weights.values()) weightBytes += t.quantized ? t.quantized.values.byteLength : t.data.byteLength;
    return { device: 'reference', threads: 1, weightBytes, activationBytes: 0 };
  }

  async execute(plan: GraphPlan, batch: Batch, io: RunIO): Promise<Float64Array[]> {
    const tensors = new Map<PlannedValue, RefTensor>();
    const tensor = (v: PlannedValue): RefTensor => {
      let t = tensors.get(v);
      if (!t) {
        const rows = v.rows === 'tokens' ? batch.tokens : batch.batchSize;
        t = { rows, cols: v.cols, data: new Float64Array(rows * v.cols) };
        tensors.set(v, t);
      }
      return t;
    };
    for (const [v, values] of io.writes) tensor(v).data.set(values);
    const kernels = new ReferenceKernels(this.weights, batch);
    for (const step of plan.steps) dispatchStep(kernels, step, tensor);
    return io.reads.map((v) => tensor(v).data);
  }
}

/** The ops on float64 arrays, for one batch. Shapes use the legend of ts/graph/ops.ts. */
class ReferenceKernels implements OpKernels<RefTensor> {
  constructor(
    private readonly weights: GraphWeights,
    private readonly inputs: Batch,
  ) {}

  // out is [N, C]: word[ids[n]] + position[t + offset] + tokenType[typeIds[n]], t = n mod T
  // (a missing table adds nothing).
  embed(node: EmbedNode, out: RefTensor): void {
    const { ids, typeIds, seqLen } = this.batch();
    const word = this.weight(node.word).data;
    const position = node.position ? this.weight(node.position).data : undefined;
    const tokenType = node.tokenType ? this.weight(node.tokenType).data : undefined;
    const offset = node.positionOffset ?? 0;
    const C = out.cols;
    for (let n = 0; n < out.rows; n++) {
      const w = ids[n]! * C;
      const p = ((n % seqLen) + offset) * C;
      const tt = typeIds[n]! * C;
      for (let c = 0; c < C; c++) {
        let v = word[w + c]!;
        if (position) v += position[p + c]!;
        if (tokenType) v += tokenType[tt + c]!;
        out.data[n * C + c] = v;
      }
    }
  }

  // x and out are [N, 3C]: Q and K of every head rotated by the angles of position t = n mod T,
  // V copied (see RopeNode for the pairing).
  rope(node: RopeNode, x: RefTensor, out: RefTensor): void {
    const { seqLen } = this.batch();
    const cos = this.weight(node.cos).data;
    const sin = this.weight(node.sin).data;
    const HS = node.headSize;
    const half = HS / 2;
    const C = node.numHeads * HS;
    out.data.set(x.data);
    for (let n = 0; n < x.rows; n++) {
      const angle = (n % seqLen) * half;
      for (let block = 0; block < 2; block++) {
        for (let h = 0; h < node.numHeads; h++) {
          const base = n * 3 * C + block * C + h * HS;
          for (let i = 0; i < half; i++) {
            const [a, b] = node.layout === 'half' ? [base + i, base + i + half] : [base + 2 * i, base + 2 * i + 1];
            const xa = x.data[a]!;
            const xb = x.data[b]!;
            const c = cos[angle + i]!;
            const s = sin[angle + i]!;
            out.data[a] = xa * c - xb * s;
            out.data[b] = xb * c + xa * s;
          }
        }
      }
    }
  }

  // x is [N, 2I], out is [N, I]: act(first half) · second half.
  glu(node: GluNode, x: RefTensor, out: RefTensor): void {
    const I = out.cols;
    const f = node.activation === 'gelu' ? gelu : node.activation === 'gelu_tanh' ? geluTanh : silu;
    for (let n = 0; n < x.rows; n++) {
      for (let i = 0; i < I; i++) out.data[n * I + i] = f(x.data[n * 2 * I + i]!) * x.data[n * 2 * I + I + i]!;
    }
  }

  // x is [rows, K], W is [M, K], out is [rows, M]: out = x·Wᵀ + b, then the epilogue.
  linear(node: LinearNode, x: RefTensor, out: RefTensor, residual: RefTensor | undefined): boolean {
    if (node.precision === 'q8') return this.linearQ8(node, x, out, residual);
    const W = this.weight(node.weight).data;
    const b = this.weight(node.bias).data;
    const K = x.cols;
    const M = out.cols;
    const xs = x.data;
    for (let r = 0; r < x.rows; r++) {
      const xRow = r * K;
      const oRow = r * M;
      let m = 0;
      // Four output columns per pass over the x row, so each x value is loaded once for four
      // weights (2.5× faster in V8 than one column at a time; same float64 sums).
      for (; m + 4 <= M; m += 4) {
        const w0 = m * K;
        const w1 = w0 + K;
        const w2 = w1 + K;
        const w3 = w2 + K;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let k = 0; k < K; k++) {
          const xv = xs[xRow + k]!;
          a0 += xv * W[w0 + k]!;
          a1 += xv * W[w1 + k]!;
          a2 += xv * W[w2 + k]!;
          a3 += xv * W[w3 + k]!;
        }
        out.data[oRow + m] = a0;
        out.data[oRow + m + 1] = a1;
        out.data[oRow + m + 2] = a2;
        out.data[oRow + m + 3] = a3;
      }
      for (; m < M; m++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += xs[xRow + k]! * W[m * K + k]!;
        out.data[oRow + m] = acc;
      }
      // Epilogue: bias, then GELU or the residual.
      for (m = 0; m < M; m++) {
        let v = out.data[oRow + m]! + b[m]!;
        if (node.epilogue === 'gelu') v = gelu(v);
        else if (node.epilogue === 'residual') v += residual!.data[oRow + m]!;
        out.data[oRow + m] = v;
      }
    }
    return false;
  }

  // The same in int8, as onnxruntime runs a quantize_dynamic file (./quantized.ts), then the epilogue.
  private linearQ8(node: LinearNode, x: RefTensor, out: RefTensor, residual: RefTensor | undefined): boolean {
    const w = this.weight(node.weight);
    if (!w.quantized) throw new Error(`reference: "${node.weight}" is not quantized, the graph computes it in q8`);
    const M = out.cols;
    out.data.set(quantizedLinear(x.data, x.rows, x.cols, w.quantized, M, this.weight(node.bias).data));
    for (let i = 0; i < out.data.length; i++) {
      if (node.epilogue === 'gelu') out.data[i] = gelu(out.data[i]!);
      else if (node.epilogue === 'residual') out.data[i] = out.data[i]! + residual!.data[i]!;
    }
    return false;
  }

  // Row-wise over C columns; two-pass statistics (mean, then variance about the mean).
  layerNorm(node: LayerNormNode, x: RefTensor, out: RefTensor): void {
    const gamma = this.weight(node.gamma).data;
    const beta = this.weight(node.beta).data;
    const C = x.cols;
    for (let r = 0; r < x.rows; r++) {
      const row = r * C;
      let mean = 0;
      for (let c = 0; c < C; c++) mean += x.data[row + c]!;
      mean /= C;
      let variance = 0;
      for (let c = 0; c < C; c++) variance += (x.data[row + c]! - mean) ** 2;
      variance /= C;
      const inv = 1 / Math.sqrt(variance + node.eps);
      for (let c = 0; c < C; c++) out.data[row + c] = (x.data[row + c]! - mean) * inv * gamma[c]! + beta[c]!;
    }
  }

  // qkv is [N, 3C], out is [N, C]. Per sequence b and head h: softmax(Q·Kᵀ·scale + bias, masked)·V,
  // where masked keys are padding and, with a window, keys farther than it from the query.
  // A query row that sees no key at all (a padded row beyond every window) is zero.
  attention(node: AttentionNode, qkv: RefTensor, out: RefTensor): void {
    const { batchSize, seqLen, attentionMask } = this.batch();
    const T = seqLen;
    const HS = node.headSize;
    const C = out.cols;
    const C3 = qkv.cols;
    const window = node.window ?? Infinity;
    const bias = node.positionBias ? this.weight(node.positionBias) : undefined;
    const biasWidth = bias ? bias.shape[1]! : 0;
    const biasCenter = (biasWidth - 1) / 2;
    const scores = new Float64Array(T); // one query row of one head at a time
    for (let b = 0; b < batchSize; b++) {
      const base = b * T;
      for (let h = 0; h < node.numHeads; h++) {
        const qCol = h * HS;
        const kCol = C + h * HS;
        const vCol = 2 * C + h * HS;
        for (let i = 0; i < T; i++) {
          const qRow = (base + i) * C3 + qCol;
          const sees = (j: number): boolean => attentionMask[base + j] !== 0 && Math.abs(i - j) <= window; // padded keys take no weight
          let max = -Infinity;
          for (let j = 0; j < T; j++) {
            if (!sees(j)) continue;
            const kRow = (base + j) * C3 + kCol;
            let s = 0;
            for (let d = 0; d < HS; d++) s += qkv.data[qRow + d]! * qkv.data[kRow + d]!;
            scores[j] = s * node.scale + (bias ? bias.data[h * biasWidth + j - i + biasCenter]! : 0);
            if (scores[j]! > max) max = scores[j]!;
          }
          let sum = 0;
          for (let j = 0; j < T; j++) {
            if (!sees(j)) continue;
            scores[j] = Math.exp(scores[j]! - max);
            sum += scores[j]!;
          }
          const outRow = (base + i) * C + h * HS;
          for (let d = 0; d < HS; d++) out.data[outRow + d] = 0;
          for (let j = 0; j < T; j++) {
            if (!sees(j)) continue;
            const p = scores[j]! / sum;
            const vRow = (base + j) * C3 + vCol;
            for (let d = 0; d < HS; d++) out.data[outRow + d]! += p * qkv.data[vRow + d]!;
          }
        }
      }
    }
  }

  // x is [N, C], out is [B, C]. The modes of sentence-transformers' Pooling module (see PoolNode).
  pool(node: PoolNode, x: RefTensor, out: RefTensor): void {
    const { batchSize, seqLen, attentionMask } = this.batch();
    const C = x.cols;
    for (let b = 0; b < batchSize; b++) {
      const o = b * C;
      if (node.mode === 'cls' || node.mode === 'lasttoken') {
        let t = 0;
        if (node.mode === 'lasttoken') for (let j = 0; j < seqLen; j++) if (attentionMask[b * seqLen + j] !== 0) t = j;
        for (let c = 0; c < C; c++) out.data[o + c] = x.data[(b * seqLen + t) * C + c]!;
        continue;
      }
      let count = 0; // Σ weights: the token count, or Σ (t+1) for weightedmean
      for (let c = 0; c < C; c++) out.data[o + c] = node.mode === 'max' ? -Infinity : 0;
      for (let t = 0; t < seqLen; t++) {
        if (attentionMask[b * seqLen + t] === 0) continue;
        const w = node.mode === 'weightedmean' ? t + 1 : 1;
        count += w;
        const row = (b * seqLen + t) * C;
        for (let c = 0; c < C; c++) {
          const v = x.data[row + c]!;
          if (node.mode === 'max') out.data[o + c] = Math.max(out.data[o + c]!, v);
          else out.data[o + c]! += w * v;
        }
      }
      if (node.mode === 'max') continue;
      // sentence-transformers clamps the (weighted) count at 1e-9; mean_sqrt_len divides by its square root.
      const denom = node.mode === 'mean_sqrt_len' ? Math.sqrt(count) : Math.max(count, 1e-9);
      for (let c = 0; c < C; c++) out.data[o + c]! /= denom;
    }
  }

  // x is [B, K], W is [M, K], out is [B, M]: out = act(x·Wᵀ + b).
  dense(node: DenseNode, x: RefTensor, out: RefTensor): void {
    const W = this.weight(node.weight).data;
    const b = node.bias ? this.weight(node.bias).data : undefined;
    const K = x.cols;
    const M = out.cols;
    for (let r = 0; r < x.rows; r++) {
      for (let m = 0; m < M; m++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += x.data[r * K + k]! * W[m * K + k]!;
        if (b) acc += b[m]!;
        out.data[r * M + m] = activation(node.activation, acc);
      }
    }
  }

  // x and out are [B, C].
  normalize(node: NormalizeNode, x: RefTensor, out: RefTensor): void {
    const C = x.cols;
    for (let b = 0; b < x.rows; b++) {
      let sq = 0;
      for (let c = 0; c < C; c++) sq += x.data[b * C + c]! ** 2;
      const denom = Math.max(Math.sqrt(sq), node.eps);
      for (let c = 0; c < C; c++) out.data[b * C + c] = x.data[b * C + c]! / denom;
    }
  }

  private batch(): Batch {
    return this.inputs;
  }

  private weight(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`reference backend: weight "${name}" was not bound`);
    return t;
  }
}

function activation(kind: DenseNode['activation'], v: number): number {
  switch (kind) {
    case 'identity':
      return v;
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return Math.max(0, v);
    case 'gelu':
      return gelu(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
  }
}
