/** MemoryStore against the SessionStore conformance suite. */
import { MemoryStore } from '../../src/session/store.ts';
import { runStoreConformance } from './conformance.ts';

runStoreConformance('MemoryStore', {
  create: () => new MemoryStore(),
  reopen: (store) => store,
});
