// The node's ranking of gateways and its rule for moving early (sans-IO).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayTable } from '../../src/radio/link/gateway-table.ts';

const OPTIONS = { samples: 4, minSamples: 2, hysteresisDb: 6, minDwellMs: 1000, maxMisses: 2 };

test('ranked by mean RSSI; failed last; missed searches below answered ones; forgotten after maxMisses', () => {
  const table = new GatewayTable(OPTIONS);
  table.heard(1, -70, 0, 0);
  table.heard(2, -60, 0, 3);
  table.heard(3, -60, 0, 1);
  assert.deepEqual(
    table.ranked().map((g) => g.address),
    [3, 2, 1],
    'equal RSSI: fewer nodes first',
  );
  table.failed(3);
  assert.deepEqual(
    table.ranked().map((g) => g.address),
    [2, 1, 3],
  );
  table.searching();
  table.heard(1, -70, 10, 0);
  table.searched(undefined);
  assert.deepEqual(
    table.ranked().map((g) => g.address),
    [1, 2, 3],
    'the ones that missed the search go below',
  );
  table.searching();
  table.heard(1, -70, 20, 0);
  table.searched(undefined);
  assert.deepEqual(
    table.ranked().map((g) => g.address),
    [1],
    'two misses: forgotten',
  );
});

test('moves early only past the hysteresis, on enough samples, and not within the dwell time', () => {
  const table = new GatewayTable(OPTIONS);
  table.moved(0);
  for (const rssi of [-80, -80]) table.heard(1, rssi, 0);
  table.heard(2, -60, 0, 0);
  assert.equal(table.betterThan(1, 2000), undefined, 'one sample is not enough');
  table.heard(2, -60, 0, 0);
  assert.equal(table.betterThan(1, 500), undefined, 'within the dwell time');
  assert.equal(table.betterThan(1, 2000)?.address, 2);
  const similar = new GatewayTable(OPTIONS);
  for (const rssi of [-70, -75, -72, -71]) similar.heard(1, rssi, 0);
  for (const rssi of [-66, -69, -67, -65]) similar.heard(2, rssi, 0, 0);
  assert.equal(similar.betterThan(1, 5000), undefined, '4.5 dB better is within the hysteresis');
});
