/**
 * The op vocabulary of the BERT graph. Every backend implements exactly these ops; the model
 * itself is described once, in `bert.ts`, as a list of these nodes.
 *
 * Legend used in shape comments across the project:
 *   B  = batch size (sequences),         T  = padded sequence length,
 *   N  = B·T token rows,                 C  = hidden size,
 *   NH = attention heads,                HS = head size (C / NH),
 *   I  = FFN intermediate size,          V  = vocabulary size.
 * Activations are row-major 2-D matrices: either one row per token ([N, cols]) or one row per
 * sequence ([B, cols]).
 */

/** Which kind of rows an activation has: one per token (N = B·T) or one per sequence (B). */
export type RowKind = 'tokens' | 'sequences';

/** An activation tensor of the graph: a named [rows, cols] matrix. */
export interface ActivationSpec {
  readonly id: string;
  readonly rows: RowKind;
  readonly cols: number;
}

/**
 * What a weight is for, so a backend can lay it out once at load instead of guessing from names:
 * `linear` — a [M, K] matrix multiplied by activations (PyTorch Linear layout; backends pack or
 * transpose it); `table` — a [rows, C] table gathered by row (embeddings); `vector` — a 1-D
 * tensor read elementwise (biases, LayerNorm gamma/beta).
 */
export type WeightRole = 'linear' | 'table' | 'vector';

/**
 * How a linear weight is stored and multiplied: 'fp32' (the default), or 'q8' — int8/uint8
 * values with a scale and zero point per output row, multiplied as ONNX dynamic quantization
 * does it (see {@link LinearNode.precision}).
 */
export type WeightPrecision = 'fp32' | 'q8';

/**
 * A weight made at load time from the config (and at most one checkpoint tensor), not read as
 * it is (ts/graph/weights.ts binds them):
 * `zeros` — the bias of a bias-free Linear or LayerNorm (ModernBERT, NomicBERT), so every
 * backend keeps one linear and one LayerNorm kernel;
 * `rope` — a cos or sin table [P, dims/2] of rotary angles (ts/graph/rope.ts);
 * `relativeBias` — MPNet's per-head bias by offset [NH, 2P − 1], gathered from the bucket table
 * `source` ([rows, NH]) through transformers' bucketing into `buckets` buckets
 * (ts/graph/relative-position.ts).
 */
export type DerivedWeight =
  | { readonly kind: 'zeros' }
  | { readonly kind: 'rope'; readonly part: 'cos' | 'sin'; readonly theta: number; readonly dims: number }
  | { readonly kind: 'relativeBias'; readonly source: string; readonly rows: number; readonly buckets: number; readonly maxDistance: number };

/** A weight tensor the graph reads, by its Hugging Face checkpoint name (or a derived one). */
export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: WeightRole;
  /** 'q8' for a linear weight kept in int8 (the checkpoint must hold it quantized); absent: float. */
  readonly precision?: WeightPrecision;
  /**
   * Set when this weight is not stored in the checkpoint but made at load time by concatenating
   * others along dim 0 (the fused Q/K/V projection: one [3C, C] GEMM instead of three [C, C]).
   */
  readonly concatOf?: readonly string[];
  /** Set when the weight is made at load time (see {@link DerivedWeight}). */
  readonly derive?: DerivedWeight;
}

/**
 * Sentence pooling modes over the token rows of one sequence, masked by the attention mask
 * (the modes of sentence-transformers' Pooling module).
 * @example await embedder.embed(texts, { pooling: 'cls' });
 */
export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len' | 'weightedmean' | 'lasttoken';

/** Every pooling mode, in the order sentence-transformers lists them. */
export const POOLING_MODES: readonly PoolingMode[] = ['mean', 'cls', 'max', 'mean_sqrt_len', 'weightedmean', 'lasttoken'];

/** The pooling modes of the first op vocabulary: a backend without `supports()` is assumed to implement these only. */
export const CORE_POOLING_MODES: readonly PoolingMode[] = ['mean', 'cls', 'max'];

/**
 * out[n, :] = word[ids[n]] + position[t + positionOffset] + tokenType[typeIds[n]]   ([N, C]),
 * t = n mod T. Positions are absolute and count from 0 (BERT) or from `positionOffset`
 * (RoBERTa and MPNet start at padding_idx + 1); batches are right-padded, so t is the position
 * of every real token. Families without a position table (rotary ones) or without token types
 * leave the table out and its term is 0.
 */
export interface EmbedNode {
  readonly op: 'embed';
  readonly out: string;
  readonly word: string;
  readonly position?: string;
  readonly tokenType?: string;
  /** Row of the position table for t = 0 (default 0). */
  readonly positionOffset?: number;
}

/**
 * out = x · Wᵀ + b, then the epilogue: nothing, erf-GELU, or + residual.
 * x is [rows, K], W is [M, K] (PyTorch Linear layout), b is [M], out and residual are [rows, M].
 */
export interface LinearNode {
  readonly op: 'linear';
  readonly out: string;
  readonly x: string;
  readonly weight: string;
  readonly bias: string;
  readonly epilogue: 'none' | 'gelu' | 'residual';
  /** The activation added after the bias when epilogue is 'residual'. */
  readonly residual?: string;
  /**
   * 'q8': ONNX dynamic quantization, as onnxruntime computes DynamicQuantizeLinear →
   * MatMulInteger → Cast → Mul → Add. x is quantized to uint8 with one scale and zero point for
   * the whole [rows, K] input (its range widened to include 0: xs = (max − min) / 255,
   * xz = round-half-even(clamp(−min / xs, 0, 255)), xq = saturate(round-half-even(x / xs) + xz));
   * the integer sums Σ (xq − xz)(wq − wz) are exact in int32; then
   * out = float(sum) · (xs · ws[m]) + b[m], each step rounded to float32, then the epilogue.
   * The weight is q8 (int8 or uint8, scale and zero point per output row). Absent: float.
   */
  readonly precision?: WeightPrecision;
}

/** out[n] = (x[n] − mean) / sqrt(var + eps) · gamma + beta, statistics over the C columns. */
export interface LayerNormNode {
  readonly op: 'layerNorm';
  readonly out: string;
  readonly x: string;
  readonly gamma: string;
  readonly beta: string;
  readonly eps: number;
}

/**
 * Multi-head scaled dot-product self-attention over the fused projection.
 * qkv is [N, 3C]: columns [0, C) are Q, [C, 2C) K, [2C, 3C) V; head h owns columns
 * [h·HS, (h+1)·HS) of each. For each sequence b and head h:
 *   S = Q_bh · K_bhᵀ · scale   ([T, T]), keys j with mask[b, j] = 0 are excluded,
 *   P = softmax(S) row-wise,   out_bh = P · V_bh   ([T, HS]) written to columns of head h.
 */
export interface AttentionNode {
  readonly op: 'attention';
  readonly out: string;
  readonly qkv: string;
  readonly numHeads: number;
  readonly headSize: number;
  /** 1 / sqrt(HS). */
  readonly scale: number;
  /**
   * Sliding-window attention (ModernBERT's local layers): query i sees only keys j with
   * |i − j| ≤ window. Absent: every key.
   */
  readonly window?: number;
  /**
   * An additive per-head bias on the scaled scores that depends on the offset j − i only
   * (MPNet's bucketed relative positions): a table [NH, 2S − 1] whose column j − i + S − 1 is
   * added to S_bh[i, j] before the mask (S ≥ T: the longest sequence the table covers).
   */
  readonly positionBias?: string;
}

/**
 * Rotary position embeddings on the Q and K blocks of the fused projection (V is copied).
 * x and out are [N, 3C]; for token row n (position t = n mod T), every head's HS values of Q and
 * of K are rotated by the angles of position t, in pairs (p, p') with frequency index i:
 *   layout 'half' (rotate_half, as transformers' RoPE): p = i, p' = i + HS/2;
 *   layout 'interleaved' (GPT-J style): p = 2i, p' = 2i + 1;
 *   out[p] = x[p]·cos[t, i] − x[p']·sin[t, i],   out[p'] = x[p']·cos[t, i] + x[p]·sin[t, i].
 * cos and sin are tables [P, HS/2] made at load (ts/graph/rope.ts), P ≥ T.
 */
export interface RopeNode {
  readonly op: 'rope';
  readonly out: string;
  readonly x: string;
  readonly numHeads: number;
  readonly headSize: number;
  readonly cos: string;
  readonly sin: string;
  readonly layout: 'half' | 'interleaved';
}

/** Activations of gated MLPs: erf GELU, tanh-approximated GELU, SiLU. */
export type GluActivation = 'gelu' | 'gelu_tanh' | 'silu';

/**
 * A gated linear unit: x is [N, 2I], out is [N, I], out[n, i] = act(x[n, i]) · x[n, I + i]
 * (GeGLU for gelu/gelu_tanh, SwiGLU for silu; the activated half comes first).
 */
export interface GluNode {
  readonly op: 'glu';
  readonly out: string;
  readonly x: string;
  readonly activation: GluActivation;
}

/**
 * Pools the token rows of each sequence into one row, honouring the attention mask
 * (count = real tokens of the sequence, t = position in it, from 0):
 *   mean          = Σ masked rows / max(count, 1e-9)
 *   cls           = row 0
 *   max           = column-wise max over masked rows
 *   mean_sqrt_len = Σ masked rows / sqrt(count)
 *   weightedmean  = Σ (t+1)·row / max(Σ (t+1), 1e-9) over masked rows (later tokens weigh more)
 *   lasttoken     = the row of the last masked token
 * x is [N, C], out is [B, C].
 */
export interface PoolNode {
  readonly op: 'pool';
  readonly out: string;
  readonly x: string;
  readonly mode: PoolingMode;
}

/** out[b] = x[b] / max(‖x[b]‖₂, eps), as torch.nn.functional.normalize. [B, C] → [B, C]. */
export interface NormalizeNode {
  readonly op: 'normalize';
  readonly out: string;
  readonly x: string;
  readonly eps: number;
}

/** Activation functions of a Dense module (sentence-transformers `activation_function`). */
export type DenseActivation = 'identity' | 'tanh' | 'relu' | 'gelu' | 'sigmoid';

/**
 * A sentence-transformers Dense module on the pooled rows: out = act(x · Wᵀ + b).
 * x is [B, K], W is [M, K] (PyTorch Linear layout), b is [M] (absent when the module has no bias),
 * out is [B, M]. gelu is the exact erf GELU.
 */
export interface DenseNode {
  readonly op: 'dense';
  readonly out: string;
  readonly x: string;
  readonly weight: string;
  readonly bias?: string;
  readonly activation: DenseActivation;
}

export type GraphNode =
  | EmbedNode
  | LinearNode
  | LayerNormNode
  | AttentionNode
  | RopeNode
  | GluNode
  | PoolNode
  | NormalizeNode
  | DenseNode;

/**
 * Whether a node is in the first op vocabulary (embed, linear, layerNorm, attention, normalize,
 * pool with mean/cls/max). Backends that do not declare `supports()` are held to exactly this,
 * so a newer node (another pooling mode, a Dense head, RoPE, a position bias) fails with
 * UNSUPPORTED_OP instead of running wrongly.
 */
export function isCoreNode(node: GraphNode): boolean {
  switch (node.op) {
    case 'pool':
      return CORE_POOLING_MODES.includes(node.mode);
    case 'embed':
      return node.position !== undefined && node.tokenType !== undefined && !node.positionOffset;
    case 'attention':
      return node.window === undefined && node.positionBias === undefined;
    case 'dense':
    case 'rope':
    case 'glu':
      return false;
    default:
      return true;
  }
}

/** Whether a node is one of the encoder-family ops (ts/graph/families.ts) a backend may add to the core. */
export function isFamilyNode(node: GraphNode): boolean {
  return node.op === 'embed' || node.op === 'attention' || node.op === 'rope' || node.op === 'glu';
}

/** A short description of a node for messages, e.g. "pooling weightedmean", "Dense head (tanh)" or "int8 (q8) linear layers". */
export function describeNode(node: GraphNode): string {
  switch (node.op) {
    case 'pool':
      return `pooling ${node.mode}`;
    case 'dense':
      return `Dense head (${node.activation})`;
    case 'linear':
      return node.precision === 'q8' ? 'int8 (q8) linear layers' : 'op linear';
    case 'rope':
      return `rotary position embeddings (${node.layout})`;
    case 'glu':
      return `gated MLP (${node.activation})`;
    case 'attention':
      if (node.positionBias) return 'attention with a relative position bias';
      if (node.window !== undefined) return 'sliding-window attention';
      return 'op attention';
    case 'embed':
      if (!isCoreNode(node)) return 'embeddings without absolute positions or token types, or with offset positions';
      return 'op embed';
    default:
      return `op ${node.op}`;
  }
}

/** The inputs of one batch: the tokenizer's padded output. */
export interface BatchInputs {
  readonly batchSize: number;
  readonly seqLen: number;
  /** [B·T] token ids, padded. */
  readonly ids: Int32Array;
  /** [B·T] token-type ids, padded. */
  readonly typeIds: Int32Array;
  /** [B·T] 1 for real tokens, 0 for padding. Every row has at least one real token. */
  readonly attentionMask: Uint8Array;
}
