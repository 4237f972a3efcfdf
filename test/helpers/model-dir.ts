/** Writes a Hugging Face / sentence-transformers model directory with synthetic weights, for loader and CLI tests. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolingMode } from '../../ts/graph/ops.js';
import type { Tensor } from '../../ts/graph/weights.js';
import { writeSafetensors } from '../../ts/model/safetensors.js';
import { SYNTHETIC_MODELS, bertTensorShapes, syntheticTensor } from '../../ts/model/synthetic.js';

const FIXTURE_TOKENIZER = new URL('../fixtures/all-MiniLM-L6-v2/', import.meta.url);

export interface ModelDirOptions {
  /** Tokenizer files: tokenizer.json, or vocab.txt + tokenizer_config.json. Default 'json'. */
  tokenizer?: 'json' | 'vocab';
  /** Write sentence-transformers files (modules.json, mean pooling, Normalize, max_seq_length 128). Default true. */
  sentenceTransformers?: boolean;
  /** Prefix every tensor name with "bert." (as BertFor* checkpoints do). Default true. */
  bertPrefix?: boolean;
  /** Overrides merged into config.json. */
  config?: Record<string, unknown>;
  /** Skip writing model.safetensors. */
  noWeights?: boolean;
  /** Write the weights as this many safetensors shards with model.safetensors.index.json instead of one file. */
  shards?: number;
  /** The Pooling module's mode (default mean). */
  pooling?: PoolingMode;
  /** Add a Dense module (2_Dense) after pooling, with the given weights (PyTorch layout [out, in]). */
  dense?: { weight: Tensor; bias?: Tensor; activation?: string };
  /** Add the Normalize module (default true). */
  normalize?: boolean;
  /** config_sentence_transformers.json prompts, and its default_prompt_name. */
  prompts?: Record<string, string>;
  defaultPromptName?: string;
  /** sentence_bert_config.json do_lower_case (default false). */
  doLowerCase?: boolean;
}

/** The synthetic tiny model as a model directory; returns its path. */
export function writeTinyModelDir(options: ModelDirOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'dualbert-model-'));
  const c = SYNTHETIC_MODELS.tiny.config;
  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocabSize,
    layer_norm_eps: c.layerNormEps,
    hidden_act: 'gelu',
    position_embedding_type: 'absolute',
    pad_token_id: 0,
    ...options.config,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));

  if (!options.noWeights) {
    const prefix = options.bertPrefix === false ? '' : 'bert.';
    const tensors = new Map([...bertTensorShapes(c)].map(([name, shape]) => [prefix + name, syntheticTensor(name, shape)]));
    // A tensor no embedding graph reads (a masked-LM head): must be ignored, not rejected.
    tensors.set('cls.predictions.bias', { shape: [4], data: new Float32Array(4) });
    if (options.shards && options.shards > 1) {
      const names = [...tensors.keys()];
      const per = Math.ceil(names.length / options.shards);
      const weightMap: Record<string, string> = {};
      for (let i = 0; i < options.shards; i++) {
        const file = `model-${String(i + 1).padStart(5, '0')}-of-${String(options.shards).padStart(5, '0')}.safetensors`;
        const part = new Map(names.slice(i * per, (i + 1) * per).map((n) => [n, tensors.get(n)!]));
        for (const n of part.keys()) weightMap[n] = file;
        writeFileSync(join(dir, file), writeSafetensors(part, { format: 'pt' }));
      }
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
    } else {
      writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
    }
  }

  const files = options.tokenizer === 'vocab' ? ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'] : ['tokenizer.json'];
  for (const f of files) copyFileSync(new URL(f, FIXTURE_TOKENIZER), join(dir, f));

  if (options.sentenceTransformers !== false) {
    const modules: { idx: number; name: string; path: string; type: string }[] = [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ];
    if (options.dense) {
      const { weight, bias, activation } = options.dense;
      modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
      mkdirSync(join(dir, '2_Dense'));
      writeFileSync(
        join(dir, '2_Dense', 'config.json'),
        JSON.stringify({ in_features: weight.shape[1], out_features: weight.shape[0], bias: !!bias, activation_function: activation ?? 'torch.nn.modules.activation.Tanh' }),
      );
      const t = new Map([['linear.weight', weight]]);
      if (bias) t.set('linear.bias', bias);
      writeFileSync(join(dir, '2_Dense', 'model.safetensors'), writeSafetensors(t, { format: 'pt' }));
    }
    if (options.normalize !== false) {
      modules.push({ idx: modules.length, name: String(modules.length), path: `${modules.length}_Normalize`, type: 'sentence_transformers.models.Normalize' });
    }
    writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
    mkdirSync(join(dir, '1_Pooling'));
    const mode = options.pooling ?? 'mean';
    const keys: Record<PoolingMode, string> = {
      cls: 'pooling_mode_cls_token',
      mean: 'pooling_mode_mean_tokens',
      max: 'pooling_mode_max_tokens',
      mean_sqrt_len: 'pooling_mode_mean_sqrt_len_tokens',
      weightedmean: 'pooling_mode_weightedmean_tokens',
      lasttoken: 'pooling_mode_lasttoken',
    };
    const pooling: Record<string, unknown> = { word_embedding_dimension: c.hiddenSize };
    for (const [m, key] of Object.entries(keys)) pooling[key] = m === mode;
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify(pooling));
    writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 128, do_lower_case: options.doLowerCase ?? false }));
    if (options.prompts) {
      writeFileSync(
        join(dir, 'config_sentence_transformers.json'),
        JSON.stringify({ prompts: options.prompts, default_prompt_name: options.defaultPromptName ?? null, similarity_fn_name: 'cosine' }),
      );
    }
  }
  return dir;
}
