import { ProtocolError } from '../../../errors/driver-errors.js';

const TWO_32 = 4294967296;

/**
 * Reads Jute records from a slice [pos, end) of a frame buffer, without copying the frame. Any
 * read past `end`, a negative length other than -1, or a count that cannot fit in what is left
 * throws a ProtocolError, never a RangeError.
 */
export class JuteReader {
  buf: Buffer;
  pos: number;
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Points the reader at another slice (one reader serves every frame of a connection). */
  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  int(): number {
    const pos = this.pos;
    if (pos + 4 > this.end) throw truncated('an int');
    this.pos = pos + 4;
    return this.buf.readInt32BE(pos);
  }

  /** A long as a number (exact below 2^53: zxids, times, TTLs). */
  long(): number {
    const pos = this.pos;
    if (pos + 8 > this.end) throw truncated('a long');
    this.pos = pos + 8;
    return this.buf.readInt32BE(pos) * TWO_32 + this.buf.readUInt32BE(pos + 4);
  }

  /** A long as 16 lowercase hex digits without leading zeros ('0' for zero), as ids are shown. */
  longHex(): string {
    const pos = this.pos;
    if (pos + 8 > this.end) throw truncated('a long');
    this.pos = pos + 8;
    return hex64(this.buf.readUInt32BE(pos), this.buf.readUInt32BE(pos + 4));
  }

  bool(): boolean {
    if (this.pos + 1 > this.end) throw truncated('a boolean');
    return this.buf[this.pos++] !== 0;
  }

  /** A buffer, copied out of the frame (the frame may be a slice of a large socket chunk). */
  buffer(): Buffer | null {
    const length = this.length('a buffer');
    if (length < 0) return null;
    const copy = Buffer.allocUnsafe(length);
    this.buf.copy(copy, 0, this.pos, this.pos + length);
    this.pos += length;
    return copy;
  }

  string(): string | null {
    const length = this.length('a string');
    if (length < 0) return null;
    const start = this.pos;
    this.pos = start + length;
    return this.buf.toString('utf8', start, start + length);
  }

  /** A ustring that must be present. */
  requiredString(what: string): string {
    const value = this.string();
    if (value === null) throw new ProtocolError(`${what} is null`);
    return value;
  }

  /** A vector count: -1 (null) or a count whose items (each at least `minItemBytes`) fit. */
  count(minItemBytes: number): number {
    const count = this.int();
    if (count < -1) throw new ProtocolError(`negative vector length ${count}`);
    if (count > 0 && count * minItemBytes > this.end - this.pos) {
      throw new ProtocolError(`vector of ${count} items does not fit in ${this.remaining} bytes`);
    }
    return count;
  }

  stringVector(): string[] {
    const count = this.count(4);
    const values: string[] = new Array<string>(Math.max(count, 0));
    for (let i = 0; i < count; i++) values[i] = this.requiredString('a vector item');
    return values;
  }

  private length(what: string): number {
    const length = this.int();
    if (length < -1) throw new ProtocolError(`negative length ${length} of ${what}`);
    if (length > this.end - this.pos) {
      throw new ProtocolError(
        `${what} of ${length} bytes overruns the frame (${this.remaining} left)`,
      );
    }
    return length;
  }
}

function truncated(what: string): ProtocolError {
  return new ProtocolError(`truncated frame: ${what} is missing`);
}

/** Unsigned 64-bit value (two uint32 halves) as hex without leading zeros, '0' for zero. */
export function hex64(high: number, low: number): string {
  if (high === 0) return low.toString(16);
  return high.toString(16) + low.toString(16).padStart(8, '0');
}

/** Parses ids written by `hex64` (or zero-padded, any case) into halves; NaN-free or throws. */
export function parseHex64(value: string): { high: number; low: number } {
  if (!/^[0-9a-fA-F]{1,16}$/.test(value)) throw new Error(`not a 64-bit hex id: '${value}'`);
  const padded = value.padStart(16, '0');
  return {
    high: parseInt(padded.slice(0, 8), 16) | 0,
    low: parseInt(padded.slice(8), 16) >>> 0,
  };
}
