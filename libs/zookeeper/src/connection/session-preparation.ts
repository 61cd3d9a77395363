import { DriverSession } from '../driver/driver-session.interface.js';
import { CreateMode } from './create-mode.enum.js';
import { isExistsFailure } from './lost-replies.js';
import { AuthInfo } from './zookeeper-types.js';

/** What every new session gets before it is announced: the credentials, then the namespace. */
export async function prepareSession(
  session: DriverSession,
  auth: readonly AuthInfo[],
  namespace: string,
): Promise<void> {
  await Promise.all(auth.map(({ scheme, credentials }) => session.addAuth(scheme, credentials)));
  if (!namespace) return;
  const segments = namespace.split('/').filter(Boolean);
  for (let depth = 1; depth <= segments.length; depth++) {
    await session
      .create(`/${segments.slice(0, depth).join('/')}`, Buffer.alloc(0), CreateMode.PERSISTENT)
      .catch((failure) => {
        if (!isExistsFailure(failure)) throw failure;
      });
  }
}
