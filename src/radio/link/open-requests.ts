/**
 * Open requests at the answering end (the gateway): an OPEN heard is an
 * answer to a lost ACCEPT, a secure stream left pending until a frame under
 * its key proves the node is there (an OPEN may be a recording), or a new
 * stream the owner is asked to accept or refuse. Split from endpoint.ts,
 * which owns the state this works on (`OpenHost`).
 * Portable: nothing from Node.
 */
import { MqttError } from '../../errors.ts';
import { type FrameCodec, SecureCodec } from './codec.ts';
import type { EndpointOptions, EndpointStats, OpenRequest, StreamHandle } from './endpoint-types.ts';
import { type Frame, ResetReason, readOpenBody } from './frame.ts';
import type { Stream } from './stream.ts';
import type { StreamEntry, StreamTable } from './stream-table.ts';

/** What open-request handling uses of its endpoint. */
export interface OpenHost {
  readonly table: StreamTable;
  readonly stats: EndpointStats;
  codec(): FrameCodec;
  options(): EndpointOptions;
  /** True once the endpoint is closing: no new stream is accepted. */
  closing(): boolean;
  newStream(
    peer: number,
    role: 'initiator' | 'responder',
    epoch: number,
    nonce: number,
    peerMtu: number,
  ): Stream;
  add(
    peer: number,
    role: 'initiator' | 'responder',
    epoch: number,
    nonce: number,
    peerMtu: number,
  ): StreamEntry;
  replyReset(frame: Frame): void;
  abortEntry(entry: StreamEntry, reason: number): void;
  settle(entry: StreamEntry): void;
  handle(entry: StreamEntry): StreamHandle;
}

/** An OPEN heard: an answer to a lost ACCEPT, a pending secure stream, or a new stream the owner is asked about. */
export function heardOpen(
  host: OpenHost,
  frame: Frame,
  rssi: number | undefined,
  now: number,
  nodeNonce?: Uint8Array,
): void {
  const body = readOpenBody(frame.payload, host.codec().overhead);
  if (body === undefined) {
    host.stats.malformed++;
    return;
  }
  // The node did not hear our ACCEPT: the stream it asks for is one we have.
  for (const existing of [host.table.get(frame.src), host.table.pendingFor(frame.src)]) {
    if (
      existing !== undefined &&
      existing.stream.nonce === body.nonce &&
      existing.stream.epoch === frame.epoch
    ) {
      existing.stream.receive(frame, now);
      host.table.dispatch(existing);
      return;
    }
  }
  const onOpen = host.options().onOpen;
  if (onOpen === undefined || host.closing()) {
    host.replyReset(frame);
    return;
  }
  const peerTimeoutMs = Math.min(
    body.linkTimeoutMs,
    host.options().maxPeerTimeoutMs ?? Number.POSITIVE_INFINITY,
  );
  const codec = host.codec();
  if (codec instanceof SecureCodec && nodeNonce !== undefined) {
    // A secure OPEN may be a recording played back: the new stream replaces nothing, and the
    // owner hears of it, until a frame under its key proves the node is there (confirm()).
    const stream = host.newStream(frame.src, 'responder', frame.epoch, body.nonce, body.mtu);
    const secure = codec.streamState(frame.src, nodeNonce, codec.nonce());
    const entry = host.table.addPending(stream, secure);
    entry.stream.peerTimeoutMs = peerTimeoutMs;
    entry.stream.receive(frame, now);
    entry.stream.accept();
    return;
  }
  // A new stream from this node: whatever it had before is over, and the node knows it.
  host.table.supersede(frame.src, 'the node opened a new stream');
  const entry = host.add(frame.src, 'responder', frame.epoch, body.nonce, body.mtu);
  entry.stream.peerTimeoutMs = peerTimeoutMs;
  entry.stream.receive(frame, now);
  request(host, entry, onOpen, rssi, body.linkTimeoutMs);
}

/** A pending stream proved itself: it replaces the node's older streams, and the owner is asked. */
export function confirmPending(host: OpenHost, entry: StreamEntry, rssi: number | undefined): void {
  host.table.promote(entry, 'the node opened a new stream');
  const onOpen = host.options().onOpen;
  if (onOpen === undefined || host.closing()) {
    host.abortEntry(entry, ResetReason.CLOSED);
    return;
  }
  request(host, entry, onOpen, rssi, entry.stream.peerTimeoutMs ?? 0);
}

/** Asks the owner (the gateway) to accept or refuse the stream in `entry`. */
function request(
  host: OpenHost,
  entry: StreamEntry,
  onOpen: NonNullable<EndpointOptions['onOpen']>,
  rssi: number | undefined,
  linkTimeoutMs: number,
): void {
  const frame = { src: entry.stream.config.peer };
  const request = new AbortController();
  entry.request = request;
  let answered = false;
  onOpen({
    peer: frame.src,
    rssi,
    linkTimeoutMs,
    stream: entry.stream,
    signal: request.signal,
    accept: (handlers) => {
      if (answered || request.signal.aborted)
        throw new MqttError('LINK_ERROR', 'the open request was withdrawn');
      answered = true;
      entry.handlers = handlers;
      entry.stream.accept();
      host.settle(entry);
      return host.handle(entry);
    },
    refuse: (reason) => {
      if (answered || request.signal.aborted) return;
      answered = true;
      host.abortEntry(entry, reason);
    },
  } satisfies OpenRequest);
}
