/**
 * The encoder families, each described once as data: where its tensors are in a transformers
 * checkpoint and how its layers are put together. The one builder (bert.ts) turns a description
 * and a config into the graph; nothing here computes.
 *
 *   family      block      attention                      MLP                    positions
 *   bert        post-norm  Q, K, V (+ bias)               Linear, erf GELU       absolute from 0
 *   roberta     post-norm  as BERT                        as BERT                absolute from padding_idx + 1
 *   mpnet       post-norm  as BERT + relative bias        as BERT                absolute from 2, bucketed bias
 *   modernbert  pre-norm   fused Wqkv, sliding windows    GeGLU (Wi = [in; gate]) RoPE (global / local θ)
 *   nomic_bert  post-norm  fused Wqkv, no biases          SwiGLU, no biases      RoPE
 *
 * (DistilBERT is loaded onto the BERT layout by renaming its tensors: ts/model/config.ts;
 * XLM-RoBERTa is the RoBERTa layout.)
 */
import type { BertConfig, EncoderFamily } from './config.js';
import type { GraphNode } from './ops.js';

/** The checkpoint names (prefixes of `.weight` / `.bias`) of one encoder layer. */
export interface LayerNames {
  /** Q, K and V: one fused Linear [3C, C] (ModernBERT's Wqkv), or three Linears [C, C]. */
  readonly qkv: string | readonly [string, string, string];
  /** The attention output projection. */
  readonly attnOut: string;
  /** The attention block's LayerNorm: after the residual (post-norm), before attention (pre-norm; none on ModernBERT's layer 0). */
  readonly attnNorm?: string;
  /**
   * The MLP's up projection: [I, C] for a plain MLP; for a gated one, [2I, C] with the activated
   * half first (ModernBERT's Wi), or the gate and up Linears to be stacked (NomicBERT).
   */
  readonly up: string | readonly [string, string];
  readonly down: string;
  /** The MLP block's LayerNorm (after the residual, or before the MLP in pre-norm). */
  readonly mlpNorm: string;
}

/** One family's checkpoint layout and block structure. */
export interface FamilyLayout {
  readonly family: EncoderFamily;
  /** Post-norm: x = LN(x + f(x)) (BERT). Pre-norm: x = x + f(LN(x)), with a final LN (ModernBERT). */
  readonly block: 'post-norm' | 'pre-norm';
  /** A plain MLP with the linear epilogue's GELU, or a gated one (glu node). */
  readonly mlp: 'plain' | 'gated';
  readonly embeddings: {
    readonly word: string;
    /** Absent for rotary families. */
    readonly position?: string;
    /** Absent for families without segments. */
    readonly tokenType?: string;
    readonly norm: string;
  };
  readonly layer: (l: number) => LayerNames;
  /** Pre-norm families: the LayerNorm after the last layer. */
  readonly finalNorm?: string;
  /** MPNet: the bucket table of the relative position bias, [buckets, NH]. */
  readonly relativeBias?: string;
  /**
   * The Linears of layer l in the order an exported graph computes them, when it differs from
   * the checkpoint's modules (NomicBERT computes q, k, v, o, gate, up, down in memory and saves
   * Wqkv, out_proj, fc12, fc11, fc2); `name#i/n` is row block i of n of a fused tensor. Used for
   * ONNX exports whose weights carry no names.
   */
  readonly exportedLinears?: (l: number) => string[];
  /** Prefixes that task-head checkpoints put before the encoder's names (stripped at load). */
  readonly prefixes: readonly string[];
  /**
   * Other names of the same tensors, renamed at load: NomicBERT's in-memory module names (which
   * ONNX exports keep) onto the names transformers saves.
   */
  readonly aliases?: readonly (readonly [RegExp, string])[];
  /** Which parts have biases (a missing bias is a zero vector made at load). */
  readonly biases: (config: BertConfig) => { attention: boolean; mlp: boolean; norm: boolean };
}

const bertLayer = (l: number): LayerNames => {
  const p = `encoder.layer.${l}`;
  return {
    qkv: [`${p}.attention.self.query`, `${p}.attention.self.key`, `${p}.attention.self.value`],
    attnOut: `${p}.attention.output.dense`,
    attnNorm: `${p}.attention.output.LayerNorm`,
    up: `${p}.intermediate.dense`,
    down: `${p}.output.dense`,
    mlpNorm: `${p}.output.LayerNorm`,
  };
};

const allBiases = (): { attention: boolean; mlp: boolean; norm: boolean } => ({ attention: true, mlp: true, norm: true });

const BERT_EMBEDDINGS = {
  word: 'embeddings.word_embeddings',
  position: 'embeddings.position_embeddings',
  tokenType: 'embeddings.token_type_embeddings',
  norm: 'embeddings.LayerNorm',
} as const;

/** The layouts by family. */
export const FAMILY_LAYOUTS: Readonly<Record<EncoderFamily, FamilyLayout>> = {
  bert: { family: 'bert', block: 'post-norm', mlp: 'plain', embeddings: BERT_EMBEDDINGS, layer: bertLayer, prefixes: ['bert.'], biases: allBiases },
  // RoBERTa and XLM-RoBERTa: BERT's tensors and blocks; positions start at padding_idx + 1 (config).
  roberta: { family: 'roberta', block: 'post-norm', mlp: 'plain', embeddings: BERT_EMBEDDINGS, layer: bertLayer, prefixes: ['roberta.'], biases: allBiases },
  mpnet: {
    family: 'mpnet',
    block: 'post-norm',
    mlp: 'plain',
    embeddings: { word: 'embeddings.word_embeddings', position: 'embeddings.position_embeddings', norm: 'embeddings.LayerNorm' },
    layer: (l) => {
      const p = `encoder.layer.${l}`;
      return {
        qkv: [`${p}.attention.attn.q`, `${p}.attention.attn.k`, `${p}.attention.attn.v`],
        attnOut: `${p}.attention.attn.o`,
        attnNorm: `${p}.attention.LayerNorm`,
        up: `${p}.intermediate.dense`,
        down: `${p}.output.dense`,
        mlpNorm: `${p}.output.LayerNorm`,
      };
    },
    relativeBias: 'encoder.relative_attention_bias.weight',
    prefixes: ['mpnet.'],
    biases: allBiases,
  },
  modernbert: {
    family: 'modernbert',
    block: 'pre-norm',
    mlp: 'gated',
    embeddings: { word: 'embeddings.tok_embeddings', norm: 'embeddings.norm' },
    layer: (l) => {
      const p = `layers.${l}`;
      return {
        qkv: `${p}.attn.Wqkv`,
        attnOut: `${p}.attn.Wo`,
        ...(l > 0 ? { attnNorm: `${p}.attn_norm` } : {}),
        up: `${p}.mlp.Wi`,
        down: `${p}.mlp.Wo`,
        mlpNorm: `${p}.mlp_norm`,
      };
    },
    finalNorm: 'final_norm',
    prefixes: ['model.'],
    biases: (c) => ({ attention: c.attentionBias ?? false, mlp: c.mlpBias ?? false, norm: c.normBias ?? false }),
  },
  // NomicBERT as transformers (≥ 5) saves it: the layout of Nomic's own checkpoints on the Hub
  // (fused Wqkv, fc11/fc12/fc2, norm1/norm2; transformers converts to q_proj... in memory).
  nomic_bert: {
    family: 'nomic_bert',
    block: 'post-norm',
    mlp: 'gated',
    embeddings: { word: 'embeddings.word_embeddings', tokenType: 'embeddings.token_type_embeddings', norm: 'emb_ln' },
    layer: (l) => {
      const p = `encoder.layers.${l}`;
      return {
        qkv: `${p}.attn.Wqkv`,
        attnOut: `${p}.attn.out_proj`,
        attnNorm: `${p}.norm1`,
        // SwiGLU: fc11(x) · act(fc12(x)), so fc12 (the gate) is the activated, first half.
        up: [`${p}.mlp.fc12`, `${p}.mlp.fc11`],
        down: `${p}.mlp.fc2`,
        mlpNorm: `${p}.norm2`,
      };
    },
    exportedLinears: (l) => {
      const p = `encoder.layers.${l}`;
      return [`${p}.attn.Wqkv#0/3`, `${p}.attn.Wqkv#1/3`, `${p}.attn.Wqkv#2/3`, `${p}.attn.out_proj`, `${p}.mlp.fc12`, `${p}.mlp.fc11`, `${p}.mlp.fc2`];
    },
    prefixes: ['nomic_bert.', 'bert.'],
    aliases: [
      [/^embeddings\.LayerNorm\./, 'emb_ln.'],
      [/^layers\.(\d+)\.post_attention_layernorm\./, 'encoder.layers.$1.norm1.'],
      [/^layers\.(\d+)\.post_mlp_layernorm\./, 'encoder.layers.$1.norm2.'],
      [/^layers\.(\d+)\.self_attn\.o_proj\./, 'encoder.layers.$1.attn.out_proj.'],
      [/^layers\.(\d+)\.mlp\.gate_proj\./, 'encoder.layers.$1.mlp.fc12.'],
      [/^layers\.(\d+)\.mlp\.up_proj\./, 'encoder.layers.$1.mlp.fc11.'],
      [/^layers\.(\d+)\.mlp\.down_proj\./, 'encoder.layers.$1.mlp.fc2.'],
    ],
    biases: (c) => ({ attention: c.attentionBias ?? false, mlp: c.mlpBias ?? false, norm: true }),
  },
};

/** The layout of a config's family (BERT when the config names none). */
export function familyLayout(config: BertConfig): FamilyLayout {
  return FAMILY_LAYOUTS[config.family ?? 'bert'];
}

/** The Linear layers of one layer in forward order (for ONNX exports whose weights carry no names). */
export function layerLinears(layout: FamilyLayout, l: number): string[] {
  const n = layout.layer(l);
  const qkv = typeof n.qkv === 'string' ? [n.qkv] : [...n.qkv];
  const up = typeof n.up === 'string' ? [n.up] : [...n.up];
  return [...qkv, n.attnOut, ...up, n.down];
}

/** The encoder layer index a checkpoint name belongs to (`encoder.layer.3.…`, `layers.3.…`, `encoder.layers.3.…`), if any. */
export function layerIndexOf(name: string): number | undefined {
  const m = /^(?:encoder\.layers?|layers)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * What a graph is made of, for `dualbert info`: the family and the ops it runs (each variant
 * once, in graph order), e.g. "embed: word + position from 2", "attention (sliding window ±64)",
 * "rope (half, θ 160000)", "glu (gelu)".
 * @example describeEncoder(buildBertGraph(config, { pooling: 'mean', normalize: true })).ops
 */
export function describeEncoder(graph: { readonly config: BertConfig; readonly nodes: readonly GraphNode[] }): { family: EncoderFamily; ops: string[] } {
  const thetaOf = (table: string): string => /^rope\[(.*)\]\./.exec(table)?.[1] ?? '?';
  const ops: string[] = [];
  for (const node of graph.nodes) {
    let label: string;
    switch (node.op) {
      case 'embed':
        label = `embed: word${node.position ? ` + position${node.positionOffset ? ` from ${node.positionOffset}` : ''}` : ''}${node.tokenType ? ' + token type' : ''}`;
        break;
      case 'linear':
        label = `linear${node.epilogue === 'gelu' ? ' + gelu' : ''}${node.precision === 'q8' ? ' (q8)' : ''}`;
        break;
      case 'attention':
        label = `attention${node.window !== undefined ? ` (sliding window ±${node.window})` : ''}${node.positionBias ? ' + relative position bias' : ''}`;
        break;
      case 'rope':
        label = `rope (${node.layout}, θ ${thetaOf(node.cos)})`;
        break;
      case 'glu':
        label = `glu (${node.activation})`;
        break;
      case 'pool':
        label = `pool (${node.mode})`;
        break;
      case 'dense':
        label = `dense (${node.activation})`;
        break;
      default:
        label = node.op;
    }
    if (!ops.includes(label)) ops.push(label);
  }
  return { family: graph.config.family ?? 'bert', ops };
}
