/**
 * The encoder forward pass, described once for every family: the builder reads the family's
 * layout (families.ts: tensor names, pre- or post-norm blocks, plain or gated MLP) and the config
 * (positions, RoPE, sliding windows, biases) and emits the list of nodes every backend executes;
 * no backend re-describes the model.
 */
import { DualbertError } from '../errors.js';
import { type BertConfig, headSize, maxSequenceLength } from './config.js';
import { familyLayout } from './families.js';
import type { ActivationSpec, DenseActivation, DerivedWeight, GraphNode, PoolingMode, WeightSpec } from './ops.js';

/** One sentence-transformers Dense module: weights `${name}.weight` [out, in] and `${name}.bias` [out]. */
export interface DenseSpec {
  /** Checkpoint name prefix of the module's Linear, e.g. "2_Dense.linear". */
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  activation: DenseActivation;
}

/** What to do after the encoder: pooling, then the Dense modules in order, then optional L2 normalization. */
export interface HeadOptions {
  pooling: PoolingMode;
  normalize: boolean;
  /** sentence-transformers Dense modules after pooling (e.g. LaBSE: 768→768 tanh). */
  dense?: readonly DenseSpec[];
}

export interface BertGraph {
  readonly config: BertConfig;
  readonly head: HeadOptions;
  /** Every weight the nodes read (checkpoint tensors and the fused tensors made from them). */
  readonly weights: readonly WeightSpec[];
  /** Every activation the nodes write, with its shape. */
  readonly activations: ReadonlyMap<string, ActivationSpec>;
  /** The forward pass, in execution order. */
  readonly nodes: readonly GraphNode[];
  /** The embeddings output, then each layer's output: [N, C] each (Hugging Face `hidden_states`). */
  readonly hiddenStates: readonly string[];
  /** The encoder's output, [N, C] (Hugging Face `last_hidden_state`: the last layer's, after the final norm of pre-norm families). */
  readonly lastHiddenState: string;
  /** The sentence embeddings: [B, outputSize]. */
  readonly output: string;
  /** Width of the sentence embeddings: C, or the last Dense module's out_features. */
  readonly outputSize: number;
}

/** sentence-transformers' epsilon of `Normalize` (torch.nn.functional.normalize default). */
export const NORMALIZE_EPS = 1e-12;

/** How the graph computes (see {@link buildBertGraph}). */
export interface GraphOptions {
  /**
   * Checkpoint names of the Linear weights stored as int8/uint8 (ONNX dynamic quantization, e.g.
   * from `quantizedNames(checkpoint)`): those layers compute in q8 (see `LinearNode.precision`).
   * A fused projection (Q/K/V, a gated MLP's halves) is q8 when all its parts are.
   */
  quantized?: ReadonlySet<string>;
}

/**
 * Builds the graph of an encoder (of the config's family, BERT by default) followed by pooling
 * and optional normalization.
 * @example
 * const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(model.checkpoint) });
 */
export function buildBertGraph(config: BertConfig, head: HeadOptions, options: GraphOptions = {}): BertGraph {
  const layout = familyLayout(config);
  const biases = layout.biases(config);
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const HS = headSize(config);
  const weights: WeightSpec[] = [];
  const activations = new Map<string, ActivationSpec>();
  const nodes: GraphNode[] = [];

  const weight = (name: string, shape: number[], concatOf?: readonly string[], precision?: 'q8'): string => {
    const role = shape.length === 1 ? 'vector' : 'linear';
    weights.push({ name, shape, role, ...(concatOf ? { concatOf } : {}), ...(precision ? { precision } : {}) });
    return name;
  };
  /** 'q8' when every checkpoint tensor of this Linear weight is quantized. */
  const precisionOf = (parts: readonly string[]): 'q8' | undefined => (parts.every((p) => options.quantized?.has(p)) ? 'q8' : undefined);
  const table = (name: string, shape: number[]): string => {
    weights.push({ name, shape, role: 'table' });
    return name;
  };
  const derived = new Set<string>();
  const derivedWeight = (name: string, shape: number[], role: WeightSpec['role'], derive: DerivedWeight): string => {
    if (!derived.has(name)) {
      derived.add(name);
      weights.push({ name, shape, role, derive });
    }
    return name;
  };
  /** The bias of a Linear or LayerNorm, or zeros when the family has none there. */
  const bias = (prefix: string, size: number, present: boolean): string =>
    present ? weight(`${prefix}.bias`, [size]) : derivedWeight(`zeros[${size}]`, [size], 'vector', { kind: 'zeros' });
  const act = (id: string, cols: number, rows: ActivationSpec['rows'] = 'tokens'): string => {
    activations.set(id, { id, rows, cols });
    return id;
  };
  const layerNorm = (prefix: string, x: string, out: string): string => {
    nodes.push({
      op: 'layerNorm',
      out: act(out, C),
      x,
      gamma: weight(`${prefix}.weight`, [C]),
      beta: bias(prefix, C, biases.norm),
      eps: config.layerNormEps,
    });
    return out;
  };
  /**
   * A Linear; `prefix` may name several Linears stacked along dim 0 into one GEMM, whose weight
   * is named after their module and `stacked` (BERT's `attention.self.qkv`).
   */
  const linear = (
    prefix: string | readonly string[],
    hasBias: boolean,
    x: string,
    out: string,
    inFeatures: number,
    outFeatures: number,
    epilogue: 'none' | 'gelu' | 'residual' = 'none',
    residual?: string,
    stacked = 'stacked',
  ): string => {
    const parts = typeof prefix === 'string' ? undefined : prefix;
    const name = parts ? `${parts[0]!.slice(0, parts[0]!.lastIndexOf('.'))}.${stacked}` : (prefix as string);
    const precision = precisionOf((parts ?? [name]).map((p) => `${p}.weight`));
    nodes.push({
      op: 'linear',
      out: act(out, outFeatures),
      x,
      weight: weight(`${name}.weight`, [outFeatures, inFeatures], parts?.map((p) => `${p}.weight`), precision),
      bias: hasBias && parts ? weight(`${name}.bias`, [outFeatures], parts.map((p) => `${p}.bias`)) : bias(name, outFeatures, hasBias),
      epilogue,
      ...(residual ? { residual } : {}),
      ...(precision ? { precision } : {}),
    });
    return out;
  };
  const ropeTables = (theta: number): { cos: string; sin: string } => {
    const shape = [config.maxPositions, HS / 2];
    return {
      cos: derivedWeight(`rope[${theta}].cos`, shape, 'table', { kind: 'rope', part: 'cos', theta, dims: HS }),
      sin: derivedWeight(`rope[${theta}].sin`, shape, 'table', { kind: 'rope', part: 'sin', theta, dims: HS }),
    };
  };
  // MPNet: the bias of every offset, gathered once from the bucket table.        [NH, 2S − 1]
  const span = maxSequenceLength(config);
  const positionBias =
    layout.relativeBias && config.relativeAttention
      ? derivedWeight('relative_position_bias', [config.numHeads, 2 * span - 1], 'table', {
          kind: 'relativeBias',
          source: layout.relativeBias,
          rows: config.relativeAttention.rows,
          buckets: config.relativeAttention.buckets,
          maxDistance: config.relativeAttention.maxDistance,
        })
      : undefined;

  // Embeddings: gather + add, then LayerNorm.          [N, C]
  const e = layout.embeddings;
  const offset = config.positionOffset ?? 0;
  nodes.push({
    op: 'embed',
    out: act('embeddings.sum', C),
    word: table(`${e.word}.weight`, [config.vocabSize, C]),
    ...(e.position ? { position: table(`${e.position}.weight`, [config.maxPositions, C]) } : {}),
    ...(e.tokenType && config.typeVocabSize > 0 ? { tokenType: table(`${e.tokenType}.weight`, [config.typeVocabSize, C]) } : {}),
    ...(offset ? { positionOffset: offset } : {}),
  });
  let hidden = layerNorm(e.norm, 'embeddings.sum', 'embeddings.out');
  const hiddenStates = [hidden];
  const preNorm = layout.block === 'pre-norm';

  for (let l = 0; l < config.numLayers; l++) {
    const names = layout.layer(l);
    const p = `encoder.layer.${l}`;
    // Pre-norm: attention reads LN(x) (ModernBERT's layer 0 has no norm there).
    const attnIn = preNorm && names.attnNorm ? layerNorm(names.attnNorm, hidden, `${p}.attn.in`) : hidden;
    // Q, K and V in one GEMM: W_qkv = [W_q; W_k; W_v] is [3C, C].   qkv is [N, 3C]
    let qkv = linear(names.qkv, biases.attention, attnIn, `${p}.qkv`, C, 3 * C, 'none', undefined, 'qkv');
    const sliding = config.layerTypes?.[l] === 'sliding';
    if (config.rope) {
      // Rotary positions on Q and K, with the θ of this layer's kind.   [N, 3C]
      const tables = ropeTables(sliding ? (config.rope.localTheta ?? config.rope.theta) : config.rope.theta);
      nodes.push({ op: 'rope', out: act(`${p}.qkv.rotated`, 3 * C), x: qkv, numHeads: config.numHeads, headSize: HS, ...tables, layout: config.rope.layout });
      qkv = `${p}.qkv.rotated`;
    }
    // Scaled dot-product attention per head.          [N, C]
    nodes.push({
      op: 'attention',
      out: act(`${p}.context`, C),
      qkv,
      numHeads: config.numHeads,
      headSize: HS,
      scale: 1 / Math.sqrt(HS),
      ...(sliding && config.slidingWindow !== undefined ? { window: config.slidingWindow } : {}),
      ...(positionBias ? { positionBias } : {}),
    });
    // Output projection + residual (post-norm: then LayerNorm).          [N, C]
    linear(names.attnOut, biases.attention, `${p}.context`, `${p}.attn.sum`, C, C, 'residual', hidden);
    const attnOut = preNorm ? `${p}.attn.sum` : layerNorm(names.attnNorm!, `${p}.attn.sum`, `${p}.attn.out`);
    const mlpIn = preNorm ? layerNorm(names.mlpNorm, attnOut, `${p}.mlp.in`) : attnOut;
    // MLP: up-projection with erf-GELU [N, I], or gated: [N, 2I] → act(first half) · second half.
    let inner: string;
    if (layout.mlp === 'plain') {
      inner = linear(names.up, biases.mlp, mlpIn, `${p}.ffn.inner`, C, I, 'gelu');
    } else {
      linear(names.up, biases.mlp, mlpIn, `${p}.ffn.up`, C, 2 * I, 'none', undefined, 'gate_up');
      const activation = config.hiddenAct;
      nodes.push({ op: 'glu', out: act(`${p}.ffn.inner`, I), x: `${p}.ffn.up`, activation });
      inner = `${p}.ffn.inner`;
    }
    // Down-projection + residual (post-norm: then LayerNorm).   [N, C]
    linear(names.down, biases.mlp, inner, `${p}.ffn.sum`, I, C, 'residual', attnOut);
    hidden = preNorm ? `${p}.ffn.sum` : layerNorm(names.mlpNorm, `${p}.ffn.sum`, `${p}.out`);
    hiddenStates.push(hidden);
  }
  // Pre-norm: the final LayerNorm gives the last hidden state.
  const lastHiddenState = layout.finalNorm ? layerNorm(layout.finalNorm, hidden, 'final.out') : hidden;
  hidden = lastHiddenState;

  // Sentence head: pooling over the mask, then optional L2 normalization.   [B, C]
  nodes.push({ op: 'pool', out: act('pooled', C, 'sequences'), x: hidden, mode: head.pooling });
  let output = 'pooled';
  let width = C;
  // Dense modules on the pooled rows: [B, in] → [B, out] each.
  (head.dense ?? []).forEach((d, i) => {
    if (d.inFeatures !== width) {
      throw new DualbertError('INVALID_CONFIG', `Dense module ${d.name}: in_features ${d.inFeatures} does not match the ${width} values it receives`);
    }
    const out = act(`dense${i}`, d.outFeatures, 'sequences');
    nodes.push({
      op: 'dense',
      out,
      x: output,
      weight: weight(`${d.name}.weight`, [d.outFeatures, d.inFeatures]),
      ...(d.bias ? { bias: weight(`${d.name}.bias`, [d.outFeatures]) } : {}),
      activation: d.activation,
    });
    output = out;
    width = d.outFeatures;
  });
  if (head.normalize) {
    nodes.push({ op: 'normalize', out: act('normalized', width, 'sequences'), x: output, eps: NORMALIZE_EPS });
    output = 'normalized';
  }

  return { config, head, weights, activations, nodes, hiddenStates, lastHiddenState, output, outputSize: width };
}
