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
      'the network goes away, as when a Wi-Fi access point reboots: every connection is cut and new ones are refused',
    lengthMs: 3000,
    colour: '#d62728',
  },
  'half-open': {
    label: 'half-open link',
    explanation:
      'the network goes silent without telling anyone (a router forgets the connection): nothing is closed, data just stops, and only the clients’ regular check-ins (keepalive) can notice',
    lengthMs: 8000,
    colour: '#ff7f0e',
  },
  'broker-restart': {
    label: 'broker restart',
    explanation:
      'the broker (the server between them) stops, dropping every connection, and comes back with the sessions it keeps',
    lengthMs: 3000,
    colour: '#9467bd',
  },
  loss: {
    label: 'radio-style loss',
    explanation:
      'data is lost and sent again 0.25–1.2 s later, in order, as over a weak radio link: stalls, then bursts',
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

/** The shortest run allowed: a quick look with a link drop, a broker restart and a loss burst. */
export const MIN_DURATION_S = 10;

/** From this length on every fault runs at its full length. */
const FULL_SCRIPT_MS = 30_000;

/**
 * The shortest each fault may be in a short run. A half-open period must
 * outlast keepalive detection (a PINGREQ after 2 s of silence, then 3 s
 * without an answer), or it would show nothing.
 */
const SHORTEST_MS: Record<FaultKind, number> = {
  'link-drop': 1000,
  'half-open': 6000,
  'broker-restart': 1000,
  loss: 2000,
};

/** The smallest quiet gap before each fault and after the last, so each recovery is seen alone. */
const SHORTEST_GAP_MS = 800;

/** Which faults are left out of a run, and why. */
export interface Script {
  faults: ScheduledFault[];
  /** Kinds left out of a short run (too short to show them), in words. */
  leftOut: string[];
}

/**
 * The faults for a run of `durationMs`. Without `canRestartBroker` (a broker
 * given by URL) the broker restart is left out. Runs shorter than 30 s get
 * shorter faults, and the faults that do not fit are left out (the half-open
 * period first: it needs the most time).
 */
export function buildScript(durationMs: number, canRestartBroker: boolean): Script {
  let kinds: FaultKind[] = [
    'link-drop',
    'half-open',
    ...(canRestartBroker ? (['broker-restart'] as const) : []),
    'loss',
  ];
  const scale = Math.min(1, durationMs / FULL_SCRIPT_MS);
  const lengthOf = (kind: FaultKind) =>
    Math.round(Math.max(SHORTEST_MS[kind], FAULT_KINDS[kind].lengthMs * scale));
  const leftOut: string[] = [];
  const fits = (ks: FaultKind[]) =>
    ks.reduce((sum, k) => sum + lengthOf(k), 0) + (ks.length + 1) * SHORTEST_GAP_MS <= durationMs;
  for (const drop of ['half-open', 'loss', 'broker-restart', 'link-drop'] as const) {
    if (fits(kinds)) break;
    if (!kinds.includes(drop)) continue;
    kinds = kinds.filter((k) => k !== drop);
    leftOut.push(
      `${FAULT_KINDS[drop].label}: left out, the run is too short for it (use --duration 30 for every fault)`,
    );
  }
  const cycles = Math.max(1, Math.floor(durationMs / 60_000));
  const cycleMs = durationMs / cycles;
  const faultMs = kinds.reduce((sum, k) => sum + lengthOf(k), 0);
  // Equal gaps before each fault and after the last one, so the run ends calm.
  const gap = (cycleMs - faultMs) / (kinds.length + 1);
  const faults: ScheduledFault[] = [];
  for (let c = 0; c < cycles; c++) {
    let t = c * cycleMs + gap;
    for (const kind of kinds) {
      const lengthMs = lengthOf(kind);
      faults.push({ kind, at: Math.round(t), lengthMs });
      t += lengthMs + gap;
    }
  }
  return { faults, leftOut };
}
