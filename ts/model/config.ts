/**
 * Parses a Hugging Face `config.json` into a {@link BertConfig}, refusing anything we cannot run
 * exactly (another architecture, another activation, impossible sizes).
 */
import { DualbertError } from '../errors.js';
import type { BertConfig } from '../graph/config.js';

/**
 * `model_type` values whose checkpoints are plain BERT encoders with absolute positions, and the
 * families that are exactly a BERT encoder under other names: DistilBERT (no token types, its
 * tensors renamed; see `familyTensorName`).
 */
const BERT_MODEL_TYPES = new Set(['bert', 'distilbert']);

/** The checkpoint naming family of a config: which renaming maps its tensors onto BERT's. */
export type ModelFamily = 'bert' | 'distilbert';

/** The family of a parsed config.json object (call after {@link parseBertConfig} accepted it). */
export function modelFamily(json: unknown): ModelFamily {
  return (json as Record<string, unknown>)['model_type'] === 'distilbert' ? 'distilbert' : 'bert';
}

const DISTILBERT_PARTS: [RegExp, string][] = [
  [/^embeddings\./, 'embeddings.'],
  [/^transformer\.layer\.(\d+)\.attention\.q_lin\./, 'encoder.layer.$1.attention.self.query.'],
  [/^transformer\.layer\.(\d+)\.attention\.k_lin\./, 'encoder.layer.$1.attention.self.key.'],
  [/^transformer\.layer\.(\d+)\.attention\.v_lin\./, 'encoder.layer.$1.attention.self.value.'],
  [/^transformer\.layer\.(\d+)\.attention\.out_lin\./, 'encoder.layer.$1.attention.output.dense.'],
  [/^transformer\.layer\.(\d+)\.sa_layer_norm\./, 'encoder.layer.$1.attention.output.LayerNorm.'],
  [/^transformer\.layer\.(\d+)\.ffn\.lin1\./, 'encoder.layer.$1.intermediate.dense.'],
  [/^transformer\.layer\.(\d+)\.ffn\.lin2\./, 'encoder.layer.$1.output.dense.'],
  [/^transformer\.layer\.(\d+)\.output_layer_norm\./, 'encoder.layer.$1.output.LayerNorm.'],
  // DistilBertForSequenceClassification's head (dense + ReLU, then the output layer).
  [/^(pre_classifier|classifier)\./, '$1.'],
];

/**
 * A checkpoint tensor name in BERT's names (`encoder.layer.0.attention.self.query.weight`), or
 * undefined when the name belongs to nothing the encoder reads. Strips the model prefix
 * (`bert.`, `distilbert.`) that task-head checkpoints add.
 */
export function familyTensorName(family: ModelFamily, name: string): string | undefined {
  if (family === 'bert') return name.startsWith('bert.') ? name.slice(5) : name;
  const n = name.startsWith('distilbert.') ? name.slice('distilbert.'.length) : name;
  for (const [pattern, to] of DISTILBERT_PARTS) if (pattern.test(n)) return n.replace(pattern, to);
  return undefined;
}

function positiveInt(json: Record<string, unknown>, key: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new DualbertError('INVALID_CONFIG', `config.json: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Parses config.json (text or parsed object). */
export function parseBertConfig(input: string | unknown): BertConfig {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new DualbertError('INVALID_CONFIG', `config.json is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DualbertError('INVALID_CONFIG', 'config.json must hold a JSON object');
  }
  let c = json as Record<string, unknown>;

  const modelType = c['model_type'];
  if (typeof modelType !== 'string') {
    throw new DualbertError('INVALID_CONFIG', 'config.json has no "model_type"');
  }
  if (!BERT_MODEL_TYPES.has(modelType)) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported architecture "${modelType}": dualbert runs BERT encoders (model_type "bert" or "distilbert")`);
  }
  if (modelType === 'distilbert') {
    // DistilBERT: BERT's encoder under other names, LayerNorm eps 1e-12, no token types (a zero table stands in).
    c = {
      vocab_size: c['vocab_size'],
      hidden_size: c['dim'],
      num_hidden_layers: c['n_layers'],
      num_attention_heads: c['n_heads'],
      intermediate_size: c['hidden_dim'],
      max_position_embeddings: c['max_position_embeddings'],
      type_vocab_size: 1,
      layer_norm_eps: 1e-12,
      hidden_act: c['activation'] ?? 'gelu',
    };
  }
  const positionType = c['position_embedding_type'] ?? 'absolute';
  if (positionType !== 'absolute') {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported position_embedding_type "${String(positionType)}": only "absolute" is implemented`);
  }
  const act = c['hidden_act'] ?? 'gelu';
  if (act !== 'gelu') {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported hidden_act "${String(act)}": only "gelu" (erf) is implemented`);
  }

  const config: BertConfig = {
    vocabSize: positiveInt(c, 'vocab_size'),
    hiddenSize: positiveInt(c, 'hidden_size'),
    numLayers: positiveInt(c, 'num_hidden_layers'),
    numHeads: positiveInt(c, 'num_attention_heads'),
    intermediateSize: positiveInt(c, 'intermediate_size'),
    maxPositions: positiveInt(c, 'max_position_embeddings'),
    typeVocabSize: positiveInt(c, 'type_vocab_size', 2),
    layerNormEps: typeof c['layer_norm_eps'] === 'number' ? c['layer_norm_eps'] : 1e-12,
    hiddenAct: 'gelu',
  };
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `config.json: hidden_size ${config.hiddenSize} is not divisible by num_attention_heads ${config.numHeads}`,
    );
  }
  if (!(config.layerNormEps > 0 && config.layerNormEps < 1)) {
    throw new DualbertError('INVALID_CONFIG', `config.json: layer_norm_eps ${config.layerNormEps} is out of range`);
  }
  return config;
}

/**
 * What a weights file says about its size, read from its header before anything is decoded: its
 * bytes (or the total of its shards) and the (BERT-named) tensor names it holds.
 */
export interface WeightsOutline {
  file: string;
  bytes: number | undefined;
  names: Iterable<string>;
}

/**
 * Checks config.json's layer count against the weights file before the graph is built from it:
 * the graph (and everything sized from it) grows with `num_hidden_layers`, so
 * `num_hidden_layers: 1e6` must fail at once, not after gigabytes of graph. The other sizes
 * need no early check: nothing is allocated from them before every tensor's shape was compared
 * with the file. Throws INVALID_WEIGHTS naming both numbers when the file holds fewer layers
 * (by its tensor names, or when it names none, by its size: a layer takes at least 4·H² + 2·H·I
 * bytes even as int8).
 */
export function checkConfigAgainstWeights(c: BertConfig, weights: WeightsOutline): void {
  let layers = -1;
  let named = false;
  for (const name of weights.names) {
    const m = /^encoder\.layer\.(\d+)\./.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]));
    named ||= /^(encoder|embeddings)\./.test(name);
  }
  if (named && c.numLayers > layers + 1) {
    throw new DualbertError(
      'INVALID_WEIGHTS',
      `${weights.file} holds ${layers + 1} encoder layer(s) but config.json's "num_hidden_layers" is ${c.numLayers} ` +
        `(tensors of encoder.layer.${layers + 1} are missing): the config does not belong to these weights`,
    );
  }
  const H = c.hiddenSize;
  const perLayer = 4 * H * H + 2 * H * c.intermediateSize;
  if (!named && weights.bytes !== undefined && c.numLayers * perLayer > weights.bytes) {
    throw new DualbertError(
      'INVALID_WEIGHTS',
      `${weights.file} has ${weights.bytes} bytes, too few for the ${c.numLayers} layers of config.json's "num_hidden_layers" ` +
        `(hidden_size ${H}, intermediate_size ${c.intermediateSize}): the config does not belong to these weights`,
    );
  }
}
