/**
 * Parses a Hugging Face `config.json` into a {@link BertConfig}, refusing anything we cannot run
 * exactly (another architecture, another activation, impossible sizes).
 */
import { DualbertError } from '../errors.js';
import type { BertConfig } from '../graph/config.js';

/** `model_type` values whose checkpoints are plain BERT encoders with absolute positions. */
const BERT_MODEL_TYPES = new Set(['bert']);

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
  const c = json as Record<string, unknown>;

  const modelType = c['model_type'];
  if (typeof modelType !== 'string') {
    throw new DualbertError('INVALID_CONFIG', 'config.json has no "model_type"');
  }
  if (!BERT_MODEL_TYPES.has(modelType)) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported architecture "${modelType}": dualbert runs BERT encoders (model_type "bert")`);
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
