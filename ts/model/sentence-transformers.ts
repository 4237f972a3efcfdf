/**
 * Reads the sentence-transformers files of a model (modules.json, the Pooling module's
 * config.json, Dense modules, sentence_bert_config.json, config_sentence_transformers.json) into
 * the settings that decide its embeddings, so that dualbert gives what sentence-transformers
 * gives for the same model.
 */
import { DualbertError } from '../errors.js';
import type { DenseSpec } from '../graph/bert.js';
import type { DenseActivation, PoolingMode } from '../graph/ops.js';
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
  /** `max_seq_length` of sentence_bert_config.json, when present. */
  maxSeqLength: number | undefined;
  /** `do_lower_case` of sentence_bert_config.json: lowercase texts before tokenizing. */
  lowercaseInput: boolean;
  /** Named prompts of config_sentence_transformers.json, e.g. { query: 'query: ', passage: 'passage: ' }. */
  prompts: Record<string, string>;
  /** The prompt used when the caller names none (`default_prompt_name`). */
  defaultPromptName: string | undefined;
  /** Pooling `include_prompt`: false means prompt tokens are left out of the pooling. */
  includePrompt: boolean;
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
const MODES = new Set<string>(Object.values(POOLING_KEYS));

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
  if (typeof cfg['pooling_mode'] === 'string') {
    const mode = cfg['pooling_mode'];
    if (MODES.has(mode)) return { mode: mode as PoolingMode, includePrompt };
    throw new DualbertError('INVALID_CONFIG', `${where}: pooling_mode "${mode}" is not one of ${[...MODES].join(', ')}`);
  }
  const on = Object.keys(POOLING_KEYS).filter((k) => cfg[k] === true);
  if (on.length !== 1) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `${where}: exactly one pooling mode must be enabled, found ${on.length ? on.join(', ') : 'none'}` +
        (on.length > 1 ? ' (concatenated pooling modes are not supported)' : ''),
    );
  }
  return { mode: POOLING_KEYS[on[0]!]!, includePrompt };
}

function denseFromConfig(json: unknown, path: string): DenseModule {
  const where = `${path}/config.json`;
  if (typeof json !== 'object' || json === null) throw new DualbertError('INVALID_CONFIG', `${where} is not a JSON object`);
  const cfg = json as Record<string, unknown>;
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
  };
  const json = readJsonFile;

  const modules = await json('modules.json');
  if (modules === undefined) return settings;

  const bert = (await json('sentence_bert_config.json')) as Record<string, unknown> | undefined;
  if (bert) {
    const max = bert['max_seq_length'];
    if (max !== undefined && max !== null) {
      if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) {
        throw new DualbertError('INVALID_CONFIG', `sentence_bert_config.json: max_seq_length must be a positive integer, got ${JSON.stringify(max)}`);
      }
      settings.maxSeqLength = max;
    }
    settings.lowercaseInput = bert['do_lower_case'] === true;
  }
  Object.assign(settings, readPrompts(await json('config_sentence_transformers.json')));

  if (!Array.isArray(modules)) throw new DualbertError('INVALID_CONFIG', 'modules.json must hold a JSON array');
  let pooled = false;
  for (const m of modules as ModuleEntry[]) {
    const type = m.type ?? '';
    const dir = (m.path ?? '').replace(/\/+$/, '');
    const configPath = `${dir ? `${dir}/` : ''}config.json`;
    if (type.endsWith('models.Transformer')) {
      if (dir) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `modules.json: the Transformer module lives in "${dir}/"; dualbert reads models whose Transformer files are at the root`);
      continue;
    }
    if (type.endsWith('models.Pooling')) {
      const cfg = await json(configPath);
      if (cfg === undefined) throw new DualbertError('MISSING_FILE', `modules.json names a Pooling module, but ${configPath} is missing`);
      const { mode, includePrompt } = poolingFromConfig(cfg, configPath);
      settings.pooling = mode;
      settings.includePrompt = includePrompt;
      pooled = true;
    } else if (type.endsWith('models.Dense')) {
      if (!pooled) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'modules.json: a Dense module before the Pooling module is not supported');
      if (settings.normalize) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', 'modules.json: a Dense module after Normalize is not supported');
      const cfg = await json(configPath);
      if (cfg === undefined) throw new DualbertError('MISSING_FILE', `modules.json names a Dense module, but ${configPath} is missing`);
      settings.dense.push(denseFromConfig(cfg, dir));
    } else if (type.endsWith('models.Normalize')) {
      settings.normalize = true;
    } else {
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `modules.json: module type "${type}" is not supported (Transformer, Pooling, Dense and Normalize are)`);
    }
  }
  return settings;
}
