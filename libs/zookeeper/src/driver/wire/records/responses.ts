import { ProtocolError } from '../../../errors/driver-errors.js';
import { JuteReader } from '../jute/jute-reader.js';

/** Reply header: xid, zxid, err. */
export const REPLY_HEADER_BYTES = 16;

export interface ConnectResponse {
  protocolVersion: number;
  timeoutMs: number;
  sessionIdHigh: number;
  sessionIdLow: number;
  password: Buffer;
  readOnly: boolean;
}

/**
 * ConnectResponse {protocolVersion, timeOut, sessionId, passwd, readOnly?} (servers before 3.4
 * omit readOnly). Anything else (an HTTP answer, a TLS alert, garbage) is a ProtocolError.
 */
export function decodeConnectResponse(reader: JuteReader): ConnectResponse {
  const length = reader.remaining;
  if (length < 36 || length > 37) {
    throw new ProtocolError(`a ConnectResponse is 36 or 37 bytes, got a frame of ${length}`);
  }
  const protocolVersion = reader.int();
  if (protocolVersion !== 0) {
    throw new ProtocolError(`unknown protocol version ${protocolVersion} in the ConnectResponse`);
  }
  const timeoutMs = reader.int();
  const sessionIdHigh = reader.int();
  const sessionIdLow = reader.int() >>> 0;
  const password = reader.buffer();
  if (password === null || password.length !== 16) {
    throw new ProtocolError('the ConnectResponse has no 16-byte session password');
  }
  const readOnly = reader.remaining > 0 ? reader.bool() : false;
  return { protocolVersion, timeoutMs, sessionIdHigh, sessionIdLow, password, readOnly };
}

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export function decodeWatcherEvent(reader: JuteReader): WatcherEvent {
  const type = reader.int();
  const state = reader.int();
  const path = reader.string() ?? '';
  return { type, state, path };
}
