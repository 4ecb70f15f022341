/**
 * Airtime, sensitivity and path loss against values computed by hand from the
 * datasheet formulas (the arithmetic is in each test's comment).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import {
  freeSpaceLossDb,
  lora,
  loraSensitivityDbm,
  nrf24,
  pathLossDb,
  profileFromSpec,
  SimulatedMedium,
  uartModem,
} from '../../src/radio/medium/index.ts';
import { bundleForBrowser } from '../helpers/portable.ts';

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);

test('LoRa SF7 / 125 kHz / CR 4/5, preamble 8, explicit header, CRC on', () => {
  const p = lora({ sf: 7, bandwidthHz: 125_000, codingRate: 5 });
  assert.equal((p.spec as { lowDataRateOptimize: boolean }).lowDataRateOptimize, false);
  // Ts = 128 / 125 kHz = 1.024 ms; preamble (8 + 4.25) Ts = 12.544 ms.
  // 10 bytes: ceil((80 - 28 + 28 + 16) / 28) = ceil(3.43) = 4 -> 8 + 4 * 5 = 28 symbols = 28.672 ms -> 41.216 ms.
  close(p.airtimeMs(10), 41.216);
  // 0 bytes: ceil(16 / 28) = 1 -> 13 symbols = 13.312 ms -> 25.856 ms.
  close(p.airtimeMs(0), 25.856);
  // 255 bytes: ceil(2056 / 28) = 74 -> 8 + 370 = 378 symbols = 387.072 ms -> 399.616 ms.
  close(p.airtimeMs(255), 399.616);
  assert.equal(p.mtu, 255);
  assert.equal(p.dutyCycle, 0.01);
});

test('LoRa SF12 / 125 kHz turns the low data rate optimisation on, and it changes the airtime', () => {
  const p = lora({ sf: 12 });
  const ldro = (sf: number) => (lora({ sf }).spec as { lowDataRateOptimize: boolean }).lowDataRateOptimize;
  // Symbol time above 16 ms: SF11 (16.384 ms) and SF12 (32.768 ms) at 125 kHz, not SF10 (8.192 ms).
  assert.deepEqual([ldro(10), ldro(11), ldro(12)], [false, true, true]);
  // Ts = 4096 / 125 kHz = 32.768 ms; preamble 12.25 Ts = 401.408 ms.
  // 10 bytes, DE = 1: ceil((80 - 48 + 28 + 16) / (4 * 10)) = ceil(1.9) = 2 -> 18 symbols = 589.824 ms -> 991.232 ms.
  close(p.airtimeMs(10), 991.232, 1e-6);
  // 51 bytes, DE = 1: ceil(404 / 40) = 11 -> 8 + 55 = 63 symbols = 2064.384 ms -> 2465.792 ms.
  close(p.airtimeMs(51), 2465.792, 1e-6);
  // 51 bytes, DE = 0: ceil(404 / 48) = 9 -> 8 + 45 = 53 symbols = 1736.704 ms -> 2138.112 ms.
  close(lora({ sf: 12, lowDataRateOptimize: false }).airtimeMs(51), 2138.112, 1e-6);
});

test('LoRa coding rate 4/8 and implicit header enter the formula', () => {
  // SF9, 20 bytes, CR 4/8: Ts = 4.096 ms; ceil((160 - 36 + 28 + 16) / 36) = 5 -> 8 + 5 * 8 = 48 symbols = 196.608 ms;
  // preamble 12.25 * 4.096 = 50.176 ms -> 246.784 ms.
  close(lora({ sf: 9, codingRate: 8 }).airtimeMs(20), 246.784, 1e-9);
  // Same with implicit header (IH = 1): ceil((168 - 20) / 36) = 5 -> unchanged here; at 18 bytes:
  // explicit ceil((144 - 36 + 44) / 36) = 5, implicit ceil(132 / 36) = 4 -> 8 symbols (32.768 ms) shorter.
  const explicit = lora({ sf: 9, codingRate: 8 }).airtimeMs(18);
  const implicit = lora({ sf: 9, codingRate: 8, explicitHeader: false }).airtimeMs(18);
  close(explicit - implicit, 32.768, 1e-9);
});

test('nRF24L01+ airtime at 250 kbps, 1 Mbps and 2 Mbps', () => {
  // 32 bytes, 5-byte address, 2-byte CRC: 8 (1 + 5 + 32 + 2) + 9 PCF = 329 bits.
  close(nrf24({ bitrate: 250_000 }).airtimeMs(32), 1.316);
  close(nrf24({ bitrate: 1_000_000 }).airtimeMs(32), 0.329);
  close(nrf24({ bitrate: 2_000_000 }).airtimeMs(32), 0.1645);
  // 1 byte, 3-byte address, 1-byte CRC: 8 (1 + 3 + 1 + 1) + 9 = 57 bits at 1 Mbps.
  close(nrf24({ addressBytes: 3, crcBytes: 1 }).airtimeMs(1), 0.057);
  assert.equal(nrf24().mtu, 32);
  assert.equal(nrf24().dutyCycle, 1);
  assert.equal(nrf24({ bitrate: 250_000 }).sensitivityDbm, -94);
  assert.throws(() => nrf24({ bitrate: 500_000 }), { code: 'INVALID_ARGUMENT' });
});

test('UART modem airtime from packet size and air rate', () => {
  // 64 bytes + 9 overhead at 9600 bit/s: 8 * 73 / 9600 s = 60.8333 ms.
  const p = uartModem({ airRate: 9_600, packetSize: 64 });
  close(p.airtimeMs(64), (8 * 73 * 1000) / 9_600);
  assert.equal(p.mtu, 64);
  assert.equal(uartModem({ packetSize: 58 }).mtu, 58);
});

test('sensitivity and path loss', () => {
  // -174 + 10 log10(125000) + 6 - 7.5 = -124.53 dBm; SF12: -137.03 dBm.
  close(loraSensitivityDbm(7, 125_000), -124.5309, 1e-3);
  close(loraSensitivityDbm(12, 125_000), -137.0309, 1e-3);
  // Free space at 1 m, 868.1 MHz: 20 log10(868.1e6) + 20 log10(4 pi / c) = 178.771 - 147.552 = 31.219 dB.
  close(freeSpaceLossDb(1, 868_100_000), 31.219, 1e-3);
  // Log-distance, n = 2.7: 1 km adds 27 * 3 = 81 dB.
  close(pathLossDb(1000, 868_100_000) - pathLossDb(1, 868_100_000), 81, 1e-9);
  close(pathLossDb(100, 868_100_000, { exponent: 2 }) - freeSpaceLossDb(1, 868_100_000), 40, 1e-9);
});

test('a radio reports wall-clock airtime (modelled / timeScale) and profiles survive their spec', async () => {
  const medium = new SimulatedMedium({ timeScale: 100 });
  const radio = medium.attach();
  close(radio.airtimeMs(10), 0.41216);
  assert.equal(radio.mtu, 255);
  assert.match(radio.name, /lora SF7/);
  const again = profileFromSpec(lora({ sf: 10, codingRate: 6 }).spec);
  close(again.airtimeMs(40), lora({ sf: 10, codingRate: 6 }).airtimeMs(40));
  assert.throws(() => lora({ sf: 13 }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => lora({ dutyCycle: 0 }), { code: 'INVALID_ARGUMENT' });
  await medium.close();
});

/**
 * Each portable radio entry bundled for the browser: a Node built-in anywhere
 * in its import graph fails the build (platform browser); the inputs must be
 * the portable radio files only (not the socket server, not the UART driver).
 */
const PORTABLE_ENTRIES: [entry: string, allowed: RegExp][] = [
  ['src/radio/medium/index.ts', /^src\/radio\/(medium\/[\w-]+|types)\.ts$|^src\/errors\.ts$/],
  // steadfast-mqtt/radio: the medium and the whole link layer (frames, ARQ, endpoint, radioLink).
  [
    'src/radio.ts',
    // …and the one runtime dependency, the audited AES of @noble/ciphers (portable, no Node built-in).
    /^src\/radio\/(medium|link)\/[\w-]+\.ts$|^src\/radio\/types\.ts$|^src\/(radio|errors)\.ts$|^node_modules\/@noble\/ciphers\/[\w.-]+\.js$/,
  ],
];

for (const [entry, allowed] of PORTABLE_ENTRIES) {
  test(`${entry} bundles for the browser with no Node built-in`, async () => {
    const { inputs, code } = await bundleForBrowser(entry);
    assert.deepEqual(
      inputs.filter((path) => !allowed.test(path)),
      [],
    );
    if (entry === 'src/radio.ts') {
      for (const file of [
        'link/stream.ts',
        'link/endpoint.ts',
        'link/open-requests.ts',
        'link/radio-link.ts',
        'medium/medium.ts',
      ])
        assert.ok(inputs.includes(`src/radio/${file}`), `${file} is in the bundle`);
    }
    assert.doesNotMatch(code, /(from|import)\s*\(?\s*["']node:/, 'imports a node: module');
    for (const nodeism of ['require(', 'process.']) {
      assert.ok(!code.includes(nodeism), `bundle mentions ${nodeism}`);
    }
    // Node's Buffer in use (not the word in a dependency's comment, nor ArrayBuffer).
    assert.doesNotMatch(
      code,
      /(?<![\w.])Buffer\s*\.\s*(from|alloc|allocUnsafe|isBuffer|concat)\b/,
      'uses Buffer',
    );
  });
}

test('the Node-only radio parts do not bundle for the browser (the check above would catch a slip)', async () => {
  await assert.rejects(
    build({
      entryPoints: ['src/gateway.ts'],
      bundle: true,
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    }),
    /node:/,
  );
});
