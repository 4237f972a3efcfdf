/**
 * The WordLevel model of Hugging Face `tokenizers`: a word is one token, or the unk token.
 */
import { DualbertError } from '../errors.js';
import type { TokenizerModel, WordPieces } from './model.js';

/**
 * A WordLevel model.
 * @example new WordLevel(new Map([['hello', 0], ['[UNK]', 1]]), '[UNK]').tokenizeWord('bye').ids // [1]
 */
export class WordLevel implements TokenizerModel {
  readonly vocabSize: number;
  readonly unkId: number | undefined;
  private readonly tokenOf: string[] = [];

  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    readonly unkToken: string,
  ) {
    this.vocabSize = vocab.size;
    this.unkId = vocab.get(unkToken);
    for (const [token, id] of vocab) this.tokenOf[id] ??= token;
  }

  idToToken(id: number): string | undefined {
    return this.tokenOf[id];
  }

  tokenizeWord(word: string): WordPieces {
    const id = this.vocab.get(word);
    if (id !== undefined) return { ids: [id], tokens: [word] };
    if (this.unkId === undefined) {
      throw new DualbertError('INVALID_TOKENIZER', `WordLevel unk_token ${JSON.stringify(this.unkToken)} is not in the vocabulary`);
    }
    return { ids: [this.unkId], tokens: [this.unkToken] };
  }
}
