/**
 * Loads a model — a directory, a URL base, or a synthetic model — into everything the embedder
 * needs: the config, the tokenizer, the checkpoint tensors the graph reads, and the
 * sentence-transformers defaults (pooling, normalization, max length).
 */
import { DualbertError } from '../errors.js';
import { buildBertGraph } from '../graph/bert.js';
import type { BertConfig } from '../graph/config.js';
import type { PoolingMode } from '../graph/ops.js';
import { type Checkpoint, checkpointNames } from '../graph/weights.js';
import { Tokenizer } from '../tokenizer/index.js';
import { parseBertConfig } from './config.js';
import { readSafetensors } from './safetensors.js';
import { readSentenceTransformersSettings } from './sentence-transformers.js';
import { bundledTokenizerSource, directorySource, type ModelSource, readJson, urlSource, utf8 } from './sources.js';
import { SYNTHETIC_MODELS, isSyntheticName, syntheticCheckpoint } from './synthetic.js';

/** Progress events, named as transformers.js names them. */
export type ProgressEvent =
  | { status: 'initiate'; name: string; file: string }
  | { status: 'done'; name: string; file: string; bytes: number }
  | { status: 'ready'; name: string };

export type ProgressCallback = (event: ProgressEvent) => void;

export interface LoadOptions {
  progress_callback?: ProgressCallback;
}

export interface ModelDefaults {
  pooling: PoolingMode;
  normalize: boolean;
  /** Token limit per text, special tokens included: min(max_seq_length, max positions). */
  maxLength: number;
  /** Lowercase texts before tokenizing (sentence_bert_config `do_lower_case`). */
  lowercaseInput: boolean;
}

export interface LoadedModel {
  /** What the user passed, e.g. "synthetic:minilm" or a path. */
  readonly name: string;
  readonly config: BertConfig;
  readonly tokenizer: Tokenizer;
  /** The checkpoint tensors the graph reads (nothing else is decoded). */
  readonly checkpoint: Checkpoint;
  readonly defaults: ModelDefaults;
}

/** The checkpoint names any embedding graph of this config reads. */
function neededTensors(config: BertConfig): Set<string> {
  return new Set(checkpointNames(buildBertGraph(config, { pooling: 'mean', normalize: false }).weights));
}

/**
 * Resolves a model spec: "synthetic:tiny" / "synthetic:minilm", an http(s) or file URL base,
 * or (in Node) a directory path.
 */
export function resolveSource(spec: string): ModelSource | { synthetic: keyof typeof SYNTHETIC_MODELS } {
  if (spec.startsWith('synthetic:')) {
    const name = spec.slice('synthetic:'.length);
    if (!isSyntheticName(name)) {
      throw new DualbertError('MODEL_NOT_FOUND', `unknown synthetic model "${name}": choose ${Object.keys(SYNTHETIC_MODELS).map((n) => `synthetic:${n}`).join(' or ')}`);
    }
    return { synthetic: name };
  }
  if (/^(https?|file):/i.test(spec)) return urlSource(spec);
  return directorySource(spec);
}

async function readTokenizer(source: ModelSource, report: (file: string, bytes: Uint8Array) => void): Promise<Tokenizer> {
  const json = await source.read('tokenizer.json');
  if (json) {
    report('tokenizer.json', json);
    return Tokenizer.fromTokenizerJson(utf8(json));
  }
  const vocab = await source.read('vocab.txt');
  if (!vocab) throw new DualbertError('MISSING_FILE', `${source.location}: no tokenizer.json or vocab.txt`);
  report('vocab.txt', vocab);
  const config = (await readJson(source, 'tokenizer_config.json')) as object | undefined;
  const special = (await readJson(source, 'special_tokens_map.json')) as object | undefined;
  return Tokenizer.fromVocab(utf8(vocab), config, special);
}

/** Maps a checkpoint tensor name to ours: BertFor* checkpoints prefix every name with "bert.". */
function canonicalName(name: string): string {
  return name.startsWith('bert.') ? name.slice(5) : name;
}

/** A model without its weights: enough to tokenize as the model does. */
export type ModelMeta = Omit<LoadedModel, 'checkpoint'>;

interface MetaAndWeights {
  meta: ModelMeta;
  /** Reads the checkpoint tensors the graph needs (the expensive part). */
  readWeights(): Promise<Checkpoint>;
}

async function openModel(spec: string | ModelSource, options: LoadOptions): Promise<MetaAndWeights> {
  const resolved = typeof spec === 'string' ? resolveSource(spec) : spec;
  const name = typeof spec === 'string' ? spec : spec.location;
  const progress = options.progress_callback;
  const report = (file: string, bytes: Uint8Array): void => progress?.({ status: 'done', name, file, bytes: bytes.byteLength });

  if ('synthetic' in resolved) {
    const { config, maxSeqLength } = SYNTHETIC_MODELS[resolved.synthetic];
    const tokenizer = await readTokenizer(bundledTokenizerSource(), report);
    return {
      meta: {
        name,
        config,
        tokenizer,
        defaults: { pooling: 'mean', normalize: true, maxLength: Math.min(maxSeqLength, config.maxPositions), lowercaseInput: false },
      },
      readWeights: async () => syntheticCheckpoint(config, neededTensors(config)),
    };
  }

  const source = resolved;
  progress?.({ status: 'initiate', name, file: 'config.json' });
  const configBytes = await source.read('config.json');
  if (!configBytes) {
    throw new DualbertError('MODEL_NOT_FOUND', `${source.location}: no config.json (is this a Hugging Face model directory?)`);
  }
  report('config.json', configBytes);
  const config = parseBertConfig(utf8(configBytes));
  const tokenizer = await readTokenizer(source, report);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new DualbertError('INVALID_CONFIG', `tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${config.vocabSize}`);
  }
  const st = await readSentenceTransformersSettings(source);
  const maxLength = Math.min(st.maxSeqLength ?? tokenizer.modelMaxLength ?? config.maxPositions, config.maxPositions);

  const readWeights = async (): Promise<Checkpoint> => {
    progress?.({ status: 'initiate', name, file: 'model.safetensors' });
    const weightBytes = await source.read('model.safetensors');
    if (!weightBytes) {
      const hasBin = (await source.read('pytorch_model.bin')) !== undefined;
      throw new DualbertError(
        'MISSING_FILE',
        `${source.location}: no model.safetensors` +
          (hasBin ? ' (pytorch_model.bin is a pickle, which dualbert does not read: convert it to safetensors)' : ''),
      );
    }
    report('model.safetensors', weightBytes);
    const needed = neededTensors(config);
    return readSafetensors(weightBytes, {
      file: `${source.location}/model.safetensors`,
      rename: (n) => (needed.has(canonicalName(n)) ? canonicalName(n) : undefined),
    });
  };
  return {
    meta: { name, config, tokenizer, defaults: { pooling: st.pooling, normalize: st.normalize, maxLength, lowercaseInput: st.lowercaseInput } },
    readWeights,
  };
}

/** Loads a model's config, tokenizer and defaults, without its weights. */
export async function loadModelMeta(spec: string | ModelSource, options: LoadOptions = {}): Promise<ModelMeta> {
  return (await openModel(spec, options)).meta;
}

/** Loads a model from a spec string or a {@link ModelSource}. */
export async function loadModel(spec: string | ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  const { meta, readWeights } = await openModel(spec, options);
  const checkpoint = await readWeights();
  options.progress_callback?.({ status: 'ready', name: meta.name });
  return { ...meta, checkpoint };
}
