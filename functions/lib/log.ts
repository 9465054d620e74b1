/** Structured JSON logging: one object per line on stdout (CloudWatch Logs keeps each line as one event). */

export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createLogger(sink: LogSink = (line) => process.stdout.write(line + '\n')): Logger {
  const emit = (level: string, msg: string, fields?: LogFields) => {
    sink(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

/** The parts of an error that are safe and useful in a log line (never the SQL values). */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err)) {
    const e = err as Error & { code?: unknown; errno?: unknown; cause?: unknown };
    // No instanceof for the cause: errors from another realm (Node core, test sandboxes) fail it.
    const cause = typeof e.cause === 'object' && e.cause !== null ? (e.cause as { code?: unknown; errno?: unknown }) : undefined;
    return { error: e.message, errorName: e.name, errorCode: e.code ?? cause?.code ?? undefined, errno: e.errno ?? cause?.errno ?? undefined };
  }
  return { error: String(err) };
}
