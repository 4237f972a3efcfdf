/**
 * What a cross-encoder's own files say about scoring, read as sentence-transformers' CrossEncoder
 * reads them:
 * - the head: config.json `architectures` must name a `*ForSequenceClassification` model (its
 *   head's tensors are in the checkpoint); `num_labels` from `id2label` (or `num_labels`);
 * - the activation `predict()` applies by default: `activation_fn` of
 *   config_sentence_transformers.json (sentence-transformers ≥ 4), else
 *   `sentence_transformers.activation_fn` or `sbert_ce_default_activation_function` of
 *   config.json (older versions), else sigmoid for one label and identity for more;
 * - whether the pair's token type ids reach the model: transformers 5 passes `token_type_ids`
 *   only when the tokenizer class lists them in `model_input_names` (BertTokenizer does; the
 *   generic TokenizersBackend, RoBERTa's and XLM-R's do not: type ids are then all 0).
 */
import { DualbertError } from '../errors.js';
import { CLASSIFIER_HEADS, type ClassifierHeadSpec } from '../graph/heads.js';
import type { ModelFamily } from './config.js';

/**
 * The activation applied to a cross-encoder's logits (`activation_fn`), by torch class name.
 * @example await reranker.score(pairs, { activation: 'identity' });   // raw logits
 */
export type ScoreActivation = 'sigmoid' | 'identity' | 'tanh' | 'relu';

/** torch.nn class names (the last part of a dotted path) → activation. */
const ACTIVATIONS: Record<string, ScoreActivation> = { Sigmoid: 'sigmoid', Identity: 'identity', Tanh: 'tanh', ReLU: 'relu' };

/** Tokenizer classes whose `model_input_names` include token_type_ids in transformers 5. */
const TYPE_ID_TOKENIZERS = new Set([
  'BertTokenizer',
  'BertTokenizerFast',
  'BertJapaneseTokenizer',
  'ElectraTokenizer',
  'ElectraTokenizerFast',
  'MobileBertTokenizer',
  'MobileBertTokenizerFast',
  'SqueezeBertTokenizer',
  'SqueezeBertTokenizerFast',
  'LayoutLMTokenizer',
  'LayoutLMTokenizerFast',
  'FunnelTokenizer',
  'FunnelTokenizerFast',
  'DebertaTokenizer',
  'DebertaTokenizerFast',
  'DebertaV2Tokenizer',
  'DebertaV2TokenizerFast',
]);

/**
 * A cross-encoder's scoring settings.
 * @example const { numLabels, activation } = (await createReranker('synthetic:minilm')).settings;
 */
export interface CrossEncoderSettings {
  /** Where the head's tensors are, and how many logits it gives. */
  readonly head: ClassifierHeadSpec;
  /** Label names by index (config.json `id2label`). */
  readonly labels: readonly string[];
  /** The activation `score()` applies unless told otherwise. */
  readonly activation: ScoreActivation;
  /** Whether the second text's type id 1 reaches the model (see the module comment). */
  readonly tokenTypes: boolean;
}

/** The activation named by a dotted torch class path; an untrusted path (not torch.*) → undefined, as sentence-transformers falls back to its default. */
function activationOf(path: string, where: string, warn: ((m: string) => void) | undefined): ScoreActivation | undefined {
  const name = path.slice(path.lastIndexOf('.') + 1);
  if (!path.startsWith('torch.')) {
    warn?.(`${where}: activation function "${path}" is not a torch one; using the default (as sentence-transformers does without trust_remote_code)`);
    return undefined;
  }
  const a = ACTIVATIONS[name];
  if (!a) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `${where}: activation function "${path}" is not supported (${Object.keys(ACTIVATIONS).join(', ')} are)`);
  return a;
}

/**
 * Reads the settings of a cross-encoder from its parsed config.json, the `activation_fn` of its
 * config_sentence_transformers.json (if any) and its parsed tokenizer_config.json (if any).
 * @example readCrossEncoderSettings(configJson, 'bert', { activationFn: 'torch.nn.modules.activation.Sigmoid', tokenizerConfig })
 */
export function readCrossEncoderSettings(
  config: unknown,
  family: ModelFamily,
  files: { activationFn?: string | undefined; tokenizerConfig?: unknown; warn?: ((m: string) => void) | undefined },
): CrossEncoderSettings {
  const c = (typeof config === 'object' && config !== null ? config : {}) as Record<string, unknown>;
  const architectures = Array.isArray(c['architectures']) ? (c['architectures'] as unknown[]).map(String) : [];
  if (!architectures.some((a) => a.endsWith('ForSequenceClassification'))) {
    throw new DualbertError(
      'UNSUPPORTED_ARCHITECTURE',
      `config.json: architectures ${JSON.stringify(architectures)} has no *ForSequenceClassification head, so this is not a cross-encoder (use createEmbedder for embedding models)`,
    );
  }
  const family_ = family as string;
  const layout = (CLASSIFIER_HEADS as Record<string, Omit<ClassifierHeadSpec, 'numLabels'>>)[family_ === 'xlm-roberta' ? 'roberta' : family_];
  if (!layout) throw new DualbertError('UNSUPPORTED_ARCHITECTURE', `config.json: no sequence-classification head layout is known for model_type "${family_}"`);

  const id2label = c['id2label'];
  let labels: string[];
  if (typeof id2label === 'object' && id2label !== null && Object.keys(id2label).length > 0) {
    const entries = Object.entries(id2label as Record<string, unknown>);
    labels = new Array<string>(entries.length);
    for (const [k, v] of entries) {
      const i = Number(k);
      if (!Number.isInteger(i) || i < 0 || i >= entries.length) throw new DualbertError('INVALID_CONFIG', `config.json: id2label key "${k}" is not a label index below ${entries.length}`);
      labels[i] = String(v);
    }
  } else {
    // transformers' default when a config names none.
    const n = c['num_labels'] ?? 2;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new DualbertError('INVALID_CONFIG', `config.json: num_labels must be a positive integer, got ${JSON.stringify(n)}`);
    labels = Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }

  const st = c['sentence_transformers'];
  const legacy = (typeof st === 'object' && st !== null ? (st as Record<string, unknown>)['activation_fn'] : undefined) ?? c['sbert_ce_default_activation_function'];
  let activation: ScoreActivation | undefined;
  if (files.activationFn !== undefined) activation = activationOf(files.activationFn, 'config_sentence_transformers.json', files.warn);
  else if (typeof legacy === 'string') activation = activationOf(legacy, 'config.json', files.warn);
  activation ??= labels.length === 1 ? 'sigmoid' : 'identity';

  const tok = (typeof files.tokenizerConfig === 'object' && files.tokenizerConfig !== null ? files.tokenizerConfig : undefined) as Record<string, unknown> | undefined;
  let tokenTypes: boolean;
  if (tok && Array.isArray(tok['model_input_names'])) tokenTypes = (tok['model_input_names'] as unknown[]).includes('token_type_ids');
  else if (tok && typeof tok['tokenizer_class'] === 'string') tokenTypes = TYPE_ID_TOKENIZERS.has(tok['tokenizer_class']);
  else tokenTypes = family === 'bert'; // vocab.txt alone: a BERT tokenizer

  return { head: { ...layout, numLabels: labels.length }, labels, activation, tokenTypes };
}
