/**
 * Post-processors: wrap the model's tokens in special tokens ([CLS] A [SEP] B [SEP]) and assign
 * type ids, as `TemplateProcessing`, `BertProcessing`, `RobertaProcessing`, `ByteLevel` and
 * `Sequence` do in Hugging Face `tokenizers`.
 */

/**
 * Token ids, token strings and type ids of one sequence, in parallel arrays.
 * @example const seq: TokenSequence = { ids: [7592], tokens: ['hello'], typeIds: [0] };
 */
export interface TokenSequence {
  ids: number[];
  tokens: string[];
  typeIds: number[];
}

/**
 * Adds special tokens around one sequence or a pair.
 * @example const p: PostProcessor = new BertProcessing(['[CLS]', 101], ['[SEP]', 102]); postProcess(p, seq, null, true).ids // [101, ...seq.ids, 102]
 */
export interface PostProcessor {
  /** How many tokens processing adds for a single sequence or a pair. */
  addedTokens(isPair: boolean): number;
  /**
   * The reference's `process_encodings`: the sequences (A, then B if any, with type ids 0 and 1)
   * in, a list of sequences out, concatenated afterwards. Without special tokens the sequences
   * keep their tokens (templates still give their type ids, as in the Rust implementation).
   */
  processEncodings(sequences: TokenSequence[], addSpecialTokens: boolean): TokenSequence[];
  /** Ids of the first special token before and after sequence A in the single template. */
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
}

/**
 * Runs a post-processor (or none) over A and optional B: type ids 0 and 1, `processEncodings`,
 * then one concatenated sequence.
 * @example postProcess(new BertProcessing(['[CLS]', 101], ['[SEP]', 102]), a, b, true)
 */
export function postProcess(processor: PostProcessor | null, a: TokenSequence, b: TokenSequence | null, addSpecialTokens: boolean): TokenSequence {
  if (processor === null) return concatenate(a, b);
  const typed = (seq: TokenSequence, typeId: number): TokenSequence => ({ ids: seq.ids, tokens: seq.tokens, typeIds: new Array<number>(seq.ids.length).fill(typeId) });
  const parts = processor.processEncodings(b === null ? [typed(a, 0)] : [typed(a, 0), typed(b, 1)], addSpecialTokens);
  if (parts.length === 1) return parts[0]!;
  const out: TokenSequence = { ids: [], tokens: [], typeIds: [] };
  for (const part of parts) {
    for (let i = 0; i < part.ids.length; i++) {
      out.ids.push(part.ids[i]!);
      out.tokens.push(part.tokens[i]!);
      out.typeIds.push(part.typeIds[i]!);
    }
  }
  return out;
}

/**
 * One piece of a template: a sequence slot or a special token.
 * @example const b: TemplatePiece = { kind: 'sequence', sequence: 'B', typeId: 1 };
 */
export type TemplatePiece =
  | { kind: 'sequence'; sequence: 'A' | 'B'; typeId: number }
  | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number };

/**
 * `TemplateProcessing`: the file's templates, e.g. `[CLS]:0 $A:0 [SEP]:0` and
 * `[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1`.
 * @example
 * const cls: TemplatePiece = { kind: 'special', ids: [101], tokens: ['[CLS]'], typeId: 0 };
 * const sep: TemplatePiece = { kind: 'special', ids: [102], tokens: ['[SEP]'], typeId: 0 };
 * const a: TemplatePiece = { kind: 'sequence', sequence: 'A', typeId: 0 };
 * new TemplateProcessing([cls, a, sep], [cls, a, sep]).addedTokens(false) // 2
 */
export class TemplateProcessing implements PostProcessor {
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;

  constructor(
    readonly single: readonly TemplatePiece[],
    readonly pair: readonly TemplatePiece[],
  ) {
    const slot = single.findIndex((p) => p.kind === 'sequence');
    const before = single.slice(0, Math.max(slot, 0)).find((p) => p.kind === 'special');
    const after = slot < 0 ? undefined : single.slice(slot + 1).find((p) => p.kind === 'special');
    this.clsId = before?.kind === 'special' ? before.ids[0] : undefined;
    this.sepId = after?.kind === 'special' ? after.ids[0] : undefined;
  }

  addedTokens(isPair: boolean): number {
    let n = 0;
    for (const piece of isPair ? this.pair : this.single) if (piece.kind === 'special') n += piece.ids.length;
    return n;
  }

  processEncodings(sequences: TokenSequence[], addSpecialTokens: boolean): TokenSequence[] {
    return [this.process(sequences[0]!, sequences[1] ?? null, addSpecialTokens)];
  }

  /** Applies the single or the pair template. */
  process(a: TokenSequence, b: TokenSequence | null, addSpecialTokens: boolean): TokenSequence {
    const out: TokenSequence = { ids: [], tokens: [], typeIds: [] };
    for (const piece of b === null ? this.single : this.pair) {
      if (piece.kind === 'sequence') {
        const seq = piece.sequence === 'A' ? a : b;
        if (seq === null) continue;
        for (let i = 0; i < seq.ids.length; i++) {
          out.ids.push(seq.ids[i]!);
          out.tokens.push(seq.tokens[i]!);
          out.typeIds.push(piece.typeId);
        }
      } else if (addSpecialTokens) {
        for (let i = 0; i < piece.ids.length; i++) {
          out.ids.push(piece.ids[i]!);
          out.tokens.push(piece.tokens[i]!);
          out.typeIds.push(piece.typeId);
        }
      }
    }
    return out;
  }
}

/**
 * `BertProcessing`: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with type ids 0 for the first
 * part and 1 for `B [SEP]`.
 * @example new BertProcessing(['[CLS]', 101], ['[SEP]', 102]).addedTokens(true) // 3
 */
export class BertProcessing implements PostProcessor {
  readonly clsId: number;
  readonly sepId: number;

  constructor(
    readonly cls: readonly [string, number],
    readonly sep: readonly [string, number],
  ) {
    this.clsId = cls[1];
    this.sepId = sep[1];
  }

  addedTokens(isPair: boolean): number {
    return isPair ? 3 : 2;
  }

  processEncodings(sequences: TokenSequence[], addSpecialTokens: boolean): TokenSequence[] {
    if (!addSpecialTokens) return sequences;
    const [clsToken, clsId] = this.cls;
    const [sepToken, sepId] = this.sep;
    return sequences.map((seq, i) => wrap(seq, i === 0 ? [clsToken, clsId] : undefined, [sepToken, sepId], i === 0 ? 0 : 1));
  }
}

/** `[before] seq after` with one type id for all (loops, not spreads: sequences can be long). */
function wrap(seq: TokenSequence, before: readonly [string, number] | undefined, after: readonly [string, number], typeId: number): TokenSequence {
  const out: TokenSequence = { ids: [], tokens: [], typeIds: [] };
  if (before !== undefined) {
    out.ids.push(before[1]);
    out.tokens.push(before[0]);
  }
  for (let i = 0; i < seq.ids.length; i++) {
    out.ids.push(seq.ids[i]!);
    out.tokens.push(seq.tokens[i]!);
  }
  out.ids.push(after[1]);
  out.tokens.push(after[0]);
  out.typeIds = new Array<number>(out.ids.length).fill(typeId);
  return out;
}

/**
 * `RobertaProcessing`: `<s> A </s>` and `<s> A </s> </s> B </s>`, every type id 0 (also without
 * special tokens).
 * @example new RobertaProcessing(['<s>', 0], ['</s>', 2]).addedTokens(true) // 4
 */
export class RobertaProcessing implements PostProcessor {
  readonly clsId: number;
  readonly sepId: number;

  constructor(
    readonly cls: readonly [string, number],
    readonly sep: readonly [string, number],
  ) {
    this.clsId = cls[1];
    this.sepId = sep[1];
  }

  addedTokens(isPair: boolean): number {
    return isPair ? 4 : 2;
  }

  processEncodings(sequences: TokenSequence[], addSpecialTokens: boolean): TokenSequence[] {
    if (!addSpecialTokens) return sequences.map((seq) => ({ ...seq, typeIds: new Array<number>(seq.ids.length).fill(0) }));
    return sequences.map((seq, i) => wrap(seq, i === 0 ? this.cls : this.sep, this.sep, 0));
  }
}

/**
 * `ByteLevel` as a post-processor: it only trims offsets, which dualbert does not report.
 * @example new ByteLevelProcessing().addedTokens(false) // 0
 */
export class ByteLevelProcessing implements PostProcessor {
  readonly clsId = undefined;
  readonly sepId = undefined;

  addedTokens(): number {
    return 0;
  }

  processEncodings(sequences: TokenSequence[]): TokenSequence[] {
    return sequences;
  }
}

/**
 * `Sequence` of post-processors, each applied to what the previous one returned.
 * @example new SequenceProcessing([new ByteLevelProcessing(), template]).addedTokens(false) // template's count
 */
export class SequenceProcessing implements PostProcessor {
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;

  constructor(readonly parts: readonly PostProcessor[]) {
    this.clsId = parts.find((p) => p.clsId !== undefined)?.clsId;
    this.sepId = parts.find((p) => p.sepId !== undefined)?.sepId;
  }

  addedTokens(isPair: boolean): number {
    return this.parts.reduce((n, p) => n + p.addedTokens(isPair), 0);
  }

  processEncodings(sequences: TokenSequence[], addSpecialTokens: boolean): TokenSequence[] {
    let out = sequences;
    for (const part of this.parts) out = part.processEncodings(out, addSpecialTokens);
    return out;
  }
}

/**
 * Concatenation with the sequences' own type ids (0 for A, 1 for B): what the Rust
 * implementation does without a post-processor or without special tokens.
 * @example concatenate(a, null) // a's ids, tokens and type ids
 */
export function concatenate(a: TokenSequence, b: TokenSequence | null): TokenSequence {
  if (b === null) return { ids: [...a.ids], tokens: [...a.tokens], typeIds: [...a.typeIds] };
  return {
    ids: [...a.ids, ...b.ids],
    tokens: [...a.tokens, ...b.tokens],
    typeIds: [...a.typeIds, ...b.typeIds],
  };
}
