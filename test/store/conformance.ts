/**
 * The cases every SessionStore must pass (STYLE.md 8): each store's test
 * runs them with a factory. `reopen` hands back the store as a restarted
 * process would see it: the same instance for MemoryStore, a new instance
 * on the same file (after close) for FileStore.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { SessionStore, StoredOutbound } from '../../src/session/store.ts';
import type { OutboundMessage, OutboundState } from '../../src/session/types.ts';

export interface StoreFactory {
  /** A new, empty store. */
  create(): SessionStore;
  /** The store as the next process would open it; `store` is not used after this. */
  reopen(store: SessionStore): SessionStore;
}

export function message(n: number, overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    topic: `devices/${n}/telemetry`,
    payload: new Uint8Array([n & 0xff, (n >> 8) & 0xff, 0, 255]),
    qos: n % 2 === 0 ? 2 : 1,
    retain: n % 3 === 0,
    ...overrides,
  };
}

export function record(
  key: number,
  packetId = 0,
  state: OutboundState = 'queued',
  msg: OutboundMessage = message(key),
): StoredOutbound {
  return { key, message: msg, packetId, state };
}

/** A fresh object each time: stores must not rely on holding the caller's record. */
function copy(r: StoredOutbound, packetId: number, state: OutboundState): StoredOutbound {
  return { key: r.key, message: r.message, packetId, state };
}

export function runStoreConformance(name: string, factory: StoreFactory): void {
  describe(`${name}: SessionStore conformance`, () => {
    let open: SessionStore[] = [];
    const create = () => {
      const store = factory.create();
      open.push(store);
      return store;
    };
    const reopen = (store: SessionStore) => {
      const next = factory.reopen(store);
      open.push(next);
      return next;
    };
    afterEach(() => {
      for (const store of open) store.close();
      open = [];
    });

    it('starts empty', () => {
      const store = create();
      assert.deepEqual(store.load(), { outbound: [], inbound: [] });
      assert.deepEqual(reopen(store).load(), { outbound: [], inbound: [] });
    });

    it('gives outbound records back in key order, with their messages', () => {
      const store = create();
      for (const key of [5, 1, 3, 2, 4]) store.addOutbound(record(key));
      const loaded = store.load();
      assert.deepEqual(
        loaded.outbound.map((r) => r.key),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(loaded.outbound[2], record(3));
      assert.deepEqual(reopen(store).load(), loaded);
    });

    it('keeps the latest packet id and state of each record', () => {
      const store = create();
      const a = record(1);
      const b = record(2);
      store.addOutbound(a);
      store.addOutbound(b);
      store.updateOutbound(copy(a, 17, 'sent'));
      store.updateOutbound(copy(b, 18, 'sent'));
      store.updateOutbound(copy(b, 18, 'received'));
      store.sync();
      const expected = [record(1, 17, 'sent'), record(2, 18, 'received')];
      assert.deepEqual(store.load().outbound, expected);
      assert.deepEqual(reopen(store).load().outbound, expected);
    });

    it('forgets removed records and ignores removing one it does not hold', () => {
      const store = create();
      for (let key = 1; key <= 4; key++) store.addOutbound(record(key));
      store.removeOutbound(record(2));
      store.removeOutbound(record(4, 9, 'sent'));
      store.removeOutbound(record(99));
      assert.deepEqual(
        store.load().outbound.map((r) => r.key),
        [1, 3],
      );
      const again = reopen(store);
      assert.deepEqual(
        again.load().outbound.map((r) => r.key),
        [1, 3],
      );
      again.addOutbound(record(5));
      assert.deepEqual(
        again.load().outbound.map((r) => r.key),
        [1, 3, 5],
      );
    });

    it('adding a key again replaces the record; updating one never added stores it', () => {
      const store = create();
      store.addOutbound(record(1));
      store.addOutbound(record(1, 3, 'sent', message(1, { topic: 'replaced' })));
      store.updateOutbound(record(2, 4, 'sent'));
      const expected = [record(1, 3, 'sent', message(1, { topic: 'replaced' })), record(2, 4, 'sent')];
      assert.deepEqual(store.load().outbound, expected);
      assert.deepEqual(reopen(store).load().outbound, expected);
    });

    it('keeps inbound QoS 2 ids with their state, in the order first seen', () => {
      const store = create();
      store.setInbound(7, 'delivered');
      store.setInbound(3, 'delivered');
      store.setInbound(9, 'delivered');
      store.setInbound(7, 'acked');
      store.removeInbound(3);
      store.removeInbound(1000);
      const expected = {
        outbound: [],
        inbound: [
          [7, 'acked'],
          [9, 'delivered'],
        ],
      };
      assert.deepEqual(store.load(), expected);
      assert.deepEqual(reopen(store).load(), expected);
    });

    it('clears inbound ids and keeps outbound records', () => {
      const store = create();
      store.addOutbound(record(1, 1, 'sent'));
      store.setInbound(1, 'delivered');
      store.setInbound(65535, 'acked');
      store.clearInbound();
      store.setInbound(2, 'delivered');
      const expected = { outbound: [record(1, 1, 'sent')], inbound: [[2, 'delivered']] };
      assert.deepEqual(store.load(), expected);
      assert.deepEqual(reopen(store).load(), expected);
    });

    it('round-trips MQTT 5 properties and every kind of payload', () => {
      const store = create();
      const props = message(1, {
        payload: new Uint8Array(0),
        properties: {
          payloadFormatIndicator: true,
          messageExpiryInterval: 3600,
          contentType: 'application/json',
          responseTopic: 'replies/1',
          correlationData: new Uint8Array([0, 1, 2, 0xff]),
          userProperties: { a: '1', b: ['x', 'y'], ünï: 'cødé' },
        },
      });
      const binary = message(2, { payload: Uint8Array.from({ length: 256 }, (_, i) => i), qos: 2 });
      const unicode = message(3, { topic: 'höme/🌡/temp', payload: new TextEncoder().encode('ok') });
      store.addOutbound(record(1, 0, 'queued', props));
      store.addOutbound(record(2, 65535, 'received', binary));
      store.addOutbound(record(3, 1, 'sent', unicode));
      const expected = [
        record(1, 0, 'queued', props),
        record(2, 65535, 'received', binary),
        record(3, 1, 'sent', unicode),
      ];
      assert.deepEqual(store.load().outbound, expected);
      assert.deepEqual(reopen(store).load().outbound, expected);
    });

    it('loads the same thing twice, and sync and close are safe to repeat', () => {
      const store = create();
      store.addOutbound(record(1));
      store.setInbound(4, 'acked');
      store.sync();
      store.sync();
      assert.deepEqual(store.load(), store.load());
      const again = reopen(store);
      again.sync();
      assert.deepEqual(again.load(), { outbound: [record(1)], inbound: [[4, 'acked']] });
      again.close();
      again.close();
    });

    it('survives many changes and reopenings', () => {
      let store = create();
      const model = new Map<number, StoredOutbound>();
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 200; i++) {
          const key = round * 200 + i + 1;
          const r = record(key);
          store.addOutbound(r);
          model.set(key, r);
          if (i % 3 === 0) {
            const sent = copy(r, (key % 65535) + 1, 'sent');
            store.updateOutbound(sent);
            model.set(key, sent);
          }
          if (i % 4 === 1) {
            store.removeOutbound(r);
            model.delete(key);
          }
        }
        store.sync();
        store = reopen(store);
        const expected = [...model.values()].sort((a, b) => a.key - b.key);
        assert.deepEqual(store.load().outbound, expected);
      }
    });
  });
}
