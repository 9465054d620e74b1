import { LOG_RETENTION_DAYS, type IntRange } from '../aws/limits';

export { LOG_RETENTION_DAYS };

/** Thrown by a module whose props cannot be deployed; the message names the construct, the prop and what is allowed. */
export class PropsError extends Error {
  constructor(construct: string, field: string, detail: string) {
    super(`${construct}: ${field} ${detail}`);
    this.name = 'PropsError';
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function requireIntIn(construct: string, field: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new PropsError(construct, field, `must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** Throws unless `value` is an integer in the range AWS accepts (aws/limits.ts). */
export function requireIntInRange(construct: string, field: string, value: number | undefined, range: IntRange): void {
  requireIntIn(construct, field, value, range.min, range.max);
}

/** Throws unless `value` is a non-empty string (a token counts: its value is known at apply time). */
export function requireNonEmpty(construct: string, field: string, value: string | undefined): void {
  if (typeof value !== 'string' || value.trim() === '') throw new PropsError(construct, field, 'must be a non-empty string');
}

/** Throws unless `value` is a non-empty list. */
export function requireNonEmptyList(construct: string, field: string, value: readonly unknown[] | undefined, min = 1): void {
  if (!Array.isArray(value) || value.length < min) throw new PropsError(construct, field, `must list at least ${min} item${min === 1 ? '' : 's'}, got ${value ? value.length : 'none'}`);
}

/** Throws unless `value` is one of CloudWatch Logs' allowed retention values. */
export function requireLogRetention(construct: string, field: string, value: number): void {
  if (!LOG_RETENTION_DAYS.includes(value)) throw new PropsError(construct, field, `must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${value}`);
}
