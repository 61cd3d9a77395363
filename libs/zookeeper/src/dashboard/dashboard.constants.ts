export const ZOOKEEPER_DASHBOARD_OPTIONS = Symbol('ZOOKEEPER_DASHBOARD_OPTIONS');
export const DEFAULT_DASHBOARD_PATH = '/zookeeper';
/** Dead letters listed by one request. */
export const DEAD_LETTER_PAGE = 100;
