/**
 * MQTT-SN messages on a radio link stream. The link layer (src/radio/link) delivers a byte stream,
 * in order and exactly once per stream; MQTT-SN messages carry their own length (1 byte, or 0x01
 * and 2 bytes), so they are written back to back and cut apart again by that header, with no
 * extra framing bytes on the air. Portable.
 */

/** The 3-byte length form starts with this byte (MQTT-SN 1.2, section 5.2.1). */
const LONG_LENGTH_MARK = 0x01;

/** Cuts a byte stream into MQTT-SN messages by their length headers. */
export class SnStreamSplitter {
  private buffer = new Uint8Array(0);
  /** Set when a length header is impossible (0, or shorter than itself): the stream is unusable. */
  broken = false;

  constructor(private readonly message: (datagram: Uint8Array) => void) {}

  push(bytes: Uint8Array): void {
    if (this.broken) return;
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    let at = 0;
    for (;;) {
      const left = joined.length - at;
      if (left < 1) break;
      let length = joined[at];
      let header = 1;
      if (length === LONG_LENGTH_MARK) {
        if (left < 3) break;
        length = (joined[at + 1] << 8) | joined[at + 2];
        header = 3;
      }
      if (length < header + 1) {
        this.broken = true;
        return;
      }
      if (left < length) break;
      this.message(joined.slice(at, at + length));
      at += length;
    }
    this.buffer = joined.slice(at);
  }
}
