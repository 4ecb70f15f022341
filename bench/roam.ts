/**
 * `npm run bench -- roam [--quick]`: roaming, flapping and sleeping nodes on
 * a simulated nRF24 site (in-process gateways, a real Mosquitto), the
 * scenarios of test/gateway/roam-site.ts and sleep-site.ts:
 * - walk: three gateways 60 m apart, a node walking from the first to the
 *   third and back (28 s; 14 s with --quick) publishing a QoS 1 and a QoS 2
 *   reading every 150 ms: handovers, the Client's outage at each, readings
 *   lost or duplicated (per sequence number), wills published;
 * - between: a node midway between two gateways of equal quality (shadowing
 *   4 dB per frame) for 60 s (10 s): its switches per hour;
 * - sleep: a node publishing every 5 modelled minutes for 2 modelled hours
 *   (1 hour) and sleeping between, beside an always-awake one: radio-on
 *   time (the awake node's over the sleeping node's) and frames per hour.
 * The reference for the sleeping node is the awake node in the same run.
 */

import { between, walk } from '../test/gateway/roam-site.ts';
import { sleepingSite } from '../test/gateway/sleep-site.ts';
import { startMosquitto } from '../test/helpers/mosquitto.ts';
import { parseBenchArgs } from './harness.ts';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

export async function run(args: string[]): Promise<void> {
  const { quick } = parseBenchArgs(args);
  const broker = await startMosquitto();
  try {
    const leg = quick ? 6000 : 12_000;
    const route = [
      { atMs: 0, x: 0, y: 0 },
      { atMs: 2000, x: 0, y: 0 },
      { atMs: 2000 + leg, x: 120, y: 0 },
      { atMs: 4000 + leg, x: 120, y: 0 },
      { atMs: 4000 + 2 * leg, x: 0, y: 0 },
    ];
    const walked = await walk(broker, { xs: [0, 60, 120], route, periodMs: 150, seed: 21 });
    console.log(
      `walk: gateways ${walked.path.join(' -> ')}, ${walked.handovers} handovers (${walked.earlyMoves} early), outages ${walked.outagesMs.map((ms) => ms.toFixed(0)).join(', ')} ms; ${walked.sent} QoS 1 + ${walked.sent} QoS 2 readings: QoS 1 lost ${walked.qos1Lost}, QoS 2 lost ${walked.qos2Lost}, QoS 2 twice ${walked.qos2Dup}; wills ${walked.wills}`,
    );
    const stood = await between(broker, {
      spacing: 40,
      durationMs: quick ? 10_000 : 60_000,
      seed: 5,
      searchIntervalMs: 300,
      minDwellMs: 2000,
    });
    console.log(
      `between two similar gateways: ${stood.moves} switches in ${(stood.durationMs / 1000).toFixed(0)} s over ${stood.searches} searches (${stood.switchesPerHour.toFixed(0)} per hour)`,
    );
    const slept = await sleepingSite(broker, {
      timeScale: 150,
      periodMin: 5,
      readings: quick ? 12 : 24,
      seed: 11,
    });
    console.log(
      `sleep: ${slept.readings} readings over ${slept.modelledHours.toFixed(2)} modelled h, ${slept.sleeps} sleeps, ${slept.commandsSent} commands held and delivered (${slept.commandsLost} lost, worst ${slept.commandDelayMaxWallMs} ms wall); radio on ${(slept.sleepRadioOnMs / 1000).toFixed(0)} s vs ${(slept.awakeRadioOnMs / 1000).toFixed(0)} s awake (${slept.radioOnRatio.toFixed(1)}x); frames/h ${slept.sleepFramesPerHour.toFixed(0)} vs ${slept.awakeFramesPerHour.toFixed(0)}; wills ${slept.wills}`,
    );
    const json = {
      bench: 'roam',
      handovers: walked.handovers,
      early_moves: walked.earlyMoves,
      handover_ms_p50: Math.round(percentile(walked.outagesMs, 0.5)),
      handover_ms_max: Math.round(Math.max(0, ...walked.outagesMs)),
      readings: walked.sent,
      qos1_lost: walked.qos1Lost,
      qos2_lost: walked.qos2Lost,
      qos2_dup: walked.qos2Dup,
      wills_while_in_range: walked.wills,
      switches_per_hour_between_two: Math.round(stood.switchesPerHour),
      sleep_modelled_hours: Number(slept.modelledHours.toFixed(2)),
      sleep_commands_lost: slept.commandsLost,
      sleep_radio_on_ratio: Number(slept.radioOnRatio.toFixed(1)),
      sleep_frames_per_hour: Math.round(slept.sleepFramesPerHour),
      awake_frames_per_hour: Math.round(slept.awakeFramesPerHour),
    };
    console.log(JSON.stringify(json));
  } finally {
    await broker.stop();
  }
}
