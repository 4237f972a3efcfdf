/**
 * The BERT encoder forward pass, described once. Every backend executes this list of nodes;
 * no backend re-describes the model.
 */
import { DualbertError } from '../errors.js';
import { type BertConfig, headSize } from './config.js';
import type { ActivationSpec, DenseActivation, GraphNode, PoolingMode, WeightSpec } from './ops.js';

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
   * The fused Q/K/V projection is q8 when all three are.
   */
  quantized?: ReadonlySet<string>;
}

/**
 * Builds the graph of a BERT encoder followed by pooling and optional normalization.
 * @example
 * const graph = buildBertGraph(model.config, { pooling: 'mean', normalize: true }, { quantized: quantizedNames(model.checkpoint) });
 */
export function buildBertGraph(config: BertConfig, head: HeadOptions, options: GraphOptions = {}): BertGraph {
  const C = config.hiddenSize;
  const I = config.intermediateSize;
  const HS = headSize(config);
  const weights: WeightSpec[] = [];
  const activations = new Map<string, ActivationSpec>();
  const nodes: GraphNode[] = [];

  const weight = (name: string, shape: number[], concatOf?: string[], precision?: 'q8'): string => {
    const role = shape.length === 1 ? 'vector' : 'linear';
    weights.push({ name, shape, role, ...(concatOf ? { concatOf } : {}), ...(precision ? { precision } : {}) });
    return name;
  };
  /** 'q8' when every checkpoint tensor of this Linear weight is quantized. */
  const precisionOf = (parts: string[]): 'q8' | undefined => (parts.every((p) => options.quantized?.has(p)) ? 'q8' : undefined);
  const table = (name: string, shape: number[]): string => {
    weights.push({ name, shape, role: 'table' });
    return name;
  };
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
      beta: weight(`${prefix}.bias`, [C]),
      eps: config.layerNormEps,
    });
    return out;
  };
  const linear = (
    prefix: string,
    x: string,
    out: string,
    inFeatures: number,
    outFeatures: number,
    epilogue: 'none' | 'gelu' | 'residual' = 'none',
    residual?: string,
  ): string => {
    const precision = precisionOf([`${prefix}.weight`]);
    nodes.push({
      op: 'linear',
      out: act(out, outFeatures),
      x,
      weight: weight(`${prefix}.weight`, [outFeatures, inFeatures], undefined, precision),
      bias: weight(`${prefix}.bias`, [outFeatures]),
      epilogue,
      ...(residual ? { residual } : {}),
      ...(precision ? { precision } : {}),
    });
    return out;
  };

  // Embeddings: gather + add, then LayerNorm.          [N, C]
  nodes.push({
    op: 'embed',
    out: act('embeddings.sum', C),
    word: table('embeddings.word_embeddings.weight', [config.vocabSize, C]),
    position: table('embeddings.position_embeddings.weight', [config.maxPositions, C]),
    tokenType: table('embeddings.token_type_embeddings.weight', [config.typeVocabSize, C]),
  });
  let hidden = layerNorm('embeddings.LayerNorm', 'embeddings.sum', 'embeddings.out');
  const hiddenStates = [hidden];

  for (let l = 0; l < config.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const self = `${p}.attention.self`;
    // Q, K and V in one GEMM: W_qkv = [W_q; W_k; W_v] is [3C, C].   qkv is [N, 3C]
    const qkvParts = ['query', 'key', 'value'].map((n) => `${self}.${n}.weight`);
    const qkvPrecision = precisionOf(qkvParts);
    const qkvW = weight(`${self}.qkv.weight`, [3 * C, C], qkvParts, qkvPrecision);
    const qkvB = weight(`${self}.qkv.bias`, [3 * C], ['query', 'key', 'value'].map((n) => `${self}.${n}.bias`));
    nodes.push({ op: 'linear', out: act(`${p}.qkv`, 3 * C), x: hidden, weight: qkvW, bias: qkvB, epilogue: 'none', ...(qkvPrecision ? { precision: qkvPrecision } : {}) });
    // Scaled dot-product attention per head.          [N, C]
    nodes.push({
      op: 'attention',
      out: act(`${p}.context`, C),
      qkv: `${p}.qkv`,
      numHeads: config.numHeads,
      headSize: HS,
      scale: 1 / Math.sqrt(HS),
    });
    // Output projection + residual, LayerNorm.          [N, C]
    linear(`${p}.attention.output.dense`, `${p}.context`, `${p}.attn.sum`, C, C, 'residual', hidden);
    const attnOut = layerNorm(`${p}.attention.output.LayerNorm`, `${p}.attn.sum`, `${p}.attn.out`);
    // FFN: up-projection with erf-GELU [N, I], down-projection + residual [N, C], LayerNorm.
    linear(`${p}.intermediate.dense`, attnOut, `${p}.ffn.inner`, C, I, 'gelu');
    linear(`${p}.output.dense`, `${p}.ffn.inner`, `${p}.ffn.sum`, I, C, 'residual', attnOut);
    hidden = layerNorm(`${p}.output.LayerNorm`, `${p}.ffn.sum`, `${p}.out`);
    hiddenStates.push(hidden);
  }

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

  return { config, head, weights, activations, nodes, hiddenStates, output, outputSize: width };
}
