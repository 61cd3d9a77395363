import { ProtocolError } from '../../errors/driver-errors.js';

/** Where complete frames go. */
export interface FrameSink {
  /** One frame's payload: `buf[start, end)` (valid only during the call). */
  frame(buf: Buffer, start: number, end: number): void;
  /** A frame above the limit was skipped; `xid` is its first int (the reply's xid). */
  oversized(bytes: number, xid: number): void;
}

/** Lengths above this (or negative) are no frame at all: the stream is corrupt or not ZooKeeper. */
export function corruptFrameLength(limitBytes: number): number {
  return Math.max(4 * limitBytes, 16 * 1024 * 1024);
}

/**
 * Splits a byte stream into frames of a 4-byte big-endian length and a payload. Frames that lie
 * whole in a socket chunk are handed over in place (no copy); a frame spread over chunks is
 * gathered once it is complete. A frame above `limitBytes` is skipped and reported as
 * oversized; a negative or absurd length throws a ProtocolError (nothing after it is usable).
 */
export class FrameReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Payload length of the frame being gathered, -1 until its prefix is complete. */
  private frameLength = -1;
  /** Bytes of an oversized frame still to skip, and what is known of its xid. */
  private skipLeft = 0;
  private skipBytes = 0;
  private skipXid = 0;
  private skipHeaderBytes = 0;
  private stopped = false;
  private readonly corruptAbove: number;
  /** While set, longer frames are a ProtocolError (the handshake expects a 36-byte reply). */
  strictLimit: number | undefined;

  constructor(
    private readonly limitBytes: number,
    private readonly sink: FrameSink,
  ) {
    this.corruptAbove = corruptFrameLength(limitBytes);
  }

  /** Bytes of an incomplete frame held back (a stream ending now was truncated). */
  get bufferedBytes(): number {
    return this.pendingBytes + (this.skipLeft > 0 ? 1 : 0);
  }

  /** Stops handing out frames (the link is being dropped), even within the current chunk. */
  stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let pos = 0;
    if (this.skipLeft > 0) {
      pos = this.skip(chunk, 0);
      if (pos >= chunk.length) return;
    }
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length - pos;
      if (pos > 0) this.pending[this.pending.length - 1] = chunk.subarray(pos);
      if (this.frameLength < 0) {
        if (this.pendingBytes < 4) return;
        const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
        this.pending = [head];
        this.frameLength = this.checkLength(head.readInt32BE(0));
        if (this.frameLength > this.limitBytes) {
          this.pending = [];
          this.pendingBytes = 0;
          this.startSkip(this.frameLength);
          this.frameLength = -1;
          const rest = head.subarray(4);
          if (rest.length > 0) this.push(rest);
          return;
        }
      }
      if (this.pendingBytes < 4 + this.frameLength) return;
      const data = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.frameLength = -1;
      this.frames(data, 0);
      return;
    }
    this.frames(chunk, pos);
  }

  private frames(data: Buffer, from: number): void {
    let pos = from;
    const end = data.length;
    while (!this.stopped && pos < end) {
      if (end - pos < 4) {
        this.hold(data, pos, -1);
        return;
      }
      const length = this.checkLength(data.readInt32BE(pos));
      if (length > this.limitBytes) {
        this.startSkip(length);
        pos = this.skip(data, pos + 4);
        continue;
      }
      if (end - pos - 4 < length) {
        this.hold(data, pos, length);
        return;
      }
      this.sink.frame(data, pos + 4, pos + 4 + length);
      pos += 4 + length;
    }
  }

  private hold(data: Buffer, pos: number, length: number): void {
    // A copy: the rest of a large chunk must not stay alive for a few bytes.
    this.pending = [Buffer.from(data.subarray(pos))];
    this.pendingBytes = data.length - pos;
    this.frameLength = length;
  }

  private checkLength(length: number): number {
    if (length < 0 || length > this.corruptAbove) {
      this.stop();
      throw new ProtocolError(`frame length ${length} is not a ZooKeeper frame (corrupt stream)`);
    }
    if (this.strictLimit !== undefined && length > this.strictLimit) {
      this.stop();
      throw new ProtocolError(`frame length ${length} where a ${this.strictLimit}-byte one fits`);
    }
    return length;
  }

  private startSkip(length: number): void {
    this.skipLeft = length;
    this.skipBytes = length;
    this.skipXid = 0;
    this.skipHeaderBytes = 0;
  }

  /** Skips oversized payload bytes from `pos`; returns where the data after it starts. */
  private skip(data: Buffer, pos: number): number {
    while (this.skipHeaderBytes < 4 && this.skipLeft > 0 && pos < data.length) {
      this.skipXid = (this.skipXid << 8) | data[pos++];
      this.skipHeaderBytes++;
      this.skipLeft--;
    }
    const taken = Math.min(this.skipLeft, data.length - pos);
    this.skipLeft -= taken;
    pos += taken;
    if (this.skipLeft === 0) this.sink.oversized(this.skipBytes, this.skipXid);
    return pos;
  }
}
