/**
 * The hyper-parameters of an encoder, in our own names (Hugging Face's `config.json` is parsed
 * into this by `ts/model/config.ts`). The optional fields describe the families beyond BERT; a
 * config without them is a BERT encoder.
 * @example const { hiddenSize, numLayers } = (await loadModel('synthetic:minilm')).config; // 384, 6
 */
export interface BertConfig {
  /** Rows of the word-embedding table. */
  vocabSize: number;
  /** C: width of every token vector. */
  hiddenSize: number;
  /** L: number of encoder layers. */
  numLayers: number;
  /** NH: attention heads; the head size HS = C / NH. */
  numHeads: number;
  /** Width of the FFN's inner layer (4·C in most models; per half of a gated MLP). */
  intermediateSize: number;
  /**
   * Rows of the position-embedding table (`max_position_embeddings`). The longest sequence is
   * this minus `positionOffset`.
   */
  maxPositions: number;
  /** Rows of the token-type (segment) table (0 when the family has none). */
  typeVocabSize: number;
  /** LayerNorm epsilon (1e-12 for BERT). */
  layerNormEps: number;
  /** FFN activation: erf GELU (BERT), tanh GELU or SiLU (the gated MLPs of ModernBERT, NomicBERT). */
  hiddenAct: 'gelu' | 'gelu_tanh' | 'silu';
  /** The encoder family (default 'bert'): the layout ts/graph/families.ts builds its graph from. */
  family?: EncoderFamily;
  /** RoBERTa, XLM-R, MPNet: the first position row (padding_idx + 1); default 0. */
  positionOffset?: number;
  /** ModernBERT, NomicBERT: rotary position embeddings. */
  rope?: RopeConfig;
  /**
   * ModernBERT: which layers attend within a sliding window ('sliding') and which see every key
   * ('full'); absent: every layer is full.
   */
  layerTypes?: readonly ('full' | 'sliding')[];
  /** Half width of the sliding window: keys with |i − j| ≤ slidingWindow (local_attention // 2). */
  slidingWindow?: number;
  /**
   * MPNet: the relative position bias — rows of its table (`relative_attention_num_buckets`),
   * the buckets offsets fall into (transformers always uses 32) and the distance past which
   * they saturate (128).
   */
  relativeAttention?: { rows: number; buckets: number; maxDistance: number };
  /** ModernBERT: whether the Linear layers of attention / MLP and the LayerNorms have biases (default true). */
  attentionBias?: boolean;
  mlpBias?: boolean;
  normBias?: boolean;
}

/** The encoder families with a graph layout (ts/graph/families.ts). */
export type EncoderFamily = 'bert' | 'roberta' | 'mpnet' | 'modernbert' | 'nomic_bert';

/** Rotary embeddings: θ of the full-attention layers, θ of the sliding ones, the pairing of dimensions. */
export interface RopeConfig {
  theta: number;
  /** θ of sliding-window layers (ModernBERT's local θ); default `theta`. */
  localTheta?: number;
  /** 'half' (transformers' rotate_half) or 'interleaved' (pairs 2i, 2i+1). */
  layout: 'half' | 'interleaved';
}

/** Head size HS = C / NH. */
export function headSize(config: BertConfig): number {
  return config.hiddenSize / config.numHeads;
}

/** The longest sequence (tokens, special ones included) the model takes. */
export function maxSequenceLength(config: BertConfig): number {
  return config.maxPositions - (config.positionOffset ?? 0);
}
