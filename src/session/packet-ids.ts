/**
 * Packet identifiers: 1 to 65535, never one still in use. Ids stay in use
 * across reconnects for as long as their flow is unfinished, because the
 * broker remembers them as part of the session.
 */

/** The largest packet identifier (a two-byte integer; 0 is not an id). */
const MAX_PACKET_ID = 65_535;

export class PacketIds {
  #next = 1;
  #size = 0;
  /**
   * One bit per id, indexed by the id: a take and a release are a shift and a
   * mask, with nothing allocated per id (a Set added and deleted an entry per
   * QoS 1 message, 2.5% of a publisher's time). Made on first use (8 KiB): an
   * idle client (most of a fleet) never needs one.
   */
  #bits: Uint32Array | undefined;

  #map(): Uint32Array {
    this.#bits ??= new Uint32Array((MAX_PACKET_ID + 1) >>> 5);
    return this.#bits;
  }

  /** Takes a free id; undefined when all 65,535 are in use. */
  take(): number | undefined {
    if (this.#size >= MAX_PACKET_ID) return undefined;
    const bits = this.#map();
    let id = this.#next;
    while ((bits[id >>> 5] & (1 << (id & 31))) !== 0) id = id === MAX_PACKET_ID ? 1 : id + 1;
    bits[id >>> 5] |= 1 << (id & 31);
    this.#size++;
    this.#next = id === MAX_PACKET_ID ? 1 : id + 1;
    return id;
  }

  /** Marks an id as in use (a flow restored from a store). */
  claim(id: number): void {
    if (!isId(id) || this.has(id)) return;
    const bits = this.#map();
    bits[id >>> 5] |= 1 << (id & 31);
    this.#size++;
  }

  release(id: number): void {
    if (!isId(id) || !this.has(id)) return;
    this.#bits![id >>> 5] &= ~(1 << (id & 31));
    this.#size--;
  }

  has(id: number): boolean {
    const bits = this.#bits;
    return bits !== undefined && isId(id) && (bits[id >>> 5] & (1 << (id & 31))) !== 0;
  }

  get size(): number {
    return this.#size;
  }

  clear(): void {
    this.#bits?.fill(0);
    this.#size = 0;
  }
}

/** An integer packet identifier in 1..65535 (anything else is never in use). */
function isId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= MAX_PACKET_ID;
}
