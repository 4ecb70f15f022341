// An outage in the middle of a QoS 2 handshake, right after a PUBREC got
// through (cases a and b of cut-cases.ts): each side must finish the flow it
// was in, not start it again, and nothing may be lost or delivered twice.
import { test } from 'node:test';
import { CUT_CASES, runCutCase } from './cut-cases.ts';
import { FAULT_SKIP, FAULT_TEST } from './scenario.ts';

for (const version of [4, 5] as const) {
  for (const c of [CUT_CASES.a, CUT_CASES.b]) {
    test(`MQTT ${version}: cut mid QoS 2 handshake: ${c.name}`, { ...FAULT_TEST, skip: FAULT_SKIP }, (t) =>
      runCutCase(t, version, c),
    );
  }
}
