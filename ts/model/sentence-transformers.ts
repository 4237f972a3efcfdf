/**
 * Reads the sentence-transformers files of a model (modules.json, the Pooling module's
 * config.json, sentence_bert_config.json) into the settings that decide its embeddings,
 * so that dualbert gives what sentence-transformers gives for the same model.
 */
import { DualbertError } from '../errors.js';
import type { PoolingMode } from '../graph/ops.js';
import { type ModelSource, readJson } from './sources.js';

export interface SentenceTransformersSettings {
  pooling: PoolingMode;
  normalize: boolean;
  /** `max_seq_length` of sentence_bert_config.json, when present. */
  maxSeqLength: number | undefined;
  /** `do_lower_case` of sentence_bert_config.json: lowercase texts before tokenizing. */
  lowercaseInput: boolean;
}

interface ModuleEntry {
  path?: string;
  type?: string;
}

const POOLING_KEYS: Record<string, PoolingMode | null> = {
  pooling_mode_mean_tokens: 'mean',
  pooling_mode_cls_token: 'cls',
  pooling_mode_max_tokens: 'max',
  // Not implemented yet: named so the error can say which one the model asks for.
  pooling_mode_mean_sqrt_len_tokens: null,
  pooling_mode_weightedmean_tokens: null,
  pooling_mode_lasttoken: null,
};

function poolingFromConfig(json: unknown, where: string): PoolingMode {
  if (typeof json !== 'object' || json === null) throw new DualbertError('INVALID_CONFIG', `${where} is not a JSON object`);
  const cfg = json as Record<string, unknown>;
  if (typeof cfg['pooling_mode'] === 'string') {
    const mode = cfg['pooling_mode'];
    if (mode === 'mean' || mode === 'cls' || mode === 'max') return mode;
    throw new DualbertError('INVALID_CONFIG', `${where}: pooling_mode "${mode}" is not supported (mean, cls, max are)`);
  }
  const on = Object.keys(POOLING_KEYS).filter((k) => cfg[k] === true);
  if (on.length !== 1) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `${where}: exactly one pooling mode must be enabled, found ${on.length ? on.join(', ') : 'none'}`,
    );
  }
  const mode = POOLING_KEYS[on[0]!];
  if (!mode) throw new DualbertError('INVALID_CONFIG', `${where}: ${on[0]} is not supported yet (mean, cls and max are)`);
  return mode;
}

/**
 * The settings of a sentence-transformers model. A plain Hugging Face model (no modules.json)
 * gets what sentence-transformers gives it: mean pooling, no normalization.
 */
export async function readSentenceTransformersSettings(source: ModelSource): Promise<SentenceTransformersSettings> {
  const settings: SentenceTransformersSettings = { pooling: 'mean', normalize: false, maxSeqLength: undefined, lowercaseInput: false };

  const bert = (await readJson(source, 'sentence_bert_config.json')) as Record<string, unknown> | undefined;
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

  const modules = await readJson(source, 'modules.json');
  if (modules === undefined) return settings;
  if (!Array.isArray(modules)) throw new DualbertError('INVALID_CONFIG', 'modules.json must hold a JSON array');
  for (const m of modules as ModuleEntry[]) {
    const type = m.type ?? '';
    if (type.endsWith('models.Transformer')) continue;
    if (type.endsWith('models.Pooling')) {
      const path = `${m.path ? `${m.path}/` : ''}config.json`;
      const cfg = await readJson(source, path);
      if (cfg === undefined) throw new DualbertError('MISSING_FILE', `modules.json names a Pooling module, but ${path} is missing`);
      settings.pooling = poolingFromConfig(cfg, path);
    } else if (type.endsWith('models.Normalize')) {
      settings.normalize = true;
    } else {
      throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `modules.json: module type "${type}" is not supported yet`);
    }
  }
  return settings;
}
