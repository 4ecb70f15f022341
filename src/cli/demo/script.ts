/**
 * The demo's script: which faults happen when. Four kinds, each lasting a
 * fixed time, spread evenly over the run with quiet gaps between them (and
 * repeated every minute in longer runs), so every fault is seen alone and
 * the recovery after it can be measured.
 */

export type FaultKind = 'link-drop' | 'half-open' | 'broker-restart' | 'loss';

export interface FaultKindInfo {
  /** Short name for tables. */
  label: string;
  /** What happens, for people. */
  explanation: string;
  /** How long it lasts, ms. */
  lengthMs: number;
  /** Colour in the report. */
  colour: string;
}

export const FAULT_KINDS: Record<FaultKind, FaultKindInfo> = {
  'link-drop': {
    label: 'link drop',
    explanation:
      'the link goes down, as when an access point reboots: every connection is reset and new ones are refused for 3 s',
    lengthMs: 3000,
    colour: '#d62728',
  },
  'half-open': {
    label: 'half-open link',
    explanation:
      'bytes stop both ways but no socket is closed and nobody is told (a NAT entry or radio path dies silently) for 8 s: only the client’s keepalive can find it',
    lengthMs: 8000,
    colour: '#ff7f0e',
  },
  'broker-restart': {
    label: 'broker restart',
    explanation:
      'the broker stops, dropping every connection, and comes back 3 s later with its persisted sessions',
    lengthMs: 3000,
    colour: '#9467bd',
  },
  loss: {
    label: 'radio-style loss',
    explanation:
      'for 8 s each chunk of bytes may be lost and retransmitted 0.25–1.2 s later (longer when lost again), in order: stalls and bursts, as over a weak radio link',
    lengthMs: 8000,
    colour: '#bcbd22',
  },
};

export interface ScheduledFault {
  kind: FaultKind;
  /** Start, ms from the beginning of the run. */
  at: number;
  lengthMs: number;
}

/** The shortest run that fits the script with room to recover between faults. */
export const MIN_DURATION_S = 30;

/**
 * The faults for a run of `durationMs`. Without `canRestartBroker` (a broker
 * given by URL) the broker restart is left out.
 */
export function buildScript(durationMs: number, canRestartBroker: boolean): ScheduledFault[] {
  const kinds: FaultKind[] = [
    'link-drop',
    'half-open',
    ...(canRestartBroker ? (['broker-restart'] as const) : []),
    'loss',
  ];
  const cycles = Math.max(1, Math.floor(durationMs / 60_000));
  const cycleMs = durationMs / cycles;
  const faultMs = kinds.reduce((sum, k) => sum + FAULT_KINDS[k].lengthMs, 0);
  // Equal gaps before each fault and after the last one, so the run ends calm.
  const gap = (cycleMs - faultMs) / (kinds.length + 1);
  const script: ScheduledFault[] = [];
  for (let c = 0; c < cycles; c++) {
    let t = c * cycleMs + gap;
    for (const kind of kinds) {
      const lengthMs = FAULT_KINDS[kind].lengthMs;
      script.push({ kind, at: Math.round(t), lengthMs });
      t += lengthMs + gap;
    }
  }
  return script;
}
