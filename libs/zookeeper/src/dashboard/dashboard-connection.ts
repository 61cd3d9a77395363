import { ZookeeperConnection } from '../connection/zookeeper-connection.js';
import { ConnectionView } from './dashboard-snapshot.js';

/** The connection's state and session, with the ensemble as last asked (four-letter words). */
export function connectionView(
  connection: ZookeeperConnection,
  ensemble: ConnectionView['ensemble'],
): ConnectionView {
  const c = connection;
  const view: ConnectionView = {
    name: c.name,
    state: c.state,
    driver: c.driver,
    connectString: c.connectString,
    namespace: c.namespace || '/',
  };
  try {
    const session = c.session;
    view.sessionId = session.id;
    view.negotiatedTimeoutMs = session.timeoutMs;
  } catch {
    // no session yet
  }
  if (ensemble) {
    view.ensemble = ensemble;
    view.leader = ensemble.find((server) => server.mode === 'leader')?.server;
  }
  return view;
}
