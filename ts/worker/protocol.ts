/**
 * Messages between the page (WorkerEmbedder) and the worker (worker-main.ts). Everything here is
 * structured-cloneable; embeddings travel as transferred buffers (no copy).
 */
import type { BackendStats, BackendWarning, Device } from '../backends/types.js';
import type { AnyEmbeddingResult, AnyEmbedOptions, EmbedderOptions } from '../types.js';
import type { ModelDefaults, ProgressEvent } from '../model/load.js';

/** Embedder options that can cross a thread boundary (callbacks are forwarded as messages). */
export type WorkerEmbedderOptions = Omit<EmbedderOptions, 'progress_callback' | 'onWarning'>;

export type WorkerRequest =
  | { id: number; type: 'create'; model: string; options: WorkerEmbedderOptions }
  | { id: number; type: 'embed'; texts: string[]; options: AnyEmbedOptions }
  | { id: number; type: 'stats' }
  | { id: number; type: 'dispose' };

export type WorkerResponse =
  | { id: number; type: 'created'; device: Device; threads: number; dimension: number; defaults: ModelDefaults }
  | { id: number; type: 'embedded'; result: AnyEmbeddingResult; device: Device }
  | { id: number; type: 'stats'; stats: BackendStats }
  | { id: number; type: 'progress'; event: ProgressEvent }
  | { id: number; type: 'warning'; warning: BackendWarning }
  | { id: number; type: 'disposed' }
  | { id: number; type: 'error'; error: { name: string; code?: string; message: string } };
