import { tmpdir } from 'os';
import * as path from 'path';
import { STACK_OUTPUTS, type DirectArmDatabase } from '../../contracts';
import { DEFAULT_COOLDOWN_SECONDS, DEFAULTS, MAX_LAMBDA_SECONDS, MAX_RATE, MAX_SECONDS, parseOptions, runSeconds } from '../../tools/load/options';
import { deployedOutputs } from '../../tools/load/outputs';
import { OptionError } from '../../tools/load/errors';
import { main } from '../../tools/load/load';

/** `npm run load` in this process: exit code and what it printed. */
async function cli(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

const arms = ['--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=https://zyx987wvut.execute-api.eu-west-1.amazonaws.com/'];

function error(argv: string[]): string {
  try {
    parseOptions(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(OptionError);
    return (err as Error).message;
  }
  throw new Error(`parseOptions accepted ${argv.join(' ')}`);
}

describe('npm run load options', () => {
  test('defaults apply to every option not given; arm URLs lose their trailing slash', () => {
    const o = parseOptions(arms);
    expect(o).toEqual({
      arms: [
        { name: 'proxy', url: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com' },
        { name: 'direct', url: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com' },
      ],
      path: DEFAULTS.path,
      tenants: DEFAULTS.tenants,
      rate: DEFAULTS.rate,
      ramp: DEFAULTS.ramp,
      duration: DEFAULTS.duration,
      // Arms named by --arm: whether they share a database is unknown, so each runs alone, and the run says why.
      order: 'sequential',
      cooldown: DEFAULTS.cooldown,
      orderNote: expect.stringMatching(/^order sequential: --arm does not say whether the arms share a database/),
      out: DEFAULTS.out,
      ensure: [],
      runner: { on: 'local' },
    });
  });

  test('every option is read, in both --name value and --name=value forms', () => {
    const o = parseOptions([...arms, '--arm=cache-off=http://127.0.0.1:3000/pre', '--path', '/_/hits', '--tenants=7', '--rate', '12.5', '--ramp', '30', '--duration=90', '--order', 'sequential', '--cooldown=0', '--out', 'x', '--ensure', 'p99<800', '--ensure=direct:failures<1%']);
    expect(o.arms.map((a) => a.name)).toEqual(['proxy', 'direct', 'cache-off']);
    expect(o.arms[2].url).toBe('http://127.0.0.1:3000/pre');
    expect([o.path, o.tenants, o.rate, o.ramp, o.duration, o.order, o.cooldown, o.out, o.orderNote]).toEqual(['/_/hits', 7, 12.5, 30, 90, 'sequential', 0, 'x', undefined]);
    expect(o.ensure.map((t) => [t.arm, t.metric, t.op, t.value])).toEqual([
      [undefined, 'p99', '<', 800],
      ['direct', 'failures%', '<', 1],
    ]);
    expect(parseOptions([...arms, '--order', 'mixed'])).toMatchObject({ order: 'mixed', cooldown: 0 });
    expect(parseOptions([...arms, '--order', 'mixed']).orderNote).toBeUndefined();
  });

  test.each([
    [/--arm: name at least one arm/, []],
    [/--arm "proxy": expected <name>=<url>/, ['--arm', 'proxy']],
    [/--arm .*a-z, 0-9 and -/, ['--arm', 'Proxy=http://127.0.0.1:1']],
    [/--arm .*not starting with -/, ['--arm=-a=http://127.0.0.1:1']],
    [/--arm: the name a is used twice/, ['--arm', 'a=http://127.0.0.1:1', '--arm', 'a=http://127.0.0.1:2']],
    [/--arm a: the URL must be http/, ['--arm', 'a=ftp://h/']],
    [/--arm a: .*query/, ['--arm', 'a=http://h/?x=1']],
    [/--arm a: .* is not a URL/, ['--arm', 'a=not a url']],
    [/^--rate: expected a decimal number such as 30 or 12\.5, got "fast"$/, [...arms, '--rate', 'fast']],
    [/--rate: 0 is outside/, [...arms, '--rate', '0']],
    [/--rate: .* is outside/, [...arms, '--rate', String(MAX_RATE + 1)]],
    [/--duration: expected a whole number, got 1\.5/, [...arms, '--duration', '1.5']],
    [/--duration: expected a whole number, got 10\.0/, [...arms, '--duration', '10.0']],
    [/^--ramp needs a value; to give one that starts with "-", write --ramp=-1$/, [...arms, '--ramp', '-1']],
    [/--ramp: -1 is outside/, [...arms, '--ramp=-1']],
    [/--ramp \+ --duration: .* more than/, [...arms, '--order', 'mixed', '--ramp', String(MAX_SECONDS), '--duration', '1']],
    [/--tenants: 0 is outside/, [...arms, '--tenants', '0']],
    [/--path "tenants\/\{tenant\}"/, [...arms, '--path', 'tenants/{tenant}']],
    [/--path/, [...arms, '--path', '/a?b=1']],
    [/--path/, [...arms, '--path', '/{user}/x']],
    [/--out/, [...arms, '--out', ' ']],
    [/^unknown option --bogus \(npm run load -- --help lists the options\)$/, [...arms, '--bogus', '1']],
    [/^unknown option -x /, [...arms, '-x']],
    [/^unexpected argument "stray"/, [...arms, 'stray']],
    [/^unexpected argument "x"/, [...arms, '--', 'x']],
    [/^--rate needs a value$/, [...arms, '--rate']],
    [/^--rate is given twice; give it once$/, [...arms, '--rate', '1', '--rate', '2']],
    [/^--cloudwatch takes no value \(got --cloudwatch=yes\)$/, [...arms, '--cloudwatch=yes']],
    [/--ensure p99>800: p99 is an upper bound/, [...arms, '--ensure', 'p99>800']],
    [/^--order: expected mixed or sequential, got "random"$/, [...arms, '--order', 'random']],
    [/^--cooldown is for --order sequential, not --order mixed$/, [...arms, '--order', 'mixed', '--cooldown', '5']],
    [/--cooldown: expected a whole number/, [...arms, '--cooldown', '0.5']],
    [/^--on: expected local or lambda or fargate, got "ec2"$/, [...arms, '--on', 'ec2']],
    [/--on lambda needs --count/, [...arms, '--on', 'lambda', '--region', 'eu-west-1']],
    [/--on fargate needs --region/, [...arms, '--on', 'fargate', '--count', '2']],
    [/--region: "Ireland" is not an AWS region/, [...arms, '--on', 'fargate', '--count', '2', '--region', 'Ireland']],
    [/--on fargate: Artillery \d+\.\d+\.\d+ runs Fargate workers only in .*us-east-1.*, not ap-southeast-5/, [...arms, '--on', 'fargate', '--count', '2', '--region', 'ap-southeast-5']],
    [/--count: 0 is outside/, [...arms, '--on', 'lambda', '--count', '0', '--region', 'eu-west-1']],
    [/--count: expected a decimal number/, [...arms, '--on', 'lambda', '--count', '0x2', '--region', 'eu-west-1']],
    [/--count is for --on lambda or --on fargate/, [...arms, '--count', '2']],
    [/--region is for --on lambda\|fargate .* or --cloudwatch/, [...arms, '--region', 'eu-west-1']],
    [/--db-instance is for --cloudwatch/, [...arms, '--db-instance', 'db']],
    [/--outputs and --env go together/, [...arms, '--outputs', 'f.json']],
    [/--function "nobody=fn": expected <arm>=/, [...arms, '--cloudwatch', '--function', 'nobody=fn']],
  ])('refused with %p', (message, argv) => {
    expect(error(argv as string[])).toMatch(message);
  });

  describe('numbers are decimal only', () => {
    // Each of these Number() would take (0x10 = 16, 1e2 = 100, " 5" = 5, "5." = 5, ".5" = 0.5, "+5" = 5, "05" = 5).
    test.each(['0x10', '1e2', ' 5', '5 ', '5.', '.5', '+5', '05', '0b11', '0o7', 'Infinity', '1_000', '٣'])('--rate %p is refused, naming --rate', (text) => {
      expect(error([...arms, '--rate', text])).toBe(`--rate: expected a decimal number such as 30 or 12.5, got ${JSON.stringify(text)}`);
    });
    test.each([
      ['5', 5],
      ['12.5', 12.5],
      ['0.5', undefined],
      ['1.0', 1],
      [String(MAX_RATE), MAX_RATE],
    ])('--rate %p', (text, value) => {
      if (value === undefined) expect(error([...arms, '--rate', text])).toMatch(/--rate: 0\.5 is outside 1…/);
      else expect(parseOptions([...arms, '--rate', text]).rate).toBe(value);
    });
  });

  test('a sequential run counts every arm and cool-down against the 6-hour bound; a mixed run only ramp + duration', () => {
    const half = String(MAX_SECONDS / 2);
    // Two arms in turn: 2 × half + the cool-down is over the bound; together, the same options fit.
    expect(error([...arms, '--order', 'sequential', '--duration', half, '--cooldown', '1'])).toBe(`--ramp, --duration and --cooldown: 2 arms in turn take 2 × (0 + ${half}) + 1 × 1 = ${MAX_SECONDS + 1} s, more than ${MAX_SECONDS} s`);
    expect(parseOptions([...arms, '--order', 'sequential', '--duration', half, '--cooldown', '0'])).toMatchObject({ order: 'sequential', duration: MAX_SECONDS / 2, cooldown: 0 });
    expect(parseOptions([...arms, '--order', 'mixed', '--duration', String(MAX_SECONDS)]).duration).toBe(MAX_SECONDS);
  });

  test('--on lambda refuses a run Lambda would cut at 15 minutes; --on fargate does not', () => {
    const tooLong = ['--ramp', '60', '--duration', String(MAX_LAMBDA_SECONDS - 59)];
    expect(error([...arms, '--on', 'lambda', '--count', '4', '--region', 'eu-west-1', ...tooLong])).toMatch(/--on lambda: .*15 minutes.*--on fargate/);
    expect(parseOptions([...arms, '--on', 'lambda', '--count', '4', '--region', 'eu-west-1', '--ramp', '60', '--duration', String(MAX_LAMBDA_SECONDS - 60)]).runner).toEqual({ on: 'lambda', count: 4, region: 'eu-west-1' });
    expect(parseOptions([...arms, '--on', 'fargate', '--count', '4', '--region', 'eu-west-1', ...tooLong]).runner).toEqual({ on: 'fargate', count: 4, region: 'eu-west-1' });
    // Lambda workers run in any region (run-lambda's --region has no list), unlike Fargate's above.
    expect(parseOptions([...arms, '--on', 'lambda', '--count', '1', '--region', 'ap-southeast-5']).runner).toEqual({ on: 'lambda', count: 1, region: 'ap-southeast-5' });
  });

  test('--on lambda: each arm of a sequential run gets its own workers, so the 14 minutes bound each arm, not the sum', () => {
    const each = String(MAX_LAMBDA_SECONDS);
    const o = parseOptions([...arms, '--order', 'sequential', '--duration', each, '--on', 'lambda', '--count', '2', '--region', 'eu-west-1']);
    expect(runSeconds(o)).toBeGreaterThan(MAX_LAMBDA_SECONDS);
    expect(error([...arms, '--order', 'sequential', '--duration', String(MAX_LAMBDA_SECONDS + 1), '--on', 'lambda', '--count', '2', '--region', 'eu-west-1'])).toMatch(/--on lambda: --ramp \+ --duration is 841 s/);
  });

  test('the CLI exits 1 on a bad option, naming it, in one line', async () => {
    // Were it accepted, this would be a one-second run against a closed loopback port, nothing more.
    const { code, stdout, stderr } = await cli(['--arm', 'a=http://127.0.0.1:9', '--duration', '1', '--out', path.join(tmpdir(), `load-options-${process.pid}`), '--rate', '0x10']);
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: 'npm run load: --rate: expected a decimal number such as 30 or 12.5, got "0x10"\n' });
  });

  test('an --out that cannot be a directory exits 1, naming --out, before Artillery starts', async () => {
    const { code, stderr } = await cli(['--arm', 'a=http://127.0.0.1:9', '--duration', '1', '--out', `${__filename}/report`]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^npm run load: --out .*report: ENOTDIR[^\n]*\n$/);
  });
});

describe('arms, their databases and CloudWatch names from a cdktf outputs file', () => {
  const { api: API, data: DATA } = STACK_OUTPUTS;
  /** A deployment as cdktf writes its outputs; `database`: the direct arm's (`own`, `shared`, or no such output: a deployment from before it existed). */
  const outputsOf = (database?: DirectArmDatabase) => ({
    'network-dev': { vpc_id: 'vpc-1' },
    'data-dev': {
      [DATA.databaseIdentifier]: 'app-dev-mysql',
      [DATA.proxyName]: 'app-dev-proxy',
      proxy_endpoint: 'x',
      ...(database === 'own' ? { [DATA.directDatabaseIdentifier]: 'app-dev-direct-mysql' } : {}),
    },
    'api-dev': {
      [API.apiUrl]: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/',
      [API.functionName]: 'app-dev-hits',
      [API.tenantsFunctionName]: 'app-dev-tenants',
      [API.directApiUrl]: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com/',
      [API.directFunctionName]: 'app-dev-direct-hits',
      [API.directTenantsFunctionName]: 'app-dev-direct-tenants',
      ...(database ? { [API.directArmDatabase]: database } : {}),
    },
    'api-prod': { [API.apiUrl]: 'https://prodprod01.execute-api.eu-west-1.amazonaws.com/' },
  });
  const readerOf = (database?: DirectArmDatabase) => (file: string, env: string) => deployedOutputs(outputsOf(database), env, file);
  const fromFile = ['--outputs', 'o.json', '--env', 'dev'];

  test('--outputs --env gives both arms; --cloudwatch picks the function the path routes to, the API ids and region from the URLs, each arm’s database and the proxy arm’s proxy', () => {
    const tenantRoute = parseOptions([...fromFile, '--cloudwatch'], readerOf('shared'));
    expect(tenantRoute.arms).toEqual([
      { name: 'proxy', url: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com' },
      { name: 'direct', url: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com' },
    ]);
    expect(tenantRoute.cloudwatch).toEqual({
      region: 'eu-west-1',
      arms: {
        proxy: { functionName: 'app-dev-tenants', apiId: 'abc123defg', dbInstanceIdentifier: 'app-dev-mysql', proxyName: 'app-dev-proxy' },
        direct: { functionName: 'app-dev-direct-tenants', apiId: 'zyx987wvut', dbInstanceIdentifier: 'app-dev-mysql' },
      },
    });
    const own = parseOptions([...fromFile, '--cloudwatch'], readerOf('own'));
    expect(own.cloudwatch?.arms.direct.dbInstanceIdentifier).toBe('app-dev-direct-mysql');
    const hits = parseOptions([...fromFile, '--cloudwatch', '--path', '/_/hits', '--function', 'direct=mine', '--proxy-name', 'other', '--db-instance', 'db-9'], readerOf('own'));
    expect(hits.cloudwatch?.arms).toEqual({
      proxy: { functionName: 'app-dev-hits', apiId: 'abc123defg', dbInstanceIdentifier: 'db-9', proxyName: 'other' },
      direct: { functionName: 'mine', apiId: 'zyx987wvut', dbInstanceIdentifier: 'db-9', proxyName: 'other' },
    });
  });

  describe('the default order follows direct_arm_database', () => {
    test('own: mixed, and the run says why', () => {
      const o = parseOptions(fromFile, readerOf('own'));
      expect([o.order, o.cooldown]).toEqual(['mixed', 0]);
      expect(o.orderNote).toBe(`order mixed: each arm has its own database (o.json says ${API.directArmDatabase} = own), so they run together`);
    });

    test('shared: sequential, with the default cool-down', () => {
      const o = parseOptions(fromFile, readerOf('shared'));
      expect([o.order, o.cooldown]).toEqual(['sequential', DEFAULT_COOLDOWN_SECONDS]);
      expect(o.orderNote).toBe(`order sequential: the arms share one database (o.json says ${API.directArmDatabase} = shared), so each runs alone in turn`);
    });

    test('no such output (a deployment from before it): the arms share one instance, so sequential', () => {
      const o = parseOptions(fromFile, readerOf());
      expect(o.order).toBe('sequential');
      expect(o.orderNote).toMatch(new RegExp(`o\\.json has no ${API.directArmDatabase}`));
    });

    test('explicit --order wins; mixed over a shared database is allowed, with a warning; sequential over own ones is quiet', () => {
      expect(parseOptions([...fromFile, '--order', 'mixed'], readerOf('shared')).orderNote).toMatch(/^--order mixed with arms that share one database .*sequential is the fair order here$/);
      expect(parseOptions([...fromFile, '--order', 'mixed'], readerOf()).orderNote).toMatch(/^--order mixed with arms that share one database/);
      const quiet = parseOptions([...fromFile, '--order', 'sequential', '--cooldown', '90'], readerOf('own'));
      expect([quiet.order, quiet.cooldown, 'orderNote' in quiet]).toEqual(['sequential', 90, false]);
    });

    test('--cooldown where the arms run mixed by default is refused, naming --cooldown and --outputs', () => {
      expect(() => parseOptions([...fromFile, '--cooldown', '30'], readerOf('own'))).toThrow('--cooldown is for --order sequential; these arms run mixed (each has its own database, per --outputs o.json): add --order sequential');
    });

    test('arms given by --arm are not the file’s to describe: sequential, unless they are the deployment’s own', () => {
      const other = parseOptions([...fromFile, '--arm', 'x=http://127.0.0.1:9', '--arm', 'y=http://127.0.0.1:8'], readerOf('own'));
      expect(other.order).toBe('sequential');
      expect(other.orderNote).toMatch(/--arm does not say/);
      const same = parseOptions([...fromFile, '--arm', 'proxy=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'direct=https://zyx987wvut.execute-api.eu-west-1.amazonaws.com/'], readerOf('own'));
      expect(same.order).toBe('mixed');
    });

    test('a value that is neither own nor shared is an error naming --outputs', () => {
      const odd = (file: string, env: string) => deployedOutputs({ 'api-dev': { ...outputsOf('own')['api-dev'], [API.directArmDatabase]: 'both' } }, env, file);
      expect(() => parseOptions(fromFile, odd)).toThrow(`--outputs o.json: ${API.directArmDatabase} in api-dev is "both", expected own or shared`);
    });
  });

  test('an environment without the direct arm gives one arm; explicit --arm wins over the file', () => {
    expect(parseOptions(['--outputs', 'o.json', '--env', 'prod'], readerOf('own')).arms.map((a) => a.name)).toEqual(['proxy']);
    expect(parseOptions([...fromFile, '--arm', 'x=http://127.0.0.1:9'], readerOf('own')).arms).toEqual([{ name: 'x', url: 'http://127.0.0.1:9' }]);
  });

  test('a missing stack or a file that is not an outputs object is an error naming --outputs', () => {
    expect(() => parseOptions(['--outputs', 'o.json', '--env', 'qa'], readerOf())).toThrow(/--outputs o.json: no stack api-qa .*stacks: network-dev, data-dev, api-dev, api-prod/);
    expect(() => deployedOutputs([], 'dev', 'o.json')).toThrow(/--outputs o.json: expected the JSON object/);
    expect(() => deployedOutputs({ 'api-dev': { [API.functionName]: 'f' } }, 'dev', 'o.json')).toThrow(`has no ${API.apiUrl} output`);
  });

  test('--region names the CloudWatch region when the arms’ URLs do not, and must be a region name', () => {
    const local = ['--arm', 'a=http://127.0.0.1:1', '--cloudwatch', '--db-instance', 'db-1'];
    expect(parseOptions([...local, '--region', 'eu-central-1']).cloudwatch).toEqual({ region: 'eu-central-1', arms: { a: { dbInstanceIdentifier: 'db-1' } } });
    expect(parseOptions(local).cloudwatch).toEqual({ arms: { a: { dbInstanceIdentifier: 'db-1' } } });
    expect(error([...local, '--region', 'moon'])).toMatch(/--region: "moon" is not an AWS region name/);
  });

  test('a --region that contradicts the arms’ URLs is refused, naming --region and where the arms come from', () => {
    expect(error([...arms, '--cloudwatch', '--region', 'us-east-1'])).toBe("--region us-east-1 contradicts --arm: arm proxy's URL is in eu-west-1, where --cloudwatch reads the metrics; drop --region");
    expect(() => parseOptions([...fromFile, '--cloudwatch', '--region', 'us-east-1'], readerOf('own'))).toThrow("--region us-east-1 contradicts --outputs o.json: arm proxy's URL is in eu-west-1");
    // The same region says nothing new, and is allowed; with --on lambda, --region is where the workers run.
    expect(parseOptions([...arms, '--cloudwatch', '--region', 'eu-west-1']).cloudwatch?.region).toBe('eu-west-1');
    const workers = parseOptions([...arms, '--cloudwatch', '--on', 'lambda', '--count', '1', '--region', 'us-east-1']);
    expect([workers.runner, workers.cloudwatch?.region]).toEqual([{ on: 'lambda', count: 1, region: 'us-east-1' }, 'eu-west-1']);
  });

  test('arms in two regions cannot share one CloudWatch read', () => {
    expect(error(['--arm', 'a=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'b=https://zyx987wvut.execute-api.us-east-1.amazonaws.com', '--cloudwatch'])).toMatch(/--cloudwatch: the arms are in several regions \(eu-west-1, us-east-1\)/);
  });
});
