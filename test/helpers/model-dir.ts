/** Writes a Hugging Face / sentence-transformers model directory with synthetic weights, for loader and CLI tests. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  }

  const files = options.tokenizer === 'vocab' ? ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'] : ['tokenizer.json'];
  for (const f of files) copyFileSync(new URL(f, FIXTURE_TOKENIZER), join(dir, f));

  if (options.sentenceTransformers !== false) {
    writeFileSync(
      join(dir, 'modules.json'),
      JSON.stringify([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ]),
    );
    mkdirSync(join(dir, '1_Pooling'));
    writeFileSync(
      join(dir, '1_Pooling', 'config.json'),
      JSON.stringify({ word_embedding_dimension: c.hiddenSize, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false }),
    );
    writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: 128, do_lower_case: false }));
  }
  return dir;
}
