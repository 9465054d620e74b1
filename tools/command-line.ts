/**
 * The command lines of the project's tools (`npm run load`, `npm run review`, `npm run plan`), one way:
 * - options declared once (type, default, help text) and parsed by Node's `util.parseArgs` with
 *   `strict: true` (https://nodejs.org/api/util.html#utilparseargsconfig): an unknown option, a missing value,
 *   a value given to a switch or a stray argument is refused;
 * - `--help` (`-h`) printed from the same declarations, exit 0;
 * - numbers decimal only (`decimal()`);
 * - every refusal one line naming the option, `<command>: <message>`, exit 1;
 * - an unexpected error one line too, its stack only with `--debug`.
 * Each command keeps its own exit codes; 1 is always the error.
 */
import { parseArgs, types } from 'util';

/** A bad command line: printed as one line, exit 1. */
export class UsageError extends Error {}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** How --help shows the value: `<n>`, `<name>=<url>`. Only for string options. @default '<value>' */
  readonly value?: string;
  /** Given more than once, every value is kept, in order; otherwise a second one is refused. @default false */
  readonly multiple?: boolean;
  /** A one-letter alias (`-h`). @default none */
  readonly short?: string;
  /** Used when the option is not given, and shown in --help. An option whose default depends on others says so in `help` instead. @default none */
  readonly default?: string;
  /** One line for --help. */
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<S extends OptionSpecs = OptionSpecs> {
  /** As users type it: `npm run load`. */
  readonly name: string;
  /** What starts each of its messages, before `: `. @default name */
  readonly prefix?: string;
  /** The forms of the command, one a line, after `usage: `. */
  readonly synopsis: readonly string[];
  readonly options: S;
  /** Lines after the options: exit codes, where to read more. */
  readonly epilogue: readonly string[];
  /** Arguments that are not options are refused unless the command checks them itself. @default false */
  readonly allowPositionals?: boolean;
}

/** Every command has these two; a command never declares them. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h', help: 'print this help and exit 0' },
  debug: { type: 'boolean', help: 'print the stack of an unexpected error' },
} as const satisfies OptionSpecs;

type Value<O extends OptionSpec> = O extends { type: 'boolean' } ? boolean : O extends { multiple: true } ? string[] : O extends { default: string } ? string : string | undefined;
export type Values<S extends OptionSpecs> = { -readonly [K in keyof S]: Value<S[K]> } & { help: boolean; debug: boolean };

export interface ParsedCommandLine<S extends OptionSpecs> {
  readonly values: Values<S>;
  /** The options that were given (a default is not). */
  readonly given: ReadonlySet<string>;
  /** What `util.parseArgs` saw, in order, for commands that check positionals themselves. */
  readonly tokens: readonly Token[];
}

export type Token =
  | { readonly kind: 'option'; readonly name: string; readonly rawName: string; readonly index: number; readonly value?: string; readonly inlineValue?: boolean }
  | { readonly kind: 'positional'; readonly index: number; readonly value: string }
  | { readonly kind: 'option-terminator'; readonly index: number };

const allOptions = (command: CommandSpec): OptionSpecs => ({ ...command.options, ...COMMON_OPTIONS });

const parseArgsOptions = (specs: OptionSpecs) =>
  Object.fromEntries(Object.entries(specs).map(([name, s]) => [name, { type: s.type, ...(s.multiple ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) }]));

const helpHint = (command: CommandSpec) => `${command.name} -- --help lists the options`;

/**
 * Why strict parsing refused `argv`, as one line naming the option: util.parseArgs' own messages name it
 * too, but suggest `--` to pass an option as a positional, which none of these commands takes. A second,
 * non-strict pass gives the tokens to say it plainly.
 */
function refusal(command: CommandSpec, argv: readonly string[], err: Error & { code?: string }): UsageError {
  const specs = allOptions(command);
  const { tokens } = parseArgs({ args: [...argv], options: parseArgsOptions(specs), strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional' && err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      return new UsageError(`unexpected argument ${JSON.stringify(t.value)} (options start with --; ${helpHint(command)})`);
    }
    if (t.kind !== 'option') continue;
    const spec = specs[t.name];
    if (!spec) return new UsageError(`unknown option ${t.rawName} (${helpHint(command)})`);
    if (spec.type === 'boolean' && t.value !== undefined) return new UsageError(`${t.rawName} takes no value (got ${t.rawName}=${t.value})`);
    if (spec.type === 'string' && t.value === undefined) return new UsageError(`${t.rawName} needs a value`);
    if (spec.type === 'string' && !t.inlineValue && t.value?.startsWith('-') && err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      return new UsageError(`${t.rawName} needs a value; to give one that starts with "-", write ${t.rawName}=${t.value}`);
    }
  }
  return new UsageError(err.message.split('\n')[0]);
}

/** `argv` (what follows `npm run <script> --`) against the command's declarations; a refusal is a UsageError. */
export function parseCommandLine<S extends OptionSpecs>(command: CommandSpec<S>, argv: readonly string[]): ParsedCommandLine<S> {
  const specs = allOptions(command);
  let parsed: { values: Record<string, string | boolean | string[] | undefined>; tokens?: Token[] };
  try {
    parsed = parseArgs({ args: [...argv], options: parseArgsOptions(specs), strict: true, allowPositionals: command.allowPositionals ?? false, tokens: true }) as typeof parsed;
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS_')) throw refusal(command, argv, err as Error);
    throw err;
  }
  const tokens = parsed.tokens ?? [];
  const given = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (given.has(t.name) && !specs[t.name].multiple && specs[t.name].type === 'string') throw new UsageError(`--${t.name} is given twice; give it once`);
    given.add(t.name);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const v = parsed.values[name];
    values[name] = spec.type === 'boolean' ? v === true : spec.multiple ? ((v as string[] | undefined) ?? []) : ((v as string | undefined) ?? spec.default);
  }
  return { values: values as Values<S>, given, tokens };
}

/** `--help` or `-h` anywhere before a `--`: the help wins over any other problem of the line. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/** What --help prints: the synopsis, every option with its value, help and default, then the epilogue. */
export function usage(command: CommandSpec): string {
  const rows = Object.entries(allOptions(command)).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.value ?? '<value>'}` : ''}`;
    const repeat = s.multiple ? ' (repeatable)' : '';
    return [flag, `${s.help}${repeat}${s.default !== undefined ? ` (default: ${s.default})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    ...command.synopsis.map((line, i) => `${i === 0 ? 'usage: ' : '       '}${line}`),
    '',
    'options:',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    '',
    ...command.epilogue,
  ].join('\n');
}

/** A whole number (`30`) or, where fractions make sense, a decimal fraction (`12.5`). Nothing else: no sign but `-`, no exponent, hex, leading zero, space, or dot without digits on both sides. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/**
 * A decimal number for option `--<option>`, within `min` … `max`; with `integer`, whole numbers only (`10.0`
 * too is refused). `Number()` alone would take `0x10` (16), `1e2`, ` 5` and `5.`, which read as typos more
 * often than as intent.
 */
export function decimal(option: string, text: string, { min, max, integer }: { readonly min: number; readonly max: number; readonly integer: boolean }): number {
  const example = integer ? '30' : '30 or 12.5';
  if (!DECIMAL.test(text)) throw new UsageError(`--${option}: expected a decimal number such as ${example}, got ${JSON.stringify(text)}`);
  if (integer && text.includes('.')) throw new UsageError(`--${option}: expected a whole number, got ${text}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${option}: ${text} is outside ${min}…${max}`);
  return value;
}

/** One of `choices` for option `--<option>`. */
export function oneOf<T extends string>(option: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${option}: expected ${choices.join(' or ')}, got ${JSON.stringify(text)}`);
  return text as T;
}

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The process's own streams. */
export const PROCESS_IO: CommandIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/**
 * Runs a command's `body` and turns every way it can end into an exit code: `--help` prints the usage (0); an
 * error `expected` says it anticipated (a UsageError always) prints its message (1); any other error prints
 * one line, `<prefix>: unexpected error: <first line of its message>`, and its stack only with `--debug` (1).
 */
export async function runCommand(command: CommandSpec, argv: readonly string[], io: CommandIo, body: () => Promise<number>, expected: (err: unknown) => boolean = () => false): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(`${usage(command)}\n`);
    return 0;
  }
  const debug = argv.includes('--debug');
  try {
    return await body();
  } catch (err) {
    // isNativeError: an error made in another realm (a test's vm context) is one too, though not instanceof this Error.
    const e = types.isNativeError(err) || err instanceof Error ? err : new Error(String(err));
    const prefix = command.prefix ?? command.name;
    if (err instanceof UsageError || expected(err)) io.stderr(`${prefix}: ${e.message}\n${debug && !(err instanceof UsageError) ? `${e.stack}\n` : ''}`);
    else io.stderr(`${prefix}: unexpected error: ${e.message.split('\n')[0]}${debug ? `\n${e.stack}` : ' (--debug prints its stack)'}\n`);
    return 1;
  }
}
