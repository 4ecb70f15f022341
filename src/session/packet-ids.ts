/**
 * Packet identifiers: 1 to 65535, never one still in use. Ids stay in use
 * across reconnects for as long as their flow is unfinished, because the
 * broker remembers them as part of the session.
 */
export class PacketIds {
  #next = 1;
  /** Made on first use: an idle client (most of a fleet) never needs one (~200 bytes each). */
  #inUse: Set<number> | undefined;

  /** Takes a free id; undefined when all 65,535 are in use. */
  take(): number | undefined {
    this.#inUse ??= new Set();
    const inUse = this.#inUse;
    if (inUse.size >= 65_535) return undefined;
    let id = this.#next;
    while (inUse.has(id)) id = id === 65_535 ? 1 : id + 1;
    inUse.add(id);
    this.#next = id === 65_535 ? 1 : id + 1;
    return id;
  }

  /** Marks an id as in use (a flow restored from a store). */
  claim(id: number): void {
    this.#inUse ??= new Set();
    this.#inUse.add(id);
  }

  release(id: number): void {
    this.#inUse?.delete(id);
  }

  has(id: number): boolean {
    return this.#inUse?.has(id) ?? false;
  }

  get size(): number {
    return this.#inUse?.size ?? 0;
  }

  clear(): void {
    this.#inUse?.clear();
  }
}
