/**
 * The hyper-parameters of a BERT encoder, in our own names (Hugging Face's `config.json` is
 * parsed into this by `ts/model/config.ts`).
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
  /** Width of the FFN's inner layer (4·C in most models). */
  intermediateSize: number;
  /** Rows of the position-embedding table: the longest sequence the model accepts. */
  maxPositions: number;
  /** Rows of the token-type (segment) table. */
  typeVocabSize: number;
  /** LayerNorm epsilon (1e-12 for BERT). */
  layerNormEps: number;
  /** FFN activation. Only the exact erf GELU of BERT is implemented. */
  hiddenAct: 'gelu';
}

/** Head size HS = C / NH. */
export function headSize(config: BertConfig): number {
  return config.hiddenSize / config.numHeads;
}
