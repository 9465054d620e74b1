import { DEFAULTS, MAX_LAMBDA_SECONDS, MAX_RATE, MAX_SECONDS, parseOptions } from '../../tools/load/options';
import { deployedOutputs } from '../../tools/load/outputs';
import { OptionError } from '../../tools/load/errors';
import { main } from '../../tools/load/load';

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
      out: DEFAULTS.out,
      ensure: [],
      runner: { on: 'local' },
    });
  });

  test('every option is read, in both --name value and --name=value forms', () => {
    const o = parseOptions([...arms, '--arm=cache-off=http://127.0.0.1:3000/pre', '--path', '/_/hits', '--tenants=7', '--rate', '12.5', '--ramp', '30', '--duration=90', '--out', 'x', '--ensure', 'p99<800', '--ensure=direct:failures<1%']);
    expect(o.arms.map((a) => a.name)).toEqual(['proxy', 'direct', 'cache-off']);
    expect(o.arms[2].url).toBe('http://127.0.0.1:3000/pre');
    expect([o.path, o.tenants, o.rate, o.ramp, o.duration, o.out]).toEqual(['/_/hits', 7, 12.5, 30, 90, 'x']);
    expect(o.ensure.map((t) => [t.arm, t.metric, t.op, t.value])).toEqual([
      [undefined, 'p99', '<', 800],
      ['direct', 'failures%', '<', 1],
    ]);
  });

  test.each([
    [/--arm: name at least one arm/, []],
    [/--arm "proxy": expected <name>=<url>/, ['--arm', 'proxy']],
    [/--arm .*a-z, 0-9 and -/, ['--arm', 'Proxy=http://127.0.0.1:1']],
    [/--arm: the name a is used twice/, ['--arm', 'a=http://127.0.0.1:1', '--arm', 'a=http://127.0.0.1:2']],
    [/--arm a: the URL must be http/, ['--arm', 'a=ftp://h/']],
    [/--arm a: .*query/, ['--arm', 'a=http://h/?x=1']],
    [/--arm a: .* is not a URL/, ['--arm', 'a=not a url']],
    [/--rate: expected a number/, [...arms, '--rate', 'fast']],
    [/--rate: 0 is outside/, [...arms, '--rate', '0']],
    [/--rate: .* is outside/, [...arms, '--rate', String(MAX_RATE + 1)]],
    [/--duration: expected a whole number/, [...arms, '--duration', '1.5']],
    [/--ramp: -1 is outside/, [...arms, '--ramp', '-1']],
    [/--ramp \+ --duration/, [...arms, '--ramp', String(MAX_SECONDS), '--duration', '1']],
    [/--tenants: 0 is outside/, [...arms, '--tenants', '0']],
    [/--path "tenants\/\{tenant\}"/, [...arms, '--path', 'tenants/{tenant}']],
    [/--path/, [...arms, '--path', '/a?b=1']],
    [/--path/, [...arms, '--path', '/{user}/x']],
    [/--out/, [...arms, '--out', ' ']],
    [/unknown option --bogus/, [...arms, '--bogus', '1']],
    [/unexpected argument "stray"/, [...arms, 'stray']],
    [/--rate needs a value/, [...arms, '--rate']],
    [/--rate given 2 times/, [...arms, '--rate', '1', '--rate', '2']],
    [/--ensure p99>800: p99 is an upper bound/, [...arms, '--ensure', 'p99>800']],
    [/--on: expected local, lambda or fargate/, [...arms, '--on', 'ec2']],
    [/--on lambda needs --count/, [...arms, '--on', 'lambda', '--region', 'eu-west-1']],
    [/--on fargate needs --region/, [...arms, '--on', 'fargate', '--count', '2']],
    [/--region: "Ireland" is not an AWS region/, [...arms, '--on', 'fargate', '--count', '2', '--region', 'Ireland']],
    [/--on fargate: Artillery \d+\.\d+\.\d+ runs Fargate workers only in .*us-east-1.*, not ap-southeast-5/, [...arms, '--on', 'fargate', '--count', '2', '--region', 'ap-southeast-5']],
    [/--count: 0 is outside/, [...arms, '--on', 'lambda', '--count', '0', '--region', 'eu-west-1']],
    [/--count is for --on lambda or --on fargate/, [...arms, '--count', '2']],
    [/--region is for --on lambda\|fargate .* or --cloudwatch/, [...arms, '--region', 'eu-west-1']],
    [/--db-instance is for --cloudwatch/, [...arms, '--db-instance', 'db']],
    [/--outputs and --env go together/, [...arms, '--outputs', 'f.json']],
    [/--function "nobody=fn": expected <arm>=/, [...arms, '--cloudwatch', '--function', 'nobody=fn']],
  ])('refused with %p', (message, argv) => {
    expect(error(argv as string[])).toMatch(message);
  });

  test('--on lambda refuses a run Lambda would cut at 15 minutes; --on fargate does not', () => {
    const tooLong = ['--ramp', '60', '--duration', String(MAX_LAMBDA_SECONDS - 59)];
    expect(error([...arms, '--on', 'lambda', '--count', '4', '--region', 'eu-west-1', ...tooLong])).toMatch(/--on lambda: .*15 minutes.*--on fargate/);
    expect(parseOptions([...arms, '--on', 'lambda', '--count', '4', '--region', 'eu-west-1', '--ramp', '60', '--duration', String(MAX_LAMBDA_SECONDS - 60)]).runner).toEqual({ on: 'lambda', count: 4, region: 'eu-west-1' });
    expect(parseOptions([...arms, '--on', 'fargate', '--count', '4', '--region', 'eu-west-1', ...tooLong]).runner).toEqual({ on: 'fargate', count: 4, region: 'eu-west-1' });
    // Lambda workers run in any region (run-lambda's --region has no list), unlike Fargate's above.
    expect(parseOptions([...arms, '--on', 'lambda', '--count', '1', '--region', 'ap-southeast-5']).runner).toEqual({ on: 'lambda', count: 1, region: 'ap-southeast-5' });
  });

  test('the CLI exits 1 on a bad option, naming it', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      expect(await main([...arms, '--rate', 'lots'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/^npm run load: --rate: expected a number/);
  });

  test('an --out that cannot be a directory exits 1, naming --out, before Artillery starts', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      expect(await main([...arms, '--out', `${__filename}/report`])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/^npm run load: --out .*report: ENOTDIR/);
  });
});

describe('arms and CloudWatch names from a cdktf outputs file', () => {
  const outputs = {
    'network-dev': { vpc_id: 'vpc-1' },
    'data-dev': { database_identifier: 'app-dev-mysql', proxy_name: 'app-dev-proxy', proxy_endpoint: 'x' },
    'api-dev': {
      api_url: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/',
      function_name: 'app-dev-hits',
      tenants_function_name: 'app-dev-tenants',
      direct_api_url: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com/',
      direct_function_name: 'app-dev-direct-hits',
      direct_tenants_function_name: 'app-dev-direct-tenants',
    },
    'api-prod': { api_url: 'https://prodprod01.execute-api.eu-west-1.amazonaws.com/' },
  };
  const reader = (file: string, env: string) => deployedOutputs(outputs, env, file);

  test('--outputs --env gives both arms; --cloudwatch picks the function the path routes to, the API ids and region from the URLs', () => {
    const tenantRoute = parseOptions(['--outputs', 'o.json', '--env', 'dev', '--cloudwatch'], reader);
    expect(tenantRoute.arms).toEqual([
      { name: 'proxy', url: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com' },
      { name: 'direct', url: 'https://zyx987wvut.execute-api.eu-west-1.amazonaws.com' },
    ]);
    expect(tenantRoute.cloudwatch).toEqual({
      region: 'eu-west-1',
      arms: { proxy: { functionName: 'app-dev-tenants', apiId: 'abc123defg' }, direct: { functionName: 'app-dev-direct-tenants', apiId: 'zyx987wvut' } },
      dbInstanceIdentifier: 'app-dev-mysql',
      proxyName: 'app-dev-proxy',
    });
    const hits = parseOptions(['--outputs', 'o.json', '--env', 'dev', '--cloudwatch', '--path', '/_/hits', '--function', 'direct=mine', '--proxy-name', 'other'], reader);
    expect(hits.cloudwatch?.arms).toEqual({ proxy: { functionName: 'app-dev-hits', apiId: 'abc123defg' }, direct: { functionName: 'mine', apiId: 'zyx987wvut' } });
    expect(hits.cloudwatch?.proxyName).toBe('other');
  });

  test('an environment without the direct arm gives one arm; explicit --arm wins over the file', () => {
    expect(parseOptions(['--outputs', 'o.json', '--env', 'prod'], reader).arms.map((a) => a.name)).toEqual(['proxy']);
    expect(parseOptions(['--outputs', 'o.json', '--env', 'dev', '--arm', 'x=http://127.0.0.1:9'], reader).arms).toEqual([{ name: 'x', url: 'http://127.0.0.1:9' }]);
  });

  test('a missing stack or a file that is not an outputs object is an error naming --outputs', () => {
    expect(() => parseOptions(['--outputs', 'o.json', '--env', 'qa'], reader)).toThrow(/--outputs o.json: no stack api-qa .*stacks: network-dev, data-dev, api-dev, api-prod/);
    expect(() => deployedOutputs([], 'dev', 'o.json')).toThrow(/--outputs o.json: expected the JSON object/);
    expect(() => deployedOutputs({ 'api-dev': { function_name: 'f' } }, 'dev', 'o.json')).toThrow(/has no api_url output/);
  });

  test('--region names the CloudWatch region when the arms’ URLs do not, and must be a region name', () => {
    const local = ['--arm', 'a=http://127.0.0.1:1', '--cloudwatch', '--db-instance', 'db-1'];
    expect(parseOptions([...local, '--region', 'eu-central-1']).cloudwatch).toEqual({ region: 'eu-central-1', arms: { a: {} }, dbInstanceIdentifier: 'db-1' });
    expect(parseOptions(local).cloudwatch).toEqual({ arms: { a: {} }, dbInstanceIdentifier: 'db-1' });
    expect(error([...local, '--region', 'moon'])).toMatch(/--region: "moon" is not an AWS region name/);
  });

  test('arms in two regions cannot share one CloudWatch read', () => {
    expect(error(['--arm', 'a=https://abc123defg.execute-api.eu-west-1.amazonaws.com', '--arm', 'b=https://zyx987wvut.execute-api.us-east-1.amazonaws.com', '--cloudwatch'])).toMatch(/--cloudwatch: the arms are in several regions \(eu-west-1, us-east-1\)/);
  });
});
