import { hex64, parseHex64 } from './jute/jute-reader.js';
import { ConnectRequest } from './records/requests.js';
import { ConnectResponse } from './records/responses.js';

/**
 * What identifies a session to the servers: its id and password (zero until the first
 * ConnectResponse, unless re-attaching), the negotiated timeout, and the last zxid seen, which a
 * reconnect sends so that no server behind this client's view takes the session.
 */
export class SessionIdentity {
  /** The id's halves as the jute reader gives them (high signed, low unsigned). */
  private high = 0;
  private low = 0;
  private password: Buffer = Buffer.alloc(16);
  negotiatedMs = 0;
  private zxidHigh = 0;
  private zxidLow = 0;

  /** Re-attaches to an existing session; throws for a bad id or password. */
  use(session: { id: string; password: string }): void {
    const id = parseHex64(session.id);
    if (!/^[0-9a-fA-F]{32}$/.test(session.password)) {
      throw new Error('the session password must be 32 hex digits');
    }
    this.high = id.high;
    this.low = id.low;
    this.password = Buffer.from(session.password, 'hex');
  }

  /** Whether a session id is held (the next ConnectRequest re-attaches to it). */
  get hasSession(): boolean {
    return this.high !== 0 || this.low !== 0;
  }

  /**
   * Whether `response` is for the session held: a server answering a re-attach with another
   * session (the old one is gone, and its ephemeral nodes with it) does not continue it.
   */
  continues(response: ConnectResponse): boolean {
    return (
      !this.hasSession ||
      (response.sessionIdHigh === this.high && response.sessionIdLow === this.low)
    );
  }

  adopt(response: ConnectResponse): void {
    this.high = response.sessionIdHigh;
    this.low = response.sessionIdLow;
    this.password = response.password;
    this.negotiatedMs = response.timeoutMs;
  }

  /** Takes the zxid of a reply header (8 bytes at `offset`) when it is positive. */
  seeZxid(buf: Buffer, offset: number): void {
    const high = buf.readInt32BE(offset);
    const low = buf.readUInt32BE(offset + 4);
    if (high > 0 || (high === 0 && low > 0)) {
      this.zxidHigh = high;
      this.zxidLow = low;
    }
  }

  get lastZxid(): { high: number; low: number } {
    return { high: this.zxidHigh, low: this.zxidLow };
  }

  get credentials(): { id: string; password: string; timeoutMs: number } {
    return {
      id: hex64(this.high >>> 0, this.low >>> 0),
      password: this.password.toString('hex').toUpperCase(),
      timeoutMs: this.negotiatedMs,
    };
  }

  connectRequest(timeoutMs: number): ConnectRequest {
    return {
      lastZxidHigh: this.zxidHigh,
      lastZxidLow: this.zxidLow,
      timeoutMs,
      sessionIdHigh: this.high,
      sessionIdLow: this.low,
      password: this.password,
    };
  }
}
