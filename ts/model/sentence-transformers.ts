/**
 * Reads the sentence-transformers files of a model (modules.json, the Pooling module's
 * config.json, Dense modules, sentence_bert_config.json, config_sentence_transformers.json) into
 * the settings that decide its embeddings, so that dualbert gives what sentence-transformers
 * gives for the same model. Both layouts are read:
 * - up to sentence-transformers 5: module types `sentence_transformers.models.Pooling` ...,
 *   `pooling_mode_mean_tokens: true` ..., `max_seq_length` and `do_lower_case` in
 *   sentence_bert_config.json (or its older names, sentence_roberta_config.json ...);
 * - sentence-transformers 6: `sentence_transformers.base.modules.transformer.Transformer`,
 *   `sentence_transformers.sentence_transformer.modules.pooling.Pooling` ...,
 *   `"pooling_mode": "mean"`, and the max length as the tokenizer's `model_max_length` in
 *   tokenizer_config.json (lowercasing, when asked, is a Lowercase normalizer in tokenizer.json).
 */
import { DualbertError } from '../errors.js';
import type { DenseSpec } from '../graph/bert.js';
import type { DenseActivation, PoolingMode } from '../graph/ops.js';
import { SIMILARITY_FUNCTIONS, type SimilarityFunction } from '../output/similarity.js';
import { type ModelSource, readJson } from './sources.js';

/** A Dense module and where its weights are. */
export interface DenseModule extends DenseSpec {
  /** The module's directory, e.g. "2_Dense". */
  path: string;
}

export interface SentenceTransformersSettings {
  pooling: PoolingMode;
  normalize: boolean;
  /** Dense modules between pooling and normalization, in order. */
  dense: DenseModule[];
  /**
   * The max length sentence-transformers uses, before the cap at the model's positions:
   * `max_seq_length` of sentence_bert_config.json, else (in a sentence-transformers model)
   * `model_max_length` of tokenizer_config.json, where sentence-transformers 6 keeps it.
   */
  maxSeqLength: number | undefined;
  /** `do_lower_case` of sentence_bert_config.json: lowercase texts before tokenizing. */
  lowercaseInput: boolean;
  /** Named prompts of config_sentence_transformers.json, e.g. { query: 'query: ', passage: 'passage: ' }. */
  prompts: Record<string, string>;
  /** The prompt used when the caller names none (`default_prompt_name`). */
  defaultPromptName: string | undefined;
  /** Pooling `include_prompt`: false means prompt tokens are left out of the pooling. */
  includePrompt: boolean;
  /** `truncate_dim` of config_sentence_transformers.json: Matryoshka width embed() returns by default. */
  truncateDim: number | undefined;
  /** `similarity_fn_name` of config_sentence_transformers.json (default cosine). */
  similarityFnName: SimilarityFunction;
  /** `model_type` of config_sentence_transformers.json: "SentenceTransformer", "CrossEncoder"… */
  modelType: string | undefined;
  /** A CrossEncoder's `activation_fn` (a dotted class path, e.g. torch.nn.modules.activation.Sigmoid). */
  activationFn: string | undefined;
}

interface ModuleEntry {
  path?: string;
  type?: string;
}

const POOLING_KEYS: Record<string, PoolingMode> = {
  pooling_mode_cls_token: 'cls',
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_max_tokens: 'max',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len',
  pooling_mode_weightedmean_tokens: 'weightedmean',
  pooling_mode_lasttoken: 'lasttoken',
};
/** `pooling_mode` names: sentence-transformers 6 writes `mean_sqrt_len_tokens`. */
const MODE_NAMES: Record<string, PoolingMode> = {
  cls: 'cls',
  mean: 'mean',
  max: 'max',
  mean_sqrt_len: 'mean_sqrt_len',
  mean_sqrt_len_tokens: 'mean_sqrt_len',
  weightedmean: 'weightedmean',
  lasttoken: 'lasttoken',
};

/** The module kind of a modules.json type, whatever package path names it (≤ 5 or 6). */
function moduleKind(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

/** Legacy names of sentence_bert_config.json, tried in sentence-transformers' order. */
const MODULE_CONFIG_FILES = [
  'sentence_bert_config.json',
  'sentence_roberta_config.json',
  'sentence_distilbert_config.json',
  'sentence_camembert_config.json',
  'sentence_albert_config.json',
  'sentence_xlm-roberta_config.json',
  'sentence_xlnet_config.json',
];

/** transformers writes int(1e30) when a tokenizer has no limit; anything that large means none. */
const NO_LIMIT = 1e12;

/** torch.nn activation class names (the last dotted part) → our activation. */
const ACTIVATIONS: Record<string, DenseActivation> = {
  Identity: 'identity',
  Tanh: 'tanh',
  ReLU: 'relu',
  GELU: 'gelu',
  Sigmoid: 'sigmoid',
};

function poolingFromConfig(json: unknown, where: string): { mode: PoolingMode; includePrompt: boolean } {
  if (typeof json !== 'object' || json === null) throw new DualbertError('INVALID_CONFIG', `${where} is not a JSON object`);
  const cfg = json as Record<string, unknown>;
  const includePrompt = cfg['include_prompt'] !== false;
  let modes = cfg['pooling_mode'];
  if (Array.isArray(modes) && modes.length === 1) modes = modes[0];
  if (Array.isArray(modes)) {
    throw new DualbertError('INVALID_CONFIG', `${where}: pooling_mode ${JSON.stringify(modes)} concatenates pooling modes, which is not supported`);
  }
  if (typeof modes === 'string') {
    const mode = MODE_NAMES[modes];
    if (mode !== undefined) return { mode, includePrompt };
    throw new DualbertError('INVALID_CONFIG', `${where}: pooling_mode "${modes}" is not one of ${Object.keys(MODE_NAMES).join(', ')}`);
  }
  const on = Object.keys(POOLING_KEYS).filter((k) => cfg[k] === true);
  if (on.length > 1) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `${where}: exactly one pooling mode must be enabled, found ${on.join(', ')} (concatenated pooling modes are not supported)`,
    );
  }
  // No mode at all: sentence-transformers 6 reads such a file as mean pooling.
  return { mode: on.length === 1 ? POOLING_KEYS[on[0]!]! : 'mean', includePrompt };
}

/** sentence-transformers 6 modules may work on other features than the sentence embedding. */
function checkSentenceEmbeddingInput(cfg: Record<string, unknown>, where: string): void {
  for (const key of ['module_input_name', 'module_output_name']) {
    const name = cfg[key];
    if (name !== undefined && name !== null && name !== 'sentence_embedding') {
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `${where}: ${key} "${String(name)}" is not supported (only "sentence_embedding")`);
    }
  }
}

function denseFromConfig(json: unknown, path: string): DenseModule {
  const where = `${path}/config.json`;
  if (typeof json !== 'object' || json === null) throw new DualbertError('INVALID_CONFIG', `${where} is not a JSON object`);
  const cfg = json as Record<string, unknown>;
  checkSentenceEmbeddingInput(cfg, where);
  const int = (key: string): number => {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new DualbertError('INVALID_CONFIG', `${where}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const actName = String(cfg['activation_function'] ?? 'torch.nn.modules.activation.Tanh');
  const activation = ACTIVATIONS[actName.split('.').pop()!];
  if (!activation) {
    throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `${where}: activation_function "${actName}" is not supported (${Object.keys(ACTIVATIONS).join(', ')} are)`);
  }
  return {
    path,
    name: `${path}.linear`,
    inFeatures: int('in_features'),
    outFeatures: int('out_features'),
    bias: cfg['bias'] !== false,
    activation,
  };
}

function readPrompts(json: unknown): { prompts: Record<string, string>; defaultPromptName: string | undefined } {
  const prompts: Record<string, string> = {};
  if (typeof json !== 'object' || json === null) return { prompts, defaultPromptName: undefined };
  const cfg = json as Record<string, unknown>;
  const raw = cfg['prompts'];
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new DualbertError('INVALID_CONFIG', `config_sentence_transformers.json: prompt "${k}" is not a string`);
      prompts[k] = v;
    }
  }
  const def = cfg['default_prompt_name'];
  if (typeof def === 'string' && !(def in prompts)) {
    throw new DualbertError('INVALID_CONFIG', `config_sentence_transformers.json: default_prompt_name "${def}" is not one of its prompts`);
  }
  return { prompts, defaultPromptName: typeof def === 'string' ? def : undefined };
}

/** The model-level settings of config_sentence_transformers.json besides prompts. */
function readModelConfig(json: unknown): Pick<SentenceTransformersSettings, 'truncateDim' | 'similarityFnName' | 'modelType' | 'activationFn'> {
  const where = 'config_sentence_transformers.json';
  const cfg = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const dim = cfg['truncate_dim'];
  if (dim !== undefined && dim !== null && (typeof dim !== 'number' || !Number.isInteger(dim) || dim <= 0)) {
    throw new DualbertError('INVALID_CONFIG', `${where}: truncate_dim must be a positive integer, got ${JSON.stringify(dim)}`);
  }
  const fn = cfg['similarity_fn_name'] ?? 'cosine';
  if (!SIMILARITY_FUNCTIONS.includes(fn as SimilarityFunction)) {
    throw new DualbertError('INVALID_CONFIG', `${where}: similarity_fn_name ${JSON.stringify(fn)} is not one of ${SIMILARITY_FUNCTIONS.join(', ')}`);
  }
  const str = (key: string): string | undefined => (typeof cfg[key] === 'string' ? (cfg[key] as string) : undefined);
  return { truncateDim: typeof dim === 'number' ? dim : undefined, similarityFnName: fn as SimilarityFunction, modelType: str('model_type'), activationFn: str('activation_fn') };
}

/**
 * The settings of a sentence-transformers model. A plain Hugging Face model (no modules.json)
 * gets what sentence-transformers gives it: mean pooling, no normalization.
 * `readJsonFile` reads a JSON file of the model (undefined when absent); the loader passes one
 * that reports progress.
 */
export async function readSentenceTransformersSettings(
  source: ModelSource,
  readJsonFile: (path: string) => Promise<unknown> = (path) => readJson(source, path),
): Promise<SentenceTransformersSettings> {
  const settings: SentenceTransformersSettings = {
    pooling: 'mean',
    normalize: false,
    dense: [],
    maxSeqLength: undefined,
    lowercaseInput: false,
    prompts: {},
    defaultPromptName: undefined,
    includePrompt: true,
    truncateDim: undefined,
    similarityFnName: 'cosine',
    modelType: undefined,
    activationFn: undefined,
  };
  const json = readJsonFile;

  const modules = await json('modules.json');
  if (modules === undefined) return settings;

  let bert: Record<string, unknown> | undefined;
  let bertFile = MODULE_CONFIG_FILES[0]!;
  for (const file of MODULE_CONFIG_FILES) {
    bert = (await json(file)) as Record<string, unknown> | undefined;
    bertFile = file;
    if (bert) break;
  }
  if (bert) {
    const max = bert['max_seq_length'];
    if (max !== undefined && max !== null) {
      if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) {
        throw new DualbertError('INVALID_CONFIG', `${bertFile}: max_seq_length must be a positive integer, got ${JSON.stringify(max)}`);
      }
      settings.maxSeqLength = max;
    }
    settings.lowercaseInput = bert['do_lower_case'] === true;
  }
  // sentence-transformers 6 keeps the max length in the tokenizer's config.
  settings.maxSeqLength ??= tokenizerMaxLength(await json('tokenizer_config.json'));
  const modelConfig = await json('config_sentence_transformers.json');
  Object.assign(settings, readPrompts(modelConfig), readModelConfig(modelConfig));

  if (!Array.isArray(modules)) throw new DualbertError('INVALID_CONFIG', 'modules.json must hold a JSON array');
  let pooled = false;
  for (const m of modules as ModuleEntry[]) {
    const type = m.type ?? '';
    const kind = moduleKind(type);
    const dir = (m.path ?? '').replace(/\/+$/, '');
    const configPath = `${dir ? `${dir}/` : ''}config.json`;
    if (kind === 'Transformer') {
      if (dir) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `modules.json: the Transformer module lives in "${dir}/"; dualbert reads models whose Transformer files are at the root`);
      continue;
    }
    if (kind === 'Pooling') {
      const cfg = await json(configPath);
      if (cfg === undefined) throw new DualbertError('MISSING_FILE', `modules.json names a Pooling module, but ${configPath} is missing`);
      const { mode, includePrompt } = poolingFromConfig(cfg, configPath);
      settings.pooling = mode;
      settings.includePrompt = includePrompt;
      pooled = true;
    } else if (kind === 'Dense') {
      if (!pooled) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'modules.json: a Dense module before the Pooling module is not supported');
      if (settings.normalize) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'modules.json: a Dense module after Normalize is not supported');
      const cfg = await json(configPath);
      if (cfg === undefined) throw new DualbertError('MISSING_FILE', `modules.json names a Dense module, but ${configPath} is missing`);
      settings.dense.push(denseFromConfig(cfg, dir));
    } else if (kind === 'Normalize') {
      // sentence-transformers 6 writes a config (which features it normalizes); older versions none.
      const cfg = dir ? await json(configPath) : undefined;
      if (typeof cfg === 'object' && cfg !== null) checkSentenceEmbeddingInput(cfg as Record<string, unknown>, configPath);
      settings.normalize = true;
    } else {
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `modules.json: module type "${type}" is not supported (Transformer, Pooling, Dense and Normalize are)`);
    }
  }
  return settings;
}

/** `model_max_length` of tokenizer_config.json, when it is a real limit. */
function tokenizerMaxLength(config: unknown): number | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const max = (config as Record<string, unknown>)['model_max_length'];
  return typeof max === 'number' && Number.isInteger(max) && max > 0 && max < NO_LIMIT ? max : undefined;
}
