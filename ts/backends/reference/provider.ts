/** The reference device's provider (see ../registry.ts): always available, slow, exact. */
import type { BackendProvider } from '../types.js';

export const referenceProvider: BackendProvider = {
  device: 'reference',
  async create(weights) {
    const { ReferenceBackend } = await import('./reference-backend.js');
    return new ReferenceBackend(weights);
  },
};
