import { InvalidPacketError } from './transport-errors.js';

/** An event as stored in a queue or log: Nest's packet (after the serializer). */
export interface EventPacket {
  pattern: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

/** A request as stored in a request queue. */
export interface RequestPacket extends EventPacket {
  id: string;
  /** The requesting client: its reply folder's name. */
  replyTo: string;
  /** Epoch ms after which the client no longer waits: a server drops it unhandled. */
  deadline: number;
}

/** Checks the shape of a deserialized event; a typed error says what is wrong. */
export function asEventPacket(value: unknown, path: string): EventPacket {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) {
    throw new InvalidPacketError(
      Buffer.isBuffer(value)
        ? 'not JSON'
        : `a ${value === null ? 'null' : typeof value}, not an object`,
      path,
    );
  }
  const packet = value as Partial<RequestPacket>;
  if (typeof packet.pattern !== 'string') throw new InvalidPacketError('no string `pattern`', path);
  if (
    packet.metadata !== undefined &&
    (typeof packet.metadata !== 'object' || packet.metadata === null)
  ) {
    throw new InvalidPacketError('`metadata` is not an object', path);
  }
  return packet as EventPacket;
}

/** Checks the shape of a deserialized request. */
export function asRequestPacket(value: unknown, path: string): RequestPacket {
  const packet = asEventPacket(value, path) as Partial<RequestPacket>;
  if (typeof packet.id !== 'string' || packet.id === '')
    throw new InvalidPacketError('no `id`', path);
  if (typeof packet.replyTo !== 'string' || !/^[\w.-]{1,100}$/.test(packet.replyTo)) {
    throw new InvalidPacketError('no valid `replyTo`', path);
  }
  if (typeof packet.deadline !== 'number') throw new InvalidPacketError('no `deadline`', path);
  return packet as RequestPacket;
}
