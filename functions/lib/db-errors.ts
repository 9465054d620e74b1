/**
 * The database error taxonomy the functions act on: which failures a new connection may fix (retry),
 * which mean the database is out of connections (answer 503 at once), which are refused credentials,
 * and which ran out of time. mysql2 reports server errors with MySQL's symbolic `code`
 * (https://dev.mysql.com/doc/mysql-errors/8.4/en/server-error-reference.html) and network errors with
 * Node's `code` (https://nodejs.org/api/errors.html#common-system-errors).
 */

import type { DbUnavailableReason } from '../../contracts';

export type { DbUnavailableReason } from '../../contracts';

/** The database cannot be reached, is saturated, or did not answer within the request's deadline: answer 503. */
export class DbUnavailableError extends Error {
  constructor(
    readonly cause: unknown,
    readonly reason: DbUnavailableReason = 'unreachable',
  ) {
    super(`database unavailable (${reason}): ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DbUnavailableError';
  }
}

/** The database refused the credentials twice (the second time fresh ones): a misconfiguration, answer 500. */
export class DbAuthError extends Error {
  constructor(readonly cause: unknown) {
    super(`database refused the credentials: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'DbAuthError';
  }
}

/** An attempt outlived the request's deadline (connecting, fetching credentials or the statement itself). */
export class DbDeadlineError extends Error {
  readonly code = 'DB_DEADLINE_EXCEEDED';
  constructor(readonly budgetMs: number) {
    super(`no answer from the database within the request's remaining budget of ${budgetMs} ms`);
    this.name = 'DbDeadlineError';
  }
}


const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_NET_READ_ERROR',
  'ER_NET_READ_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_WRITE_INTERRUPTED',
]);

const SATURATION_CODES = new Set([
  'ER_CON_COUNT_ERROR', // server: too many connections
  'ER_TOO_MANY_USER_CONNECTIONS', // user's MAX_USER_CONNECTIONS
  'ER_USER_LIMIT_REACHED', // user's hourly resource limits
]);

/** Error number RDS Proxy answers with when it cannot borrow a database connection in time. */
const PROXY_BORROW_TIMEOUT_ERRNO = 9501;

const AUTH_CODES = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR']);

type ErrorShape = { code?: unknown; errno?: unknown; fatal?: unknown; message?: unknown };

/** True when the database (or RDS Proxy in front of it) is out of connections: retrying only adds load. */
export function isSaturationError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as ErrorShape;
  if (typeof e.code === 'string' && SATURATION_CODES.has(e.code)) return true;
  if (e.errno === PROXY_BORROW_TIMEOUT_ERRNO) return true;
  return typeof e.message === 'string' && /timed-out waiting to acquire database connection/i.test(e.message);
}

/** True when the server refused the credentials (expired token, rotated secret, or a missing grant). */
export function isAuthError(err: unknown): boolean {
  const code = (err as ErrorShape | null)?.code;
  return typeof code === 'string' && AUTH_CODES.has(code);
}

/** True when the attempt ran out of the time it was given (our timer, or mysql2's inactivity timeout when a caller sets one). */
export function isDeadlineError(err: unknown): boolean {
  const code = (err as ErrorShape | null)?.code;
  return code === 'DB_DEADLINE_EXCEEDED' || code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}

/**
 * True for errors where a new connection may succeed: network, server gone, connection killed,
 * TLS. Saturation, access denial and deadline errors are classified separately (see above).
 */
export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (isSaturationError(err) || isAuthError(err) || isDeadlineError(err)) return false;
  const e = err as ErrorShape;
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || e.code.startsWith('ERR_TLS') || e.code.includes('CERT') || e.code.startsWith('ERR_SSL'))) return true;
  return e.fatal === true;
}
