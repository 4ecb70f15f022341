/**
 * The file store's in-memory mirror of its live records: flow state and,
 * for each message, only where its encoded PUBLISH lies in the file, so the
 * mirror costs a few dozen bytes per record whatever the payload. It also
 * keeps the size a snapshot of the live records would take, which decides
 * when to compact.
 */
import type { InboundQos2State } from '../session/store.ts';
import type { OutboundState } from '../session/types.ts';
import { storeError } from './file-io.ts';
import {
  ADD_SIZE,
  FRAME_SIZE,
  HEADER_SIZE,
  INBOUND_CLEAR_SIZE,
  INBOUND_REMOVE_SIZE,
  INBOUND_SET_SIZE,
  inboundState,
  OP_ADD,
  OP_INBOUND_CLEAR,
  OP_INBOUND_REMOVE,
  OP_INBOUND_SET,
  OP_REMOVE,
  OP_UPDATE,
  outboundState,
  REMOVE_SIZE,
  UPDATE_SIZE,
} from './file-log.ts';

/** A live outbound record: its flow state, and where its encoded PUBLISH lies in the file. */
export interface LiveOutbound {
  packetId: number;
  state: OutboundState;
  messageAt: number;
  messageLength: number;
}

/** The body of an add record before its PUBLISH: key, packet id, state. */
const ADD_FIELDS = ADD_SIZE - FRAME_SIZE - 1;

export class Mirror {
  readonly outbound = new Map<number, LiveOutbound>();
  readonly inbound = new Map<number, InboundQos2State>();
  /** What a snapshot of the live records takes, header included. */
  liveBytes = HEADER_SIZE;

  setOutbound(key: number, live: LiveOutbound): void {
    this.deleteOutbound(key);
    this.outbound.set(key, live);
    this.liveBytes += ADD_SIZE + live.messageLength;
  }

  deleteOutbound(key: number): void {
    const live = this.outbound.get(key);
    if (live === undefined) return;
    this.outbound.delete(key);
    this.liveBytes -= ADD_SIZE + live.messageLength;
  }

  setInbound(packetId: number, state: InboundQos2State): void {
    if (!this.inbound.has(packetId)) this.liveBytes += INBOUND_SET_SIZE;
    this.inbound.set(packetId, state);
  }

  deleteInbound(packetId: number): void {
    if (this.inbound.delete(packetId)) this.liveBytes -= INBOUND_SET_SIZE;
  }

  clearInbound(): void {
    this.liveBytes -= INBOUND_SET_SIZE * this.inbound.size;
    this.inbound.clear();
  }

  /**
   * Applies the intact record at `image[record]` (body at `body`). An op this
   * version does not know, or a record of the wrong size for its op, is a
   * STORE_ERROR: it was written by a newer format, and skipping it would
   * resume a session that is not the one stored.
   */
  replay(
    image: Buffer,
    op: number,
    record: number,
    body: number,
    bodyLength: number,
    warn: (m: string) => void,
  ) {
    const where = `record at offset ${record}`;
    const expect = (size: number) => {
      if (bodyLength !== size - FRAME_SIZE - 1) throw storeError(`${where} (op ${op}) has a wrong length`);
    };
    switch (op) {
      case OP_ADD:
        if (bodyLength < ADD_FIELDS + 2) throw storeError(`${where} (op ${op}) has a wrong length`);
        return this.setOutbound(image.readDoubleLE(body), {
          packetId: image.readUInt16LE(body + 8),
          state: outboundState(image[body + 10], record),
          messageAt: body + ADD_FIELDS,
          messageLength: bodyLength - ADD_FIELDS,
        });
      case OP_UPDATE: {
        expect(UPDATE_SIZE);
        const live = this.outbound.get(image.readDoubleLE(body));
        // Never written (an update of an unknown key is written as an add), so harmless to skip.
        if (live === undefined) return warn(`${where} updates a record never added`);
        live.packetId = image.readUInt16LE(body + 8);
        live.state = outboundState(image[body + 10], record);
        return;
      }
      case OP_REMOVE:
        expect(REMOVE_SIZE);
        return this.deleteOutbound(image.readDoubleLE(body));
      case OP_INBOUND_SET:
        expect(INBOUND_SET_SIZE);
        return this.setInbound(image.readUInt16LE(body), inboundState(image[body + 2], record));
      case OP_INBOUND_REMOVE:
        expect(INBOUND_REMOVE_SIZE);
        return this.deleteInbound(image.readUInt16LE(body));
      case OP_INBOUND_CLEAR:
        expect(INBOUND_CLEAR_SIZE);
        return this.clearInbound();
      default:
        throw storeError(`${where} has unknown type ${op} (written by a newer steadfast-mqtt?)`);
    }
  }
}
