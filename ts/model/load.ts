/**
 * Loads a model — a directory, a URL base, a hub id, in-memory files, or a synthetic model — into
 * everything the embedder needs: the config, the tokenizer, the checkpoint tensors the graph
 * reads, and the sentence-transformers defaults (pooling, Dense modules, normalization, max
 * length, prompts).
 *
 * Which weights file is read is decided by the model's own files, in this order:
 * `model.safetensors`, then the shards of `model.safetensors.index.json`, then the ONNX export
 * (`onnx/model.onnx`, or the variant that `dtype` names: `model_fp16.onnx`, `model_quantized.onnx`...).
 * Only the files the model needs are read.
 */
import { isNode } from '../env.js';
import { DualbertError } from '../errors.js';
import { buildBertGraph } from '../graph/bert.js';
import { type BertConfig, maxSequenceLength } from '../graph/config.js';
import { CLASSIFIER_HEADS, classifierTensorShapes } from '../graph/heads.js';
import type { PoolingMode } from '../graph/ops.js';
import type { SimilarityFunction } from '../output/similarity.js';
import { type Checkpoint, type Tensor, checkpointNames, checkpointShapes } from '../graph/weights.js';
import { Tokenizer } from '../tokenizer/index.js';
import { type ModelFamily, checkConfigAgainstWeights, familyTensorName, modelFamily, parseBertConfig } from './config.js';
import { type CrossEncoderSettings, readCrossEncoderSettings } from './cross-encoder.js';
import { checkFinite } from './finite.js';
import { checkRequestOptions } from './deadline.js';
import { canonicalOnnxName, parseOnnx, readOnnxCheckpoint } from './onnx.js';
import { readSafetensors, readSafetensorsHeader } from './safetensors.js';
import { type DenseModule, readSentenceTransformersSettings } from './sentence-transformers.js';
import {
  type HubOptions,
  type ModelSource,
  type ReadOptions,
  bundledTokenizerSource,
  directorySource,
  hubSource,
  urlSource,
  utf8,
} from './sources.js';
import { SYNTHETIC_MODELS, isSyntheticName, syntheticCheckpoint, syntheticTensor } from './synthetic.js';

/**
 * Progress events, named as transformers.js names them: `initiate` when a file starts,
 * `download` and `progress` as its bytes arrive from the network (never for local or cached
 * files), `done` when it is read (`cached: true` when it came from the cache), `ready` when the
 * model is loaded.
 * @example
 * const onProgress = (e: ProgressEvent) => {
 *   if (e.status === 'progress') bar.value = e.progress;          // percent of e.total bytes
 *   if (e.status === 'done') console.log(`${e.file}: ${e.bytes} bytes${e.cached ? ' (cache)' : ''}`);
 * };
 */
export type ProgressEvent =
  | { status: 'initiate'; name: string; file: string }
  | { status: 'download'; name: string; file: string; loaded: number; total: number | undefined }
  | { status: 'progress'; name: string; file: string; progress: number; loaded: number; total: number | undefined }
  | { status: 'done'; name: string; file: string; bytes: number; cached?: boolean }
  | { status: 'ready'; name: string; model: string };

/**
 * Receives {@link ProgressEvent}s while a model loads.
 * @example
 * await createEmbedder('hf:Xenova/all-MiniLM-L6-v2', { progress_callback: (e) => console.log(e.status, 'file' in e ? e.file : '') });
 */
export type ProgressCallback = (event: ProgressEvent) => void;

/**
 * Which ONNX export to read when the model has no safetensors (transformers.js `dtype` names):
 * fp32 `model.onnx`, fp16 `model_fp16.onnx`, q8 `model_quantized.onnx`, int8 `model_int8.onnx`, uint8 `model_uint8.onnx`.
 * @example
 * await loadModel('hf:Xenova/all-MiniLM-L6-v2', { dtype: 'q8' });   // onnx/model_quantized.onnx: int8 Linear weights kept as int8
 */
export type WeightsDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8';

/** ONNX file name suffix per dtype, as transformers.js repositories name them. */
export const ONNX_VARIANTS: Readonly<Record<WeightsDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
};

/**
 * Options of {@link loadModel} (and of `createEmbedder`): where files come from, the cache, progress.
 * @example
 * await loadModel('hf:BAAI/bge-small-en-v1.5', { cache_dir: '/data/models', offline: true });
 */
export interface LoadOptions extends HubOptions {
  progress_callback?: ProgressCallback;
  /**
   * The ONNX variant to read when the model has only ONNX weights (default 'fp32': `onnx/model.onnx`).
   * fp16 weights are widened exactly; the int8 Linear weights of dynamic quantization are kept
   * as int8 (with their scales and zero points) and computed in int8 as onnxruntime does.
   */
  dtype?: WeightsDtype;
}

/**
 * What a model's own files say about its embeddings (sentence-transformers settings).
 * @example
 * const { pooling, normalize, maxLength, prompts } = (await loadModel(dir)).defaults;
 */
export interface ModelDefaults {
  pooling: PoolingMode;
  normalize: boolean;
  /** sentence-transformers Dense modules after pooling (their weights are in the checkpoint). */
  dense: readonly DenseModule[];
  /** Token limit per text, special tokens included: min(max_seq_length, max positions). */
  maxLength: number;
  /** Lowercase texts before tokenizing (sentence_bert_config `do_lower_case`). */
  lowercaseInput: boolean;
  /** Named prompts of config_sentence_transformers.json (e.g. e5: query → "query: "). */
  prompts: Readonly<Record<string, string>>;
  /** The prompt applied when a call names none. */
  defaultPromptName: string | undefined;
  /** Pooling `include_prompt`; false is not supported with a prompt (the call throws). */
  includePrompt: boolean;
  /** `truncate_dim` (config_sentence_transformers.json): the Matryoshka width embed() returns by default. */
  truncateDim: number | undefined;
  /** `similarity_fn_name` (config_sentence_transformers.json): what `similarity()` computes. */
  similarityFnName: SimilarityFunction;
}

/**
 * A loaded model: config, tokenizer, checkpoint tensors and defaults.
 * @example
 * const model = await loadModel('./all-MiniLM-L6-v2');
 * console.log(model.config.hiddenSize, model.weightFiles);   // 384 [ 'model.safetensors' ]
 */
export interface LoadedModel {
  /** What the user passed, e.g. "synthetic:minilm" or a path. */
  readonly name: string;
  readonly config: BertConfig;
  readonly tokenizer: Tokenizer;
  /** The checkpoint tensors the graph reads (nothing else is decoded). */
  readonly checkpoint: Checkpoint;
  readonly defaults: ModelDefaults;
  /** The weights file(s) read, relative to the model root. */
  readonly weightFiles?: readonly string[];
  /** A cross-encoder's head and scoring settings (models loaded with {@link loadCrossEncoderModel}). */
  readonly classifier?: CrossEncoderSettings;
}

/** The checkpoint names any embedding graph of this config reads (Dense weights excluded). */
function neededTensors(config: BertConfig): Set<string> {
  return new Set(checkpointNames(buildBertGraph(config, { pooling: 'mean', normalize: false }).weights));
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+(@[\w./-]+)?$/;

/**
 * Resolves a model spec: "synthetic:tiny" / "synthetic:minilm"; "hf:owner/name[@revision]";
 * an http(s) or file URL base; in Node a directory path (a bare "owner/name" that is not a
 * directory is a hub id); in browsers a bare "owner/name" is a hub id.
 */
export async function resolveSource(spec: string, options: LoadOptions = {}): Promise<ModelSource | { synthetic: keyof typeof SYNTHETIC_MODELS }> {
  if (spec.startsWith('synthetic:')) {
    const name = spec.slice('synthetic:'.length);
    if (!isSyntheticName(name)) {
      throw new DualbertError('MODEL_NOT_FOUND', `unknown synthetic model "${name}": choose ${Object.keys(SYNTHETIC_MODELS).map((n) => `synthetic:${n}`).join(' or ')}`);
    }
    return { synthetic: name };
  }
  if (spec.startsWith('hf:')) return hubSource(spec, options);
  if (/^(https?|file):/i.test(spec)) return urlSource(spec, options);
  if (!isNode) {
    if (HUB_ID.test(spec)) return hubSource(spec, options);
    throw new DualbertError('INVALID_ARGUMENT', `"${spec}" is neither a URL nor a hub id (owner/name); in a browser pass a URL, a hub id or in-memory files`);
  }
  if (HUB_ID.test(spec)) {
    const { stat } = await import('node:fs/promises');
    const isDir = await stat(spec).then((s) => s.isDirectory(), () => false);
    if (!isDir) return hubSource(spec, options);
  }
  return directorySource(spec);
}

/** `location/path` for messages. */
function where(source: ModelSource, path: string): string {
  return `${source.location.replace(/\/+$/, '')}/${path}`;
}

/** Codes that mean "these bytes are not a valid file": worth one fresh download before the error. */
const CORRUPT_CONTENT = new Set(['INVALID_WEIGHTS', 'INVALID_CONFIG', 'INVALID_TOKENIZER']);

/** Reads files with progress events. */
class FileReader {
  constructor(
    readonly source: ModelSource,
    private readonly name: string,
    private readonly progress: ProgressCallback | undefined,
    private readonly options: Pick<LoadOptions, 'signal' | 'warn'> = {},
  ) {}

  /** The hooks of one file: `initiate` on the first sign of it, then download/progress. */
  hooks(file: string): ReadOptions & { started: () => void; cached: boolean } {
    let started = false;
    const progress = this.progress;
    const name = this.name;
    const h = {
      cached: false,
      started: () => {
        if (!started) {
          started = true;
          progress?.({ status: 'initiate', name, file });
        }
      },
      onProgress: (loaded: number, total: number | undefined) => {
        h.started();
        progress?.({ status: 'download', name, file, loaded, total });
        progress?.({ status: 'progress', name, file, progress: total ? (100 * loaded) / total : 0, loaded, total });
      },
      onCached: () => {
        h.cached = true;
      },
    };
    return h;
  }

  async read(file: string, reload = false): Promise<Uint8Array | undefined> {
    const h = this.hooks(file);
    const bytes = reload ? await this.source.reload!(file, h) : await this.source.read(file, h);
    this.options.signal?.throwIfAborted();
    if (bytes) {
      h.started();
      this.progress?.({ status: 'done', name: this.name, file, bytes: bytes.byteLength, ...(h.cached ? { cached: true } : {}) });
    }
    return bytes;
  }

  /**
   * Reads a file and parses it. When parsing fails with a corrupt-content error and the source
   * can fetch the file again (network sources), the cached copy is evicted and the file is
   * downloaded and parsed once more before the error is reported: a copy cut short by a server
   * that lied about its length never poisons every later load.
   */
  async parsed<T>(file: string, parse: (bytes: Uint8Array) => T): Promise<T | undefined> {
    const bytes = await this.read(file);
    if (!bytes) return undefined;
    try {
      return parse(bytes);
    } catch (e) {
      if (!(e instanceof DualbertError) || !CORRUPT_CONTENT.has(e.code) || !this.source.reload) throw e;
      this.options.warn?.(`${where(this.source, file)} cannot be read (${e.message}): fetching it again`);
      const again = await this.read(file, true);
      if (!again) throw e;
      return parse(again);
    }
  }

  async json(file: string): Promise<unknown | undefined> {
    return this.parsed(file, (bytes) => parseJsonFile(where(this.source, file), bytes));
  }
}

/** JSON.parse with INVALID_CONFIG naming the file. */
function parseJsonFile(file: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8(bytes));
  } catch (e) {
    throw new DualbertError('INVALID_CONFIG', `${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Adds the file to tokenizer errors, which do not know where their input came from. */
function inFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DualbertError && !e.message.includes(file)) {
      const base = file.slice(file.lastIndexOf('/') + 1);
      const reason = e.message.startsWith(`${base}: `) ? e.message.slice(base.length + 2) : e.message;
      throw new DualbertError(e.code, `${file}: ${reason}`, { cause: e });
    }
    throw e;
  }
}

async function readTokenizer(files: FileReader, config: BertConfig | undefined): Promise<Tokenizer> {
  const { source } = files;
  let file = where(source, 'tokenizer.json');
  let tokenizer = await files.parsed('tokenizer.json', (json) => inFile(file, () => Tokenizer.fromTokenizerJson(utf8(json))));
  if (!tokenizer) {
    const vocab = await files.read('vocab.txt');
    if (!vocab) throw new DualbertError('MISSING_FILE', `${source.location}: no tokenizer.json or vocab.txt`);
    const tokConfig = (await files.json('tokenizer_config.json')) as object | undefined;
    const special = (await files.json('special_tokens_map.json')) as object | undefined;
    file = where(source, 'vocab.txt');
    tokenizer = inFile(file, () => Tokenizer.fromVocab(utf8(vocab), tokConfig, special));
  }
  if (config && tokenizer.vocabSize > config.vocabSize) {
    throw new DualbertError(
      'INVALID_CONFIG',
      `${file} has ${tokenizer.vocabSize} tokens but config.json's vocab_size is ${config.vocabSize}: the tokenizer does not belong to these weights`,
    );
  }
  checkSpecialIds(tokenizer, file, config);
  return tokenizer;
}

/**
 * The ids the tokenizer adds on its own (padding, unknown, [CLS], [SEP]) must be rows of the
 * embedding table: a pad id outside it would pass load and fail (or read garbage) only on the
 * first padded batch.
 */
function checkSpecialIds(tokenizer: Tokenizer, file: string, config: BertConfig | undefined): void {
  const rows = config?.vocabSize ?? tokenizer.vocabSize;
  const where = config ? `the embedding table (config.json vocab_size ${rows})` : `the vocabulary (${rows} tokens)`;
  const ids: [string, number | undefined][] = [
    ['padding', tokenizer.padId],
    ['unknown-token', tokenizer.unkId],
    ['[CLS]', tokenizer.clsId],
    ['[SEP]', tokenizer.sepId],
  ];
  for (const [what, id] of ids) {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < rows)) {
      throw new DualbertError('INVALID_TOKENIZER', `${file}: the ${what} id ${id} is outside ${where}`);
    }
  }
  const types = config?.typeVocabSize;
  // Families without token types (MPNet, ModernBERT) ignore the type ids.
  if (types !== undefined && types > 0 && !(Number.isInteger(tokenizer.padTypeId) && tokenizer.padTypeId >= 0 && tokenizer.padTypeId < types)) {
    throw new DualbertError('INVALID_TOKENIZER', `${file}: the padding type id ${tokenizer.padTypeId} is outside config.json's type_vocab_size ${types}`);
  }
}

/** DistilBERT has no token types: its single segment adds a zero row. */
function addMissingTokenTypes(family: ModelFamily, config: BertConfig, checkpoint: Map<string, Tensor>): void {
  if (family === 'distilbert' && !checkpoint.has('embeddings.token_type_embeddings.weight')) {
    checkpoint.set('embeddings.token_type_embeddings.weight', { shape: [config.typeVocabSize, config.hiddenSize], data: new Float32Array(config.typeVocabSize * config.hiddenSize) });
  }
}

/** A shard path from an index file: relative, inside the model. */
function checkShardPath(index: string, shard: unknown): string {
  if (typeof shard !== 'string' || !shard || shard.startsWith('/') || shard.split(/[\\/]/).includes('..') || /^[a-z]+:/i.test(shard)) {
    throw new DualbertError('INVALID_WEIGHTS', `${index}: shard file name ${JSON.stringify(shard)} is not a relative path inside the model`);
  }
  return shard;
}

interface WeightsResult {
  checkpoint: Map<string, Tensor>;
  files: string[];
}

/**
 * Every tensor the graph needs is there with the shape the config gives it; otherwise
 * INVALID_WEIGHTS naming the file and the tensor (so a wrong file never yields wrong vectors).
 */
function checkTensors(checkpoint: ReadonlyMap<string, Tensor>, shapes: ReadonlyMap<string, readonly number[]>, fileOf: (name: string) => string): void {
  for (const [name, shape] of shapes) {
    const t = checkpoint.get(name);
    if (!t) throw new DualbertError('INVALID_WEIGHTS', `${fileOf(name)}: tensor "${name}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new DualbertError('INVALID_WEIGHTS', `${fileOf(name)}: tensor "${name}" has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`);
    }
  }
}

/** The shapes of the checkpoint tensors an embedding graph reads (Dense weights excluded). */
function neededShapes(config: BertConfig): Map<string, readonly number[]> {
  return checkpointShapes(buildBertGraph(config, { pooling: 'mean', normalize: false }).weights);
}

/** The encoder weights, from the first weights format the model has. */
async function readEncoderWeights(
  files: FileReader,
  config: BertConfig,
  family: ModelFamily,
  options: LoadOptions,
  /** Tensors of a task head (a classifier) to read too, with their shapes. */
  extra: ReadonlyMap<string, readonly number[]> = new Map(),
): Promise<WeightsResult> {
  const { source } = files;
  const canonicalName = (n: string): string | undefined => familyTensorName(family, n);
  const canonicalNames = function* (names: Iterable<string>): Generator<string> {
    for (const n of names) {
      const c = canonicalName(n);
      if (c !== undefined) yield c;
    }
  };
  // The graph's tensor list is built from config.json, so only after its sizes were checked
  // against the weights file (checkConfigAgainstWeights): a config that asks for a million
  // layers fails at once instead of building a million-layer graph.
  let neededSet: Set<string> | undefined;
  const needed = (): Set<string> => {
    if (!neededSet) {
      neededSet = neededTensors(config);
      for (const name of extra.keys()) neededSet.add(name);
      if (family === 'distilbert') neededSet.delete('embeddings.token_type_embeddings.weight');
    }
    return neededSet;
  };
  const rename = (n: string): string | undefined => {
    const c = canonicalName(n);
    return c !== undefined && needed().has(c) ? c : undefined;
  };

  const singleFile = where(source, 'model.safetensors');
  const single = await files.parsed('model.safetensors', (bytes) => ({ bytes, header: readSafetensorsHeader(bytes, singleFile) }));
  if (single) {
    const file = singleFile;
    checkConfigAgainstWeights(config, { file, bytes: single.bytes.byteLength, names: canonicalNames(single.header.entries.keys()) });
    const checkpoint = readSafetensors(single.bytes, { file, rename, header: single.header });
    addMissingTokenTypes(family, config, checkpoint);
    checkTensors(checkpoint, new Map([...neededShapes(config), ...extra]), () => file);
    checkFinite(checkpoint, () => file);
    return { checkpoint, files: ['model.safetensors'] };
  }

  const index = await files.json('model.safetensors.index.json');
  if (index !== undefined) {
    const indexFile = where(source, 'model.safetensors.index.json');
    const map = (index as { weight_map?: unknown }).weight_map;
    if (typeof map !== 'object' || map === null) throw new DualbertError('INVALID_WEIGHTS', `${indexFile} has no "weight_map" object`);
    checkConfigAgainstWeights(config, { file: indexFile, bytes: undefined, names: canonicalNames(Object.keys(map)) });
    const shardOf = new Map<string, string>();
    for (const [tensor, shard] of Object.entries(map as Record<string, unknown>)) {
      const name = canonicalName(tensor);
      if (name !== undefined && needed().has(name)) {
        if (shardOf.has(name)) throw new DualbertError('INVALID_WEIGHTS', `${indexFile}: two entries of weight_map are both "${name}"`);
        shardOf.set(name, checkShardPath(indexFile, shard));
      }
    }
    const missing = [...needed()].filter((n) => !shardOf.has(n));
    if (missing.length) throw new DualbertError('INVALID_WEIGHTS', `${indexFile}: tensor "${missing[0]}" is in no shard (${missing.length} missing)`);
    const checkpoint = new Map<string, Tensor>();
    const shards = [...new Set(shardOf.values())];
    for (const shard of shards) {
      const inShard = (n: string): string | undefined => {
        const name = rename(n);
        return name && shardOf.get(name) === shard ? name : undefined;
      };
      const tensors = await files.parsed(shard, (bytes) => readSafetensors(bytes, { file: where(source, shard), rename: inShard }));
      if (!tensors) throw new DualbertError('MISSING_FILE', `${indexFile} names shard ${shard}, but ${where(source, shard)} is missing`);
      for (const [k, v] of tensors) checkpoint.set(k, v);
    }
    addMissingTokenTypes(family, config, checkpoint);
    const fileOf = (n: string): string => where(source, shardOf.get(n) ?? 'model.safetensors.index.json');
    checkTensors(checkpoint, new Map([...neededShapes(config), ...extra]), fileOf);
    checkFinite(checkpoint, fileOf);
    return { checkpoint, files: ['model.safetensors.index.json', ...shards] };
  }

  const dtype = options.dtype ?? 'fp32';
  const suffix = ONNX_VARIANTS[dtype];
  if (suffix === undefined) {
    throw new DualbertError('INVALID_ARGUMENT', `dtype "${String(dtype)}" is not one of ${Object.keys(ONNX_VARIANTS).join(', ')}`);
  }
  const candidates = [`onnx/model${suffix}.onnx`, `model${suffix}.onnx`];
  for (const path of candidates) {
    const file = where(source, path);
    const parsedModel = await files.parsed(path, (bytes) => ({ model: parseOnnx(bytes, file), bytes: bytes.byteLength }));
    if (!parsedModel) continue;
    const { model } = parsedModel;
    // External data files (exports over 2 GB keep tensors beside the .onnx), read before decoding.
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
    const external = new Map<string, Uint8Array>();
    for (const t of model.initializers.values()) {
      if (!t.external || external.has(t.external.location)) continue;
      const loc = checkShardPath(file, t.external.location);
      const data = await files.read(dir + loc);
      if (!data) throw new DualbertError('MISSING_FILE', `${file} keeps weights in ${loc}, but ${where(source, dir + loc)} is missing`);
      external.set(t.external.location, data);
    }
    checkConfigAgainstWeights(config, {
      file,
      bytes: parsedModel.bytes + [...external.values()].reduce((a, d) => a + d.byteLength, 0),
      names: canonicalNames([...model.initializers.keys()].map(canonicalOnnxName)),
    });
    const warn = options.warn ?? ((m: string) => console.warn(`dualbert: ${m}`));
    const checkpoint = readOnnxCheckpoint(model, config, { file, needed: needed(), shapes: new Map([...neededShapes(config), ...extra]), external: (loc) => external.get(loc)!, warn, mapName: canonicalName });
    addMissingTokenTypes(family, config, checkpoint);
    checkFinite(checkpoint, () => file);
    return { checkpoint, files: [path, ...external.keys()].map((p, i) => (i === 0 ? p : dir + p)) };
  }

  let hint = '';
  if (source.location && !/^[a-z]+:\/\//i.test(source.location) && (await files.source.read('pytorch_model.bin').catch(() => undefined))) {
    hint = ' (pytorch_model.bin is a pickle, which dualbert does not read: convert it to safetensors)';
  }
  throw new DualbertError(
    'MISSING_FILE',
    `${source.location}: no weights: no ${candidates.join(', no ')}, no model.safetensors.index.json and no model.safetensors${hint}`,
  );
}

/** The weights of the Dense modules, as `<module path>.linear.weight` / `.bias`. */
async function readDenseWeights(files: FileReader, dense: readonly DenseModule[]): Promise<WeightsResult> {
  const checkpoint = new Map<string, Tensor>();
  const read: string[] = [];
  for (const d of dense) {
    const path = `${d.path}/model.safetensors`;
    const wanted = new Set(['linear.weight', ...(d.bias ? ['linear.bias'] : [])]);
    const file = where(files.source, path);
    const tensors = await files.parsed(path, (bytes) => readSafetensors(bytes, { file, rename: (n) => (wanted.has(n) ? `${d.path}.${n}` : undefined) }));
    if (!tensors) {
      const bin = await files.source.read(`${d.path}/pytorch_model.bin`).catch(() => undefined);
      throw new DualbertError(
        'MISSING_FILE',
        `${where(files.source, path)} is missing` +
          (bin ? ` (the Dense module has only pytorch_model.bin, a pickle, which dualbert does not read: convert it to safetensors)` : ''),
      );
    }
    for (const [k, v] of tensors) checkpoint.set(k, v);
    const shapes = new Map([[`${d.name}.weight`, [d.outFeatures, d.inFeatures]]]);
    if (d.bias) shapes.set(`${d.name}.bias`, [d.outFeatures]);
    checkTensors(checkpoint, shapes, () => file);
    checkFinite(checkpoint, () => file);
    read.push(path);
  }
  return { checkpoint, files: read };
}

/** A model without its weights: enough to tokenize as the model does. */
export type ModelMeta = Omit<LoadedModel, 'checkpoint' | 'weightFiles'>;

interface MetaAndWeights {
  meta: ModelMeta;
  /** Reads the checkpoint tensors the graph needs (the expensive part). */
  readWeights(): Promise<WeightsResult>;
}

/** What a model is loaded for: sentence embeddings, or scoring pairs with its classification head. */
type ModelTask = 'embedding' | 'sequence-classification';

async function openModel(spec: string | ModelSource, options: LoadOptions, task: ModelTask = 'embedding'): Promise<MetaAndWeights> {
  if (typeof spec !== 'string' && (typeof spec !== 'object' || spec === null || typeof (spec as ModelSource).read !== 'function')) {
    throw new DualbertError('INVALID_ARGUMENT', 'model must be a string (hub id, URL, directory, synthetic:name) or a ModelSource');
  }
  if (typeof spec === 'string' && spec.trim() === '') {
    // '' would otherwise be read as the current directory.
    throw new DualbertError('INVALID_ARGUMENT', 'model is an empty string: pass a hub id, URL, directory or synthetic:name');
  }
  checkRequestOptions(options);
  options.signal?.throwIfAborted();
  const resolved = typeof spec === 'string' ? await resolveSource(spec, options) : spec;
  const name = typeof spec === 'string' ? spec : spec.location;
  const progress = options.progress_callback;

  if ('synthetic' in resolved) {
    const { config, maxSeqLength } = SYNTHETIC_MODELS[resolved.synthetic];
    const tokenizer = await readTokenizer(new FileReader(bundledTokenizerSource(), name, progress), undefined);
    // As a cross-encoder: the same encoder with the recipe's pooler and a one-label classifier,
    // 512 tokens (ms-marco-MiniLM-L-6-v2's shapes and settings; test/fixtures/rerank).
    const classifier: CrossEncoderSettings | undefined =
      task === 'sequence-classification' ? { head: { ...CLASSIFIER_HEADS.bert, numLabels: 1 }, labels: ['LABEL_0'], activation: 'sigmoid', tokenTypes: true } : undefined;
    const head = classifier ? classifierTensorShapes(config.hiddenSize, classifier.head) : new Map<string, number[]>();
    return {
      meta: {
        name,
        config,
        tokenizer,
        defaults: {
          pooling: 'mean',
          normalize: true,
          dense: [],
          maxLength: classifier ? config.maxPositions : Math.min(maxSeqLength, config.maxPositions),
          lowercaseInput: false,
          prompts: {},
          defaultPromptName: undefined,
          includePrompt: true,
          truncateDim: undefined,
          similarityFnName: 'cosine',
        },
        ...(classifier ? { classifier } : {}),
      },
      readWeights: async () => {
        const checkpoint = new Map(syntheticCheckpoint(config, new Set([...neededTensors(config), ...head.keys()])));
        for (const [n, shape] of head) if (!checkpoint.has(n)) checkpoint.set(n, syntheticTensor(n, shape));
        return { checkpoint, files: [] };
      },
    };
  }

  const source = resolved;
  const files = new FileReader(source, name, progress, options);
  const configFile = where(source, 'config.json');
  const parsedConfig = await files.parsed('config.json', (bytes) => {
    const text = utf8(bytes);
    // parseBertConfig first: it turns text that is not JSON into INVALID_CONFIG naming the file.
    const config = inFile(configFile, () => parseBertConfig(text));
    const json: unknown = JSON.parse(text);
    return { config, family: modelFamily(json), json };
  });
  if (!parsedConfig) {
    throw new DualbertError('MODEL_NOT_FOUND', `${source.location}: no config.json (is this a Hugging Face model directory?)`);
  }
  const { config, family } = parsedConfig;
  const tokenizer = await readTokenizer(files, config);
  const st = await readSentenceTransformersSettings(source, (path) => files.json(path));
  const maxLength = Math.min(st.maxSeqLength ?? tokenizer.modelMaxLength ?? maxSequenceLength(config), maxSequenceLength(config));
  let classifier: CrossEncoderSettings | undefined;
  if (task === 'sequence-classification') {
    const tokenizerConfig = await files.json('tokenizer_config.json');
    classifier = inFile(configFile, () => readCrossEncoderSettings(parsedConfig.json, family, { activationFn: st.activationFn, tokenizerConfig, warn: options.warn }));
  } else if (st.modelType === 'CrossEncoder') {
    throw new DualbertError('INVALID_ARGUMENT', `${where(source, 'config_sentence_transformers.json')}: this is a cross-encoder (model_type "CrossEncoder"), which scores pairs of texts: load it with createReranker`);
  }
  const head = classifier ? classifierTensorShapes(config.hiddenSize, classifier.head) : new Map<string, number[]>();

  const readWeights = async (): Promise<WeightsResult> => {
    const encoder = await readEncoderWeights(files, config, family, options, head);
    if (st.dense.length === 0) return encoder;
    const dense = await readDenseWeights(files, st.dense);
    for (const [k, v] of dense.checkpoint) encoder.checkpoint.set(k, v);
    return { checkpoint: encoder.checkpoint, files: [...encoder.files, ...dense.files] };
  };
  return {
    meta: {
      name,
      config,
      tokenizer,
      defaults: {
        pooling: st.pooling,
        normalize: st.normalize,
        dense: st.dense,
        maxLength,
        lowercaseInput: st.lowercaseInput,
        prompts: st.prompts,
        defaultPromptName: st.defaultPromptName,
        includePrompt: st.includePrompt,
        truncateDim: st.truncateDim,
        similarityFnName: st.similarityFnName,
      },
      ...(classifier ? { classifier } : {}),
    },
    readWeights,
  };
}

/** Loads a model's config, tokenizer and defaults, without its weights. */
export async function loadModelMeta(spec: string | ModelSource, options: LoadOptions = {}): Promise<ModelMeta> {
  return (await openModel(spec, options)).meta;
}

/**
 * Loads a model from a spec string or a {@link ModelSource}.
 * @example
 * const model = await loadModel('hf:sentence-transformers/all-MiniLM-L6-v2', { progress_callback: console.log });
 */
export async function loadModel(spec: string | ModelSource, options: LoadOptions = {}): Promise<LoadedModel> {
  const { meta, readWeights } = await openModel(spec, options);
  const { checkpoint, files } = await readWeights();
  options.progress_callback?.({ status: 'ready', name: meta.name, model: meta.name });
  return { ...meta, checkpoint, weightFiles: files };
}

/**
 * Loads a cross-encoder (a `*ForSequenceClassification` model, e.g. one saved by
 * sentence-transformers' CrossEncoder): the encoder, its classification head and its scoring
 * settings (`classifier`). `synthetic:tiny` / `synthetic:minilm` load as cross-encoders with the
 * recipe's pooler and a one-label classifier.
 * @example
 * const model = await loadCrossEncoderModel('hf:cross-encoder/ms-marco-MiniLM-L6-v2');
 * console.log(model.classifier?.head.numLabels, model.classifier?.activation);   // 1 'sigmoid'
 */
export async function loadCrossEncoderModel(spec: string | ModelSource, options: LoadOptions = {}): Promise<LoadedModel & { classifier: CrossEncoderSettings }> {
  const { meta, readWeights } = await openModel(spec, options, 'sequence-classification');
  const { checkpoint, files } = await readWeights();
  options.progress_callback?.({ status: 'ready', name: meta.name, model: meta.name });
  return { ...meta, checkpoint, weightFiles: files, classifier: meta.classifier! };
}

/**
 * What tokenizing as a model does needs: its tokenizer, max length and input lowercasing.
 * @example const { tokenizer, maxLength } = await loadModelTokenizer('./my-xlmr-model');
 */
export interface ModelTokenizer {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  /** The token limit sentence-transformers applies (special tokens included), if the files give one. */
  readonly maxLength: number | undefined;
  /** Lowercase texts before tokenizing (sentence_bert_config `do_lower_case`). */
  readonly lowercaseInput: boolean;
}

/**
 * Loads only what tokenizing needs, for any model family: unlike {@link loadModelMeta} it reads
 * no weights and does not require an architecture dualbert can run (config.json only gives
 * `max_position_embeddings`, the cap of the max length).
 * @example
 * const { tokenizer, maxLength } = await loadModelTokenizer('./xlm-roberta-model');
 * tokenizer.encode('Hallo Welt', { maxLength }).ids;
 */
export async function loadModelTokenizer(spec: string | ModelSource, options: LoadOptions = {}): Promise<ModelTokenizer> {
  const resolved = typeof spec === 'string' && !spec.startsWith('synthetic:') && spec.trim() !== '' ? await resolveSource(spec, options) : spec;
  if (typeof resolved === 'string' || 'synthetic' in resolved) {
    const meta = await loadModelMeta(spec, options);
    return { name: meta.name, tokenizer: meta.tokenizer, maxLength: meta.defaults.maxLength, lowercaseInput: meta.defaults.lowercaseInput };
  }
  const name = typeof spec === 'string' ? spec : spec.location;
  const files = new FileReader(resolved, name, options.progress_callback, options);
  const config = (await files.json('config.json')) as Record<string, unknown> | undefined;
  const positions = config?.['max_position_embeddings'];
  let maxPositions = typeof positions === 'number' && Number.isInteger(positions) && positions > 0 ? positions : undefined;
  try {
    // A family dualbert runs: its positions past the offset (RoBERTa: max_position_embeddings − 2).
    if (config) maxPositions = maxSequenceLength(parseBertConfig(config));
  } catch {
    // Any other architecture: max_position_embeddings as it is.
  }
  const tokenizer = await readTokenizer(files, undefined);
  const st = await readSentenceTransformersSettings(resolved, (path) => files.json(path));
  const wanted = st.maxSeqLength ?? tokenizer.modelMaxLength ?? maxPositions;
  const maxLength = wanted === undefined ? undefined : Math.min(wanted, maxPositions ?? wanted);
  return { name, tokenizer, maxLength, lowercaseInput: st.lowercaseInput };
}
