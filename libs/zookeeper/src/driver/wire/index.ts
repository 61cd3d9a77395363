export { wireDriver } from './wire-driver.js';
export { DEFAULT_MAX_FRAME_BYTES, WireSession } from './wire-session.js';
export { parseConnectString } from './host-list.js';
