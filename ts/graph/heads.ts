/**
 * The heads an encoder graph can end in besides sentence pooling: a `*ForSequenceClassification`
 * head (what cross-encoders score pairs with) and none at all (per-token embeddings). Both are
 * described with the graph's own nodes — pooling and Dense — so every device runs them with
 * the kernels it already has; nothing here copies the encoder (bert.ts describes it once).
 */
import { DualbertError } from '../errors.js';
import type { BertGraph, HeadOptions } from './bert.js';
import type { DenseActivation } from './ops.js';

/**
 * Where a `*ForSequenceClassification` checkpoint keeps its head, by the tensor names the loader
 * gives them (model prefix such as `bert.` removed). Every family's head is the same shape of
 * computation: take the first token's hidden state, a square dense layer with an activation,
 * then the output projection to `numLabels` logits (dropout is off at inference).
 *
 *   BERT (`BertForSequenceClassification`):  pooler.dense + tanh → classifier
 *   RoBERTa / XLM-R (`…ForSequenceClassification`):  classifier.dense + tanh → classifier.out_proj
 *   DistilBERT:  pre_classifier + ReLU → classifier
 * @example const spec: ClassifierHeadSpec = { ...CLASSIFIER_HEADS.bert, numLabels: 1 };
 */
export interface ClassifierHeadSpec {
  /** Name prefix of the square dense layer on the first token (`${prefix}.weight`, `.bias`). */
  readonly pooler: string;
  /** Its activation. */
  readonly poolerActivation: DenseActivation;
  /** Name prefix of the output projection [numLabels, hidden]. */
  readonly output: string;
  /** Logits per pair: 1 for a relevance score, more for classes (NLI: 3). */
  readonly numLabels: number;
}

/** The head layout of each family that has one (numLabels comes from the model's config). */
export const CLASSIFIER_HEADS = {
  bert: { pooler: 'pooler.dense', poolerActivation: 'tanh', output: 'classifier' },
  roberta: { pooler: 'classifier.dense', poolerActivation: 'tanh', output: 'classifier.out_proj' },
  distilbert: { pooler: 'pre_classifier', poolerActivation: 'relu', output: 'classifier' },
} as const satisfies Record<string, Omit<ClassifierHeadSpec, 'numLabels'>>;

/**
 * The head options that make an encoder graph a classifier: CLS pooling (row 0 of each
 * sequence), the square dense layer with its activation, then the output projection (identity),
 * no normalization. The graph's output is then the logits, [B, numLabels].
 * @example const graph = buildBertGraph(config, classifierHead(config.hiddenSize, { ...CLASSIFIER_HEADS.bert, numLabels: 1 }));
 */
export function classifierHead(hiddenSize: number, spec: ClassifierHeadSpec): HeadOptions {
  if (!Number.isInteger(spec.numLabels) || spec.numLabels < 1) {
    throw new DualbertError('INVALID_CONFIG', `a classification head needs at least one label, got ${String(spec.numLabels)}`);
  }
  return {
    pooling: 'cls',
    normalize: false,
    dense: [
      { name: spec.pooler, inFeatures: hiddenSize, outFeatures: hiddenSize, bias: true, activation: spec.poolerActivation },
      { name: spec.output, inFeatures: hiddenSize, outFeatures: spec.numLabels, bias: true, activation: 'identity' },
    ],
  };
}

/** The checkpoint tensors of a classification head with their shapes. */
export function classifierTensorShapes(hiddenSize: number, spec: ClassifierHeadSpec): Map<string, number[]> {
  return new Map([
    [`${spec.pooler}.weight`, [hiddenSize, hiddenSize]],
    [`${spec.pooler}.bias`, [hiddenSize]],
    [`${spec.output}.weight`, [spec.numLabels, hiddenSize]],
    [`${spec.output}.bias`, [spec.numLabels]],
  ]);
}

/**
 * The encoder alone: the same graph cut after its last layer, whose output is the last hidden
 * state, [N, C] (one row per token, padding rows included): per-token embeddings, as
 * sentence-transformers' `output_value="token_embeddings"` (late interaction, ColBERT-style).
 * @example const tokens = tokenEmbeddingsGraph(buildBertGraph(config, { pooling: 'mean', normalize: false }));
 */
export function tokenEmbeddingsGraph(graph: BertGraph): BertGraph {
  const last = graph.hiddenStates[graph.hiddenStates.length - 1]!;
  const end = graph.nodes.findIndex((n) => n.out === last);
  const nodes = graph.nodes.slice(0, end + 1);
  const used = new Set<string>();
  for (const n of nodes) for (const [k, v] of Object.entries(n)) if (k !== 'op' && k !== 'out' && typeof v === 'string') used.add(v);
  return {
    ...graph,
    nodes,
    weights: graph.weights.filter((w) => used.has(w.name)),
    activations: new Map([...graph.activations].filter(([id]) => nodes.some((n) => n.out === id))),
    output: last,
    outputSize: graph.config.hiddenSize,
  };
}
