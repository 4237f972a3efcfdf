/**
 * Parses a Hugging Face `config.json` into a {@link BertConfig}, refusing anything we cannot run
 * exactly (another architecture, another activation, impossible sizes).
 */
import { DualbertError } from '../errors.js';
import type { BertConfig } from '../graph/config.js';
import { FAMILY_LAYOUTS, layerIndexOf } from '../graph/families.js';

/**
 * The checkpoint naming families: which graph layout (ts/graph/families.ts) a config.json's
 * tensors belong to. DistilBERT is BERT's encoder under other names (renamed to BERT's here);
 * XLM-RoBERTa (and CamemBERT) are RoBERTa.
 */
export type ModelFamily = 'bert' | 'distilbert' | 'roberta' | 'mpnet' | 'modernbert' | 'nomic_bert';

const FAMILY_OF_MODEL_TYPE: Readonly<Record<string, ModelFamily>> = {
  bert: 'bert',
  distilbert: 'distilbert',
  roberta: 'roberta',
  'xlm-roberta': 'roberta',
  camembert: 'roberta',
  mpnet: 'mpnet',
  modernbert: 'modernbert',
  nomic_bert: 'nomic_bert',
};

/** The model types dualbert runs, for messages and `dualbert info`. */
export const SUPPORTED_MODEL_TYPES: readonly string[] = Object.keys(FAMILY_OF_MODEL_TYPE);

/** The family of a parsed config.json object (call after {@link parseBertConfig} accepted it). */
export function modelFamily(json: unknown): ModelFamily {
  return FAMILY_OF_MODEL_TYPE[String((json as Record<string, unknown>)['model_type'])] ?? 'bert';
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
 * A checkpoint tensor name in the graph's names (`encoder.layer.0.attention.self.query.weight`,
 * ModernBERT's `layers.0.attn.Wqkv.weight`...), or undefined when the name belongs to nothing
 * the encoder reads. Strips the model prefix that task-head checkpoints add (`bert.`,
 * `roberta.`, `mpnet.`, `model.`, `nomic_bert.`, `distilbert.`).
 */
export function familyTensorName(family: ModelFamily, name: string): string | undefined {
  if (family !== 'distilbert') {
    const layout = FAMILY_LAYOUTS[family];
    let n = name;
    for (const prefix of layout.prefixes) {
      if (n.startsWith(prefix)) {
        n = n.slice(prefix.length);
        break;
      }
    }
    for (const [pattern, to] of layout.aliases ?? []) if (pattern.test(n)) return n.replace(pattern, to);
    return n;
  }
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
  const family = FAMILY_OF_MODEL_TYPE[modelType];
  if (!family) {
    throw new DualbertError(
      'UNSUPPORTED_ARCHITECTURE',
      `unsupported architecture "${modelType}": dualbert runs the encoder families ${SUPPORTED_MODEL_TYPES.map((t) => `"${t}"`).join(', ')} (model_type)`,
    );
  }
  if (family === 'distilbert') {
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
  if (family === 'nomic_bert' && c['hidden_size'] === undefined && c['n_embd'] !== undefined) c = nomicRemoteConfig(c);
  const positionType = c['position_embedding_type'] ?? 'absolute';
  if (positionType !== 'absolute') {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported position_embedding_type "${String(positionType)}": only "absolute" is implemented`);
  }

  const base = {
    vocabSize: positiveInt(c, 'vocab_size'),
    hiddenSize: positiveInt(c, 'hidden_size'),
    numLayers: positiveInt(c, 'num_hidden_layers'),
    numHeads: positiveInt(c, 'num_attention_heads'),
    intermediateSize: positiveInt(c, 'intermediate_size'),
  };
  if (base.hiddenSize % base.numHeads !== 0) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `config.json: hidden_size ${base.hiddenSize} is not divisible by num_attention_heads ${base.numHeads}`,
    );
  }
  let config: BertConfig;
  switch (family) {
    case 'modernbert':
      config = { ...base, ...modernBertOptions(c, base.numLayers, base.hiddenSize / base.numHeads) };
      break;
    case 'nomic_bert':
      config = { ...base, ...nomicOptions(c, base.hiddenSize / base.numHeads) };
      break;
    default: {
      const act = c['hidden_act'] ?? 'gelu';
      if (act !== 'gelu') {
        throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported hidden_act "${String(act)}": only "gelu" (erf) is implemented for model_type "${modelType}"`);
      }
      config = {
        ...base,
        maxPositions: positiveInt(c, 'max_position_embeddings'),
        typeVocabSize: family === 'mpnet' ? 0 : positiveInt(c, 'type_vocab_size', 2),
        layerNormEps: numberOr(c, 'layer_norm_eps', 1e-12),
        hiddenAct: 'gelu',
      };
      if (family === 'roberta') {
        // Positions count from padding_idx + 1 (transformers' create_position_ids_from_input_ids).
        config = { ...config, family: 'roberta', positionOffset: nonNegativeInt(c, 'pad_token_id', 1) + 1 };
      } else if (family === 'mpnet') {
        // MPNet's padding_idx is 1 whatever the config says; its bias buckets are always 32 of
        // at most 128 positions apart (MPNetEncoder.compute_position_bias).
        const rows = positiveInt(c, 'relative_attention_num_buckets', 32);
        if (rows < 32) throw new DualbertError('INVALID_CONFIG', `config.json: relative_attention_num_buckets ${rows} is below the 32 buckets MPNet uses`);
        config = { ...config, family: 'mpnet', positionOffset: 2, relativeAttention: { rows, buckets: 32, maxDistance: 128 } };
      }
    }
  }
  if (config.positionOffset !== undefined && config.maxPositions <= config.positionOffset) {
    throw new DualbertError('INVALID_CONFIG', `config.json: max_position_embeddings ${config.maxPositions} leaves no position after the offset ${config.positionOffset}`);
  }
  if (!(config.layerNormEps > 0 && config.layerNormEps < 1)) {
    throw new DualbertError('INVALID_CONFIG', `config.json: layer_norm_eps ${config.layerNormEps} is out of range`);
  }
  return config;
}

function numberOr(c: Record<string, unknown>, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DualbertError('INVALID_CONFIG', `config.json: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(c: Record<string, unknown>, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new DualbertError('INVALID_CONFIG', `config.json: "${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function boolOr(c: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') throw new DualbertError('INVALID_CONFIG', `config.json: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** transformers' activation names of the gated MLPs, onto ours. */
function gatedActivation(name: unknown, key: string): BertConfig['hiddenAct'] {
  switch (name) {
    case 'gelu':
      return 'gelu';
    case 'gelu_pytorch_tanh':
    case 'gelu_new':
    case 'gelu_fast':
      return 'gelu_tanh';
    case 'silu':
    case 'swish':
      return 'silu';
    default:
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported ${key} "${String(name)}": dualbert implements gelu, gelu_pytorch_tanh (gelu_new) and silu`);
  }
}

/** θ of a rope_parameters entry (only the default RoPE is implemented: no scaling). */
function ropeTheta(params: unknown, where: string, fallback: number | undefined): number {
  if (params !== undefined && params !== null) {
    if (typeof params !== 'object') throw new DualbertError('INVALID_CONFIG', `config.json: ${where} must be an object`);
    const p = params as Record<string, unknown>;
    const type = p['rope_type'] ?? p['type'] ?? 'default';
    if (type !== 'default') throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `unsupported ${where}.rope_type "${String(type)}": only the default RoPE is implemented`);
    if (p['rope_theta'] !== undefined) fallback = p['rope_theta'] as number;
  }
  if (typeof fallback !== 'number' || !(fallback > 1) || !Number.isFinite(fallback)) {
    throw new DualbertError('INVALID_CONFIG', `config.json: ${where}.rope_theta must be a number above 1, got ${JSON.stringify(fallback)}`);
  }
  return fallback;
}

/** ModernBERT: pre-norm, GeGLU, RoPE with a global and a local θ, sliding windows on the local layers. */
function modernBertOptions(c: Record<string, unknown>, numLayers: number, headDim: number): Omit<BertConfig, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'intermediateSize'> {
  if (c['rope_scaling'] !== undefined && c['rope_scaling'] !== null) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'unsupported rope_scaling: only the default RoPE is implemented');
  let kinds = c['layer_types'];
  if (kinds === undefined || kinds === null) {
    // The older configs (transformers 4) name the pattern: every n-th layer, from 0, is global.
    const every = positiveInt(c, 'global_attn_every_n_layers', 3);
    kinds = Array.from({ length: numLayers }, (_, i) => (i % every === 0 ? 'full_attention' : 'sliding_attention'));
  }
  if (!Array.isArray(kinds) || kinds.length !== numLayers || !kinds.every((k) => k === 'full_attention' || k === 'sliding_attention')) {
    throw new DualbertError('INVALID_CONFIG', `config.json: "layer_types" must list "full_attention" or "sliding_attention" for each of the ${numLayers} layers`);
  }
  const rope = (c['rope_parameters'] ?? {}) as Record<string, unknown>;
  if (typeof rope !== 'object') throw new DualbertError('INVALID_CONFIG', 'config.json: "rope_parameters" must be an object');
  const theta = ropeTheta(rope['full_attention'], 'rope_parameters.full_attention', (c['global_rope_theta'] as number | undefined) ?? 160000);
  const localTheta = ropeTheta(rope['sliding_attention'], 'rope_parameters.sliding_attention', (c['local_rope_theta'] as number | undefined) ?? 10000);
  if (headDim % 2 !== 0) throw new DualbertError('INVALID_CONFIG', `config.json: the head size ${headDim} is odd; RoPE rotates pairs`);
  return {
    family: 'modernbert',
    maxPositions: positiveInt(c, 'max_position_embeddings', 8192),
    typeVocabSize: 0,
    layerNormEps: numberOr(c, 'norm_eps', 1e-5),
    hiddenAct: gatedActivation(c['hidden_activation'] ?? 'gelu', 'hidden_activation'),
    rope: { theta, localTheta, layout: 'half' },
    layerTypes: (kinds as string[]).map((k) => (k === 'full_attention' ? 'full' : 'sliding')),
    // local_attention is the whole window: keys up to local_attention // 2 on each side.
    slidingWindow: Math.floor(positiveInt(c, 'local_attention', 128) / 2),
    attentionBias: boolOr(c, 'attention_bias', false),
    mlpBias: boolOr(c, 'mlp_bias', false),
    normBias: boolOr(c, 'norm_bias', false),
  };
}

/**
 * The config.json of Nomic's own code on the Hub (nomic-embed-text-v1/v1.5: `n_embd`, `n_layer`,
 * `activation_function: "swiglu"`...) in transformers' names. Its weights have the layout
 * transformers saves NomicBERT in, so only the config needs translating.
 */
function nomicRemoteConfig(c: Record<string, unknown>): Record<string, unknown> {
  if (c['prenorm'] === true) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'config.json: a pre-norm NomicBERT ("prenorm": true) is not implemented');
  if (c['use_rms_norm'] === true) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'config.json: NomicBERT with RMSNorm ("use_rms_norm": true) is not implemented');
  if (c['causal'] === true) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'config.json: a causal NomicBERT is not an encoder dualbert runs');
  for (const key of ['rotary_scaling_factor', 'rotary_emb_scale_base']) {
    if (c[key] !== undefined && c[key] !== null) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `config.json: NomicBERT "${key}" ${String(c[key])}: only unscaled RoPE is implemented`);
  }
  const act = c['activation_function'] ?? 'swiglu';
  if (act !== 'swiglu') throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `config.json: NomicBERT activation_function "${String(act)}": only "swiglu" is implemented`);
  if (c['mlp_fc1_bias'] !== c['mlp_fc2_bias'] && c['mlp_fc1_bias'] !== undefined && c['mlp_fc2_bias'] !== undefined) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'config.json: NomicBERT with a bias on one MLP Linear only is not implemented');
  }
  const embd = c['n_embd'] as number;
  return {
    ...c,
    hidden_size: embd,
    num_hidden_layers: c['n_layer'],
    num_attention_heads: c['n_head'],
    intermediate_size: c['n_inner'] ?? 4 * embd,
    max_position_embeddings: c['n_positions'] ?? c['max_position_embeddings'],
    layer_norm_eps: c['layer_norm_epsilon'] ?? 1e-12,
    hidden_act: 'silu',
    attention_bias: c['qkv_proj_bias'] ?? false,
    mlp_bias: c['mlp_fc1_bias'] ?? false,
  };
}

/** NomicBERT (transformers' NomicBertModel): post-norm, SwiGLU, RoPE, no Linear biases. */
function nomicOptions(c: Record<string, unknown>, headDim: number): Omit<BertConfig, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'intermediateSize'> {
  const declared = c['head_dim'];
  if (declared !== undefined && declared !== null && declared !== headDim) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `config.json: head_dim ${String(declared)} differs from hidden_size / num_attention_heads (${headDim}), which dualbert does not implement`);
  }
  const fraction = c['rotary_emb_fraction'];
  if (fraction !== undefined && fraction !== null && fraction !== 1) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `config.json: rotary_emb_fraction ${String(fraction)}: only RoPE over the whole head (1.0) is implemented`);
  }
  if (headDim % 2 !== 0) throw new DualbertError('INVALID_CONFIG', `config.json: the head size ${headDim} is odd; RoPE rotates pairs`);
  const theta = ropeTheta(c['rope_parameters'], 'rope_parameters', (c['rotary_emb_base'] as number | undefined) ?? 10000);
  return {
    family: 'nomic_bert',
    maxPositions: positiveInt(c, 'max_position_embeddings', 2048),
    typeVocabSize: positiveInt(c, 'type_vocab_size', 2),
    layerNormEps: numberOr(c, 'layer_norm_eps', 1e-12),
    hiddenAct: gatedActivation(c['hidden_act'] ?? 'gelu', 'hidden_act'),
    rope: { theta, layout: c['rotary_emb_interleaved'] === true ? 'interleaved' : 'half' },
    attentionBias: boolOr(c, 'attention_bias', false),
    mlpBias: boolOr(c, 'mlp_bias', false),
  };
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
  let layerPrefix = 'encoder.layer.';
  for (const name of weights.names) {
    const l = layerIndexOf(name);
    if (l !== undefined) {
      layers = Math.max(layers, l);
      if (name.startsWith('layers.')) layerPrefix = 'layers.';
    }
    named ||= /^(encoder|embeddings|layers)\./.test(name);
  }
  if (named && c.numLayers > layers + 1) {
    throw new DualbertError(
      'INVALID_WEIGHTS',
      `${weights.file} holds ${layers + 1} encoder layer(s) but config.json's "num_hidden_layers" is ${c.numLayers} ` +
        `(tensors of ${layerPrefix}${layers + 1} are missing): the config does not belong to these weights`,
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
