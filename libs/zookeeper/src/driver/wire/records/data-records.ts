import { Acl, Stat } from '../../driver-types.js';
import { JuteReader } from '../jute/jute-reader.js';
import { JuteWriter, utf8Length } from '../jute/jute-writer.js';

/** Bytes of an encoded Stat: 6 longs and 5 ints. */
export const STAT_BYTES = 68;

/** world:anyone with every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE). */
export const OPEN_ACL: readonly Acl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];

/**
 * Decodes a Stat. Zxids and times are numbers (exact below 2^53, as the native driver gives
 * them); `ephemeralOwner` is hex without leading zeros, '0' for none, like the session id.
 */
export function readStat(reader: JuteReader): Stat {
  const czxid = reader.long();
  const mzxid = reader.long();
  const ctime = reader.long();
  const mtime = reader.long();
  const version = reader.int();
  const cversion = reader.int();
  const aversion = reader.int();
  const ephemeralOwner = readOwner(reader);
  const dataLength = reader.int();
  const numChildren = reader.int();
  const pzxid = reader.long();
  return {
    czxid,
    mzxid,
    pzxid,
    ctime: new Date(ctime),
    mtime: new Date(mtime),
    version,
    cversion,
    aversion,
    ephemeralOwner,
    dataLength,
    numChildren,
  };
}

function readOwner(reader: JuteReader): string {
  const { buf, pos } = reader;
  if (pos + 8 <= reader.end && buf.readInt32BE(pos) === 0 && buf.readInt32BE(pos + 4) === 0) {
    reader.pos = pos + 8;
    return '0';
  }
  return reader.longHex();
}

/** Encoded size of an ACL vector, with the UTF-8 lengths of its strings appended to `lengths`. */
export function aclBytes(acl: readonly Acl[], lengths: number[]): number {
  let size = 4;
  for (const entry of acl) {
    const scheme = utf8Length(entry.scheme);
    const id = utf8Length(entry.id);
    lengths.push(scheme, id);
    size += 12 + scheme + id;
  }
  return size;
}

/** Writes an ACL vector sized by `aclBytes` (its lengths start at `lengths[from]`). */
export function writeAcl(
  writer: JuteWriter,
  acl: readonly Acl[],
  lengths: readonly number[],
  from = 0,
): void {
  writer.int(acl.length);
  for (let i = 0; i < acl.length; i++) {
    writer.int(acl[i].perms);
    writer.string(acl[i].scheme, lengths[from + 2 * i]);
    writer.string(acl[i].id, lengths[from + 2 * i + 1]);
  }
}

export function readAcl(reader: JuteReader): Acl[] {
  const count = reader.count(12);
  const acl: Acl[] = [];
  for (let i = 0; i < count; i++) {
    const perms = reader.int();
    const scheme = reader.requiredString('an ACL scheme');
    const id = reader.requiredString('an ACL id');
    acl.push({ perms, scheme, id });
  }
  return acl;
}
