/**
 * Post-processors: wrap the model's tokens in special tokens ([CLS] A [SEP] B [SEP]) and assign
 * type ids, as `TemplateProcessing` and `BertProcessing` do in Hugging Face `tokenizers`.
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
 * @example const p: PostProcessor = new BertProcessing(['[CLS]', 101], ['[SEP]', 102]); p.process(seq, null, true).ids // [101, ...seq.ids, 102]
 */
export interface PostProcessor {
  /** How many tokens {@link process} adds for a single sequence or a pair. */
  addedTokens(isPair: boolean): number;
  /**
   * Combines the sequences. Without special tokens the sequences are only concatenated (and,
   * for templates, given the template's type ids, as in the Rust implementation).
   */
  process(a: TokenSequence, b: TokenSequence | null, addSpecialTokens: boolean): TokenSequence;
  /** Ids of the first special token before and after sequence A in the single template. */
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
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

  process(a: TokenSequence, b: TokenSequence | null, addSpecialTokens: boolean): TokenSequence {
    if (!addSpecialTokens) return concatenate(a, b);
    const [clsToken, clsId] = this.cls;
    const [sepToken, sepId] = this.sep;
    const out: TokenSequence = {
      ids: [clsId, ...a.ids, sepId],
      tokens: [clsToken, ...a.tokens, sepToken],
      typeIds: [0, ...a.ids.map(() => 0), 0],
    };
    if (b !== null) {
      // Loops, not push(...b.ids): spreading a very long sequence overflows the argument limit.
      for (let i = 0; i < b.ids.length; i++) {
        out.ids.push(b.ids[i]!);
        out.tokens.push(b.tokens[i]!);
        out.typeIds.push(1);
      }
      out.ids.push(sepId);
      out.tokens.push(sepToken);
      out.typeIds.push(1);
    }
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
