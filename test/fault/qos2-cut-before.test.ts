// An outage in the middle of a QoS 2 handshake, with a PUBREC lost on the way
// (cases c and d of cut-cases.ts): the PUBLISH is sent again with DUP set,
// and the receiver, which still holds the packet id, must not deliver it
// twice. (A broker kill -9 can make the same situation, but only by chance.)
import { test } from 'node:test';
import { CUT_CASES, runCutCase } from './cut-cases.ts';
import { FAULT_SKIP, FAULT_TEST } from './scenario.ts';

for (const version of [4, 5] as const) {
  for (const c of [CUT_CASES.c, CUT_CASES.d]) {
    test(`MQTT ${version}: cut mid QoS 2 handshake: ${c.name}`, { ...FAULT_TEST, skip: FAULT_SKIP }, (t) =>
      runCutCase(t, version, c),
    );
  }
}
