/**
 * Structured JSON logging through Powertools for AWS Lambda Logger: one object per line (CloudWatch Logs
 * keeps each line as one event). Powertools writes `info` to stdout and `warn`/`error` to stderr; Lambda
 * sends both streams to the function's log group.
 *
 * A custom log formatter keeps the line layout operators and metric filters read: `time`, `level`
 * (lower case), `msg`, `service`, then the caller's fields at the top level, where the EMF `_aws`
 * directive and its metric values must be.
 * https://docs.aws.amazon.com/powertools/typescript/latest/core/logger/ (custom log formatter)
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

export type LogFields = Record<string, unknown>;
export type LogSink = (line: string) => void;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /**
   * The `service` key of every line (Powertools' `serviceName`). Lines that carry EMF metrics need it to be
   * the metrics' `service` dimension value, so callers pass the same name to both.
   */
  readonly service: string;
  /** Where lines go instead of stdout/stderr (tests, benchmarks); default: Powertools' own console. */
  readonly sink?: LogSink;
}

class LineFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, fields: LogAttributes): LogItem {
    return new LogItem({
      attributes: { time: attributes.timestamp.toISOString(), level: attributes.logLevel.toLowerCase(), msg: attributes.message, service: attributes.serviceName, ...fields },
    });
  }
}

/** Powertools Logger whose printed lines go to a function instead of the console. */
class SinkLogger extends PowertoolsLogger {
  sink?: LogSink;

  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.sink) return super.printLog(logLevel, log);
    log.prepareForPrint();
    this.sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
}

export function createLogger(options: LoggerOptions): Logger {
  // INFO whatever POWERTOOLS_LOG_LEVEL says: the `info` request line carries the request's metrics, and a
  // higher level would silently stop them (and the alarms that watch them).
  const logger = new SinkLogger({ serviceName: options.service, logLevel: 'INFO', logFormatter: new LineFormatter() });
  logger.sink = options.sink;
  // `service` is the logger's own key: Powertools drops it from fields, with a warning line. The EMF fields
  // carry it as their dimension; when it names this logger's service the line already has it. Any other
  // value goes on to Powertools, whose warning shows the mismatch.
  const emit = (write: (msg: string, fields: LogFields) => void) => (msg: string, fields?: LogFields) => {
    if (fields?.service !== options.service) return write(msg, fields ?? {});
    const { service: _sameAsLine, ...rest } = fields;
    write(msg, rest);
  };
  return { info: emit((m, f) => logger.info(m, f)), warn: emit((m, f) => logger.warn(m, f)), error: emit((m, f) => logger.error(m, f)) };
}

/** The service name the stacks set (POWERTOOLS_SERVICE_NAME), else the function's name in AWS, else `localDefault`. */
export function serviceNameFrom(env: Record<string, string | undefined>, localDefault: string): string {
  return env.POWERTOOLS_SERVICE_NAME?.trim() || env.AWS_LAMBDA_FUNCTION_NAME?.trim() || localDefault;
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
