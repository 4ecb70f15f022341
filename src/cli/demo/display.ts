/**
 * Progress while the demo runs. On a terminal: a live block of a few lines,
 * redrawn in place, with event lines scrolling above it. Otherwise (a pipe,
 * a CI log): one plain line per event and a progress line every 5 s.
 */
import { seconds } from './summary.ts';

export interface Snapshot {
  t: number;
  durationMs: number;
  /** "publishing", "draining: waiting for the last messages", ... */
  phase: string;
  /** "up", "DOWN: link drop", "HALF-OPEN", ... */
  link: string;
  publisherUp: boolean;
  subscriberUp: boolean;
  qos: Record<1 | 2, { sent: number; delivered: number; duplicated: number }>;
  outages: number;
  next: string;
}

const PLAIN_EVERY_MS = 5000;

export class Progress {
  private drawn = 0;
  private lastPlain = Number.NEGATIVE_INFINITY;
  private last: Snapshot | undefined;

  constructor(
    private readonly live: boolean,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  /** A line that stays (an event). */
  log(t: number, text: string): void {
    const line = `[${seconds(t).padStart(8)}] ${text}`;
    if (!this.live) {
      this.out.write(`${line}\n`);
      return;
    }
    this.clear();
    this.out.write(`${line}\n`);
    if (this.last) this.draw(this.last);
  }

  update(snapshot: Snapshot): void {
    this.last = snapshot;
    if (this.live) {
      this.clear();
      this.draw(snapshot);
      return;
    }
    if (snapshot.t - this.lastPlain >= PLAIN_EVERY_MS) {
      this.lastPlain = snapshot.t;
      const q = snapshot.qos;
      this.log(
        snapshot.t,
        `QoS 1 sent ${q[1].sent} delivered ${q[1].delivered} in flight ${q[1].sent - q[1].delivered} | ` +
          `QoS 2 sent ${q[2].sent} delivered ${q[2].delivered} in flight ${q[2].sent - q[2].delivered} | ` +
          `link ${snapshot.link} | outages ${snapshot.outages}`,
      );
    }
  }

  /** Removes the live block before the final table. */
  finish(): void {
    if (this.live) this.clear();
    this.last = undefined;
  }

  private clear(): void {
    if (this.drawn === 0) return;
    // Up to the block's first line, then clear to the end of the screen.
    this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  private draw(s: Snapshot): void {
    const width = 30;
    const done = Math.min(1, s.t / s.durationMs);
    const bar = `${'█'.repeat(Math.round(done * width))}${'░'.repeat(width - Math.round(done * width))}`;
    const state = (up: boolean) => (up ? '\x1b[32mup\x1b[0m' : '\x1b[31mDOWN\x1b[0m');
    const linkColour = s.link === 'up' ? '\x1b[32m' : '\x1b[33m';
    const row = (q: 1 | 2) => {
      const r = s.qos[q];
      return `  QoS ${q}   sent ${String(r.sent).padStart(6)}   delivered ${String(r.delivered).padStart(6)}   in flight ${String(r.sent - r.delivered).padStart(4)}   duplicates ${r.duplicated}`;
    };
    const lines = [
      `  ${bar} ${seconds(s.t)} / ${seconds(s.durationMs)}   ${s.phase}`,
      `  link ${linkColour}${s.link}\x1b[0m   publisher ${state(s.publisherUp)}   subscriber ${state(s.subscriberUp)}   outages so far ${s.outages}`,
      row(1),
      row(2),
      `  ${s.next}`,
    ];
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
