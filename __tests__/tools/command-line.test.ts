/** The command-line core of `npm run load`, `npm run review` and `npm run plan`: strict parsing, --help from the declarations, decimal numbers, one-line errors. */
import { COMMON_OPTIONS, decimal, oneOf, parseCommandLine, runCommand, usage, UsageError, wantsHelp, type CommandSpec } from '../../tools/command-line';

const COMMAND = {
  name: 'npm run demo',
  synopsis: ['npm run demo -- --target <url> [options]'],
  options: {
    target: { type: 'string', value: '<url>', help: 'where to go' },
    rate: { type: 'string', value: '<n>', default: '10', help: 'how fast' },
    tag: { type: 'string', multiple: true, value: '<tag>', help: 'a label' },
    dry: { type: 'boolean', help: 'do nothing' },
  },
  epilogue: ['exit: 0 done, 1 an error'],
} as const satisfies CommandSpec;

function refusal(argv: string[], command: CommandSpec = COMMAND): string {
  try {
    parseCommandLine(command, argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(argv)}`);
}

describe('parseCommandLine', () => {
  test('values, defaults and what was given; both --name value and --name=value', () => {
    const { values, given } = parseCommandLine(COMMAND, ['--target=http://x', '--tag', 'a', '--tag=b', '--dry']);
    expect(values).toEqual({ target: 'http://x', rate: '10', tag: ['a', 'b'], dry: true, help: false, debug: false });
    expect([...given].sort()).toEqual(['dry', 'tag', 'target']);
    expect(parseCommandLine(COMMAND, []).values).toEqual({ target: undefined, rate: '10', tag: [], dry: false, help: false, debug: false });
  });

  test.each([
    [['--targt', 'x'], 'unknown option --targt (npm run demo -- --help lists the options)'],
    [['-t'], 'unknown option -t (npm run demo -- --help lists the options)'],
    [['--target'], '--target needs a value'],
    [['--rate', '-5'], '--rate needs a value; to give one that starts with "-", write --rate=-5'],
    [['--rate', '--dry'], '--rate needs a value; to give one that starts with "-", write --rate=--dry'],
    [['--dry=no'], '--dry takes no value (got --dry=no)'],
    [['stray'], 'unexpected argument "stray" (options start with --; npm run demo -- --help lists the options)'],
    [['--', '--dry'], 'unexpected argument "--dry" (options start with --; npm run demo -- --help lists the options)'],
    [['--rate', '1', '--rate=2'], '--rate is given twice; give it once'],
  ])('%p is refused in one line naming the option', (argv, message) => {
    expect(refusal(argv)).toBe(message);
  });

  test('a value starting with "-" is taken when written --name=value', () => {
    expect(parseCommandLine(COMMAND, ['--rate=-5']).values.rate).toBe('-5');
  });

  test('a command that takes positionals gets them, with where they stood', () => {
    const { tokens } = parseCommandLine({ ...COMMAND, allowPositionals: true }, ['--target', 'a', 'b']);
    expect(tokens.map((t) => [t.kind, t.index])).toEqual([
      ['option', 0],
      ['positional', 2],
    ]);
  });
});

describe('--help', () => {
  test('is generated from the declarations: synopsis, every option with its value, help, default and repeatability, then the epilogue', () => {
    expect(usage(COMMAND)).toBe(
      [
        'usage: npm run demo -- --target <url> [options]',
        '',
        'options:',
        '      --target <url>  where to go',
        '      --rate <n>      how fast (default: 10)',
        '      --tag <tag>     a label (repeatable)',
        '      --dry           do nothing',
        `  -h, --help          ${COMMON_OPTIONS.help.help}`,
        `      --debug         ${COMMON_OPTIONS.debug.help}`,
        '',
        'exit: 0 done, 1 an error',
      ].join('\n'),
    );
  });

  test('counts anywhere before a --', () => {
    expect([wantsHelp(['--rate', 'x', '-h']), wantsHelp(['--help']), wantsHelp(['--', '--help']), wantsHelp(['--helpful'])]).toEqual([true, true, false, false]);
  });
});

describe('decimal numbers', () => {
  const whole = { min: 0, max: 100, integer: true };
  const fraction = { min: 0, max: 100, integer: false };

  test.each(['0', '7', '42', '100'])('%p is a whole number', (text) => {
    expect(decimal('n', text, whole)).toBe(Number(text));
  });
  test.each(['0.5', '12.25', '99.0'])('%p is a fraction where fractions are allowed', (text) => {
    expect(decimal('n', text, fraction)).toBe(Number(text));
  });
  test.each(['0x10', '0X10', '1e2', '1E2', ' 5', '5 ', '5.', '.5', '+5', '05', '00', '0b1', '0o7', 'Infinity', 'NaN', '1_0', '1,5', '', '-', '--5', '5-'])('%p is refused, naming the option', (text) => {
    expect(() => decimal('n', text, fraction)).toThrow(new UsageError(`--n: expected a decimal number such as 30 or 12.5, got ${JSON.stringify(text)}`));
  });
  test('a fraction where a whole number is expected, and a number out of range, are refused naming the option', () => {
    expect(() => decimal('n', '1.5', whole)).toThrow('--n: expected a whole number, got 1.5');
    expect(() => decimal('n', '10.0', whole)).toThrow('--n: expected a whole number, got 10.0');
    expect(() => decimal('n', '101', whole)).toThrow('--n: 101 is outside 0…100');
    expect(() => decimal('n', '-1', whole)).toThrow('--n: -1 is outside 0…100');
    expect(() => decimal('n', '100.5', fraction)).toThrow('--n: 100.5 is outside 0…100');
  });
  test('oneOf takes a listed word only', () => {
    expect(oneOf('order', 'mixed', ['mixed', 'sequential'])).toBe('mixed');
    expect(() => oneOf('order', 'Mixed', ['mixed', 'sequential'])).toThrow('--order: expected mixed or sequential, got "Mixed"');
  });
});

describe('runCommand', () => {
  const run = async (argv: string[], body: () => Promise<number>, expected?: (err: unknown) => boolean) => {
    let stdout = '';
    let stderr = '';
    const code = await runCommand(COMMAND, argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) }, body, expected);
    return { code, stdout, stderr };
  };
  const never = async (): Promise<number> => {
    throw new Error('the body ran');
  };

  test('--help prints the usage and runs nothing: exit 0', async () => {
    expect(await run(['--nonsense', '-h'], never)).toEqual({ code: 0, stdout: `${usage(COMMAND)}\n`, stderr: '' });
  });

  test('the body’s exit code is the command’s', async () => {
    expect((await run([], async () => 2)).code).toBe(2);
  });

  test('a usage error: its message, one line, exit 1', async () => {
    expect(await run([], () => Promise.reject(new UsageError('--rate: bad')))).toEqual({ code: 1, stdout: '', stderr: 'npm run demo: --rate: bad\n' });
  });

  test('an error the command expects: its message, with its stack only under --debug', async () => {
    const expected = (err: unknown) => err instanceof RangeError;
    expect(await run([], () => Promise.reject(new RangeError('terraform is not on PATH')), expected)).toEqual({ code: 1, stdout: '', stderr: 'npm run demo: terraform is not on PATH\n' });
    expect((await run(['--debug'], () => Promise.reject(new RangeError('terraform is not on PATH')), expected)).stderr).toMatch(/^npm run demo: terraform is not on PATH\nRangeError: terraform is not on PATH\n\s+at /);
  });

  test('an unexpected error: one line, the first of its message, and how to see more; --debug shows the stack', async () => {
    const boom = () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'x')\nmore detail"));
    expect(await run([], boom)).toEqual({ code: 1, stdout: '', stderr: "npm run demo: unexpected error: Cannot read properties of undefined (reading 'x') (--debug prints its stack)\n" });
    const debug = await run(['--debug'], boom);
    expect(debug.stderr).toMatch(/^npm run demo: unexpected error: Cannot read properties of undefined \(reading 'x'\)\nTypeError: Cannot read[^]*\n\s+at /);
    // Not an Error at all.
    expect((await run([], () => Promise.reject('a string'))).stderr).toBe('npm run demo: unexpected error: a string (--debug prints its stack)\n');
  });
});
