import { JuteReader } from '../jute/jute-reader.js';
import { ReplyKind } from '../pending-queue.js';
import { readAcl, readStat } from './data-records.js';
import { decodeMultiResponse } from './multi-codec.js';

const EMPTY = Buffer.alloc(0);

/** Decodes the body of a successful reply by the kind of its request. */
export function decodeReply(
  kind: number,
  reader: JuteReader,
  opCount: number,
  clientPath: (serverPath: string) => string,
): unknown {
  switch (kind) {
    case ReplyKind.VOID:
      return undefined;
    case ReplyKind.PATH:
      return clientPath(reader.requiredString('the created path'));
    case ReplyKind.PATH_STAT: {
      const path = clientPath(reader.requiredString('the created path'));
      readStat(reader);
      return path;
    }
    case ReplyKind.STAT:
      return readStat(reader);
    case ReplyKind.DATA: {
      const data = reader.buffer() ?? EMPTY;
      return { data, stat: readStat(reader) };
    }
    case ReplyKind.CHILDREN: {
      const children = reader.stringVector();
      return { children, stat: readStat(reader) };
    }
    case ReplyKind.ACL: {
      const acl = readAcl(reader);
      return { acl, stat: readStat(reader) };
    }
    case ReplyKind.MULTI:
      return decodeMultiResponse(reader, opCount, clientPath);
    default:
      return undefined;
  }
}
