const TWO_32 = 4294967296;

/**
 * Writes Jute (ZooKeeper's record encoding) into one buffer of a size computed beforehand:
 * big-endian int and long, a boolean as one byte, a buffer or string as an int length and its
 * bytes (-1 for null). Callers size the buffer exactly with the `*Bytes` helpers below, so a
 * request costs one allocation and no copy.
 */
export class JuteWriter {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** A writer for a whole frame: the 4-byte length prefix is written, `payload` bytes follow. */
  static frame(payload: number): JuteWriter {
    const writer = new JuteWriter(payload + 4);
    writer.int(payload);
    return writer;
  }

  int(value: number): void {
    this.pos = this.buf.writeInt32BE(value, this.pos);
  }

  /** A 64-bit value given as its signed high and unsigned low 32-bit halves. */
  longParts(high: number, low: number): void {
    this.pos = this.buf.writeInt32BE(high, this.pos);
    this.pos = this.buf.writeUInt32BE(low >>> 0, this.pos);
  }

  /** A 64-bit value given as a safe integer (e.g. a TTL in milliseconds). */
  long(value: number): void {
    const high = Math.floor(value / TWO_32);
    this.longParts(high, value - high * TWO_32);
  }

  bool(value: boolean): void {
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** A ustring whose UTF-8 length the caller computed (`byteLength`). */
  string(value: string, byteLength: number): void {
    this.pos = this.buf.writeInt32BE(byteLength, this.pos);
    if (byteLength > 0) this.pos += this.buf.write(value, this.pos, byteLength, 'utf8');
  }

  /** A buffer; null is written as length -1. */
  buffer(value: Buffer | null): void {
    if (value === null) {
      this.int(-1);
      return;
    }
    this.pos = this.buf.writeInt32BE(value.length, this.pos);
    this.pos += value.copy(this.buf, this.pos);
  }

  /** A vector of strings whose lengths are given in `byteLengths`. */
  stringVector(values: readonly string[], byteLengths: readonly number[]): void {
    this.int(values.length);
    for (let i = 0; i < values.length; i++) this.string(values[i], byteLengths[i]);
  }

  /** The written bytes; checks that the precomputed size was exact. */
  done(): Buffer {
    if (this.pos !== this.buf.length) {
      throw new Error(`jute writer sized ${this.buf.length} bytes, wrote ${this.pos}`);
    }
    return this.buf;
  }
}

/** UTF-8 length of a string (ASCII fast path: paths are nearly always ASCII). */
export function utf8Length(value: string): number {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    if (value.charCodeAt(i) > 0x7f) return Buffer.byteLength(value, 'utf8');
  }
  return length;
}
