import { TerraformStack, Testing, Token } from 'cdktf';
import { ACCESS_LOG_FORMAT, HttpApi, HttpApiProps } from '../../modules/http-api';
import { resources, single, StackJson } from '../support/synth';

const INVOKE_ARN = 'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:echo/invocations';
const BASE: HttpApiProps = { name: 'hits-test', functionName: 'echo', functionInvokeArn: INVOKE_ARN };

function build(props: Partial<HttpApiProps> = {}): { api: HttpApi; json: StackJson } {
  const stack = new TerraformStack(Testing.app(), 'test');
  const api = new HttpApi(stack, 'http-api', { ...BASE, ...props });
  return { api, json: JSON.parse(Testing.synth(stack)) };
}

const construct = (props: Partial<HttpApiProps>) => () => new HttpApi(new TerraformStack(Testing.app(), 'test'), 'http-api', { ...BASE, ...props } as HttpApiProps);

describe('HttpApi props validation names the field', () => {
  test.each<[string, Partial<HttpApiProps>, RegExp]>([
    ['empty name', { name: '' }, /HttpApi: name/],
    ['empty functionName', { functionName: '' }, /functionName/],
    ['empty functionInvokeArn', { functionInvokeArn: '' }, /functionInvokeArn/],
    ['integration timeout over 30 s', { integrationTimeoutMs: 30001 }, /integrationTimeoutMs.*50 to 30000/],
    ['integration timeout under 50 ms', { integrationTimeoutMs: 49 }, /integrationTimeoutMs/],
    ['negative burst', { throttlingBurstLimit: -1 }, /throttlingBurstLimit/],
    ['negative rate', { throttlingRateLimit: -1 }, /throttlingRateLimit/],
    ['rate NaN', { throttlingRateLimit: Number.NaN }, /throttlingRateLimit/],
    ['bad log retention', { logRetentionDays: 4 }, /logRetentionDays.*one of/],
  ])('%s', (_case, props, message) => {
    expect(construct(props)).toThrow(message);
  });
});

describe('HttpApi defaults (per its props doc comments)', () => {
  const { api, json } = build();
  const [apiName, httpApi] = resources(json, 'aws_apigatewayv2_api')[0];
  const apiRef = (attr: string) => `\${aws_apigatewayv2_api.${apiName}.${attr}}`;

  test('HTTP API with a Lambda AWS_PROXY integration, payload 2.0, 30 s timeout, $default route', () => {
    expect(httpApi).toMatchObject({ name: 'hits-test', protocol_type: 'HTTP' });
    const [integrationName, integration] = resources(json, 'aws_apigatewayv2_integration')[0];
    expect(integration).toMatchObject({
      api_id: apiRef('id'),
      integration_type: 'AWS_PROXY',
      integration_method: 'POST',
      integration_uri: INVOKE_ARN,
      payload_format_version: '2.0',
      timeout_milliseconds: 30000,
    });
    expect(single(json, 'aws_apigatewayv2_route')).toMatchObject({ api_id: apiRef('id'), route_key: '$default', target: `integrations/\${aws_apigatewayv2_integration.${integrationName}.id}` });
  });

  test('$default stage, auto-deployed, throttled 100 burst / 50 rps', () => {
    expect(single(json, 'aws_apigatewayv2_stage')).toMatchObject({
      api_id: apiRef('id'),
      name: '$default',
      auto_deploy: true,
      default_route_settings: { throttling_burst_limit: 100, throttling_rate_limit: 50 },
    });
  });

  test('JSON access logs to /aws/apigateway/<name>, kept 14 days', () => {
    const [groupName, group] = resources(json, 'aws_cloudwatch_log_group')[0];
    expect(group).toEqual(expect.objectContaining({ name: '/aws/apigateway/hits-test', retention_in_days: 14 }));
    const settings = single(json, 'aws_apigatewayv2_stage').access_log_settings;
    expect(settings.destination_arn).toBe(`\${aws_cloudwatch_log_group.${groupName}.arn}`);
    const format = JSON.parse(settings.format);
    expect(format).toEqual(ACCESS_LOG_FORMAT);
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', integrationError: '$context.integrationErrorMessage' });
  });

  test('invoke permission for apigateway.amazonaws.com, scoped to <execution_arn>/*/*', () => {
    expect(single(json, 'aws_lambda_permission')).toEqual(
      expect.objectContaining({
        action: 'lambda:InvokeFunction',
        function_name: 'echo',
        principal: 'apigateway.amazonaws.com',
        source_arn: `${apiRef('execution_arn')}/*/*`,
      }),
    );
  });

  test('typed attributes are tokens', () => {
    for (const token of [api.apiId, api.executionArn, api.url, api.accessLogGroupName]) {
      expect(typeof token).toBe('string');
      expect(Token.isUnresolved(token)).toBe(true);
    }
  });
});

describe('HttpApi options', () => {
  test('timeout, throttling and retention reach the JSON', () => {
    const { json } = build({ integrationTimeoutMs: 10000, throttlingBurstLimit: 1000, throttlingRateLimit: 500, logRetentionDays: 365 });
    expect(single(json, 'aws_apigatewayv2_integration').timeout_milliseconds).toBe(10000);
    expect(single(json, 'aws_apigatewayv2_stage').default_route_settings).toEqual({ throttling_burst_limit: 1000, throttling_rate_limit: 500 });
    expect(single(json, 'aws_cloudwatch_log_group').retention_in_days).toBe(365);
  });
});

describe('addRoute: a route of its own to another function', () => {
  const OTHER = 'arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:other/invocations';
  const withRoute = (routeKey: string, id = 'other') => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const api = new HttpApi(stack, 'http-api', BASE);
    api.addRoute(id, routeKey, { functionName: 'other', functionInvokeArn: OTHER });
    return { api, json: JSON.parse(Testing.synth(stack)) as StackJson };
  };

  test('its own integration (payload 2.0, the API timeout), the route, and a permission scoped to that route on this API', () => {
    const { json } = withRoute('GET /tenants/{tenantId}/items');
    const [apiName] = resources(json, 'aws_apigatewayv2_api')[0];
    const route = resources(json, 'aws_apigatewayv2_route').find(([, r]) => r.route_key === 'GET /tenants/{tenantId}/items')![1];
    const [integrationName, integration] = resources(json, 'aws_apigatewayv2_integration').find(([n]) => route.target === `integrations/\${aws_apigatewayv2_integration.${n}.id}`)!;
    expect(integrationName).toMatch(/other-integration/);
    expect(integration).toMatchObject({ integration_type: 'AWS_PROXY', integration_uri: OTHER, payload_format_version: '2.0', timeout_milliseconds: 30000 });
    const permission = resources(json, 'aws_lambda_permission').find(([, p]) => p.function_name === 'other')![1];
    expect(permission).toMatchObject({ principal: 'apigateway.amazonaws.com', action: 'lambda:InvokeFunction', source_arn: `\${aws_apigatewayv2_api.${apiName}.execution_arn}/*/GET/tenants/*/items` });
    // The $default function keeps its own route and permission.
    expect(resources(json, 'aws_apigatewayv2_route').map(([, r]) => r.route_key).sort()).toEqual(['$default', 'GET /tenants/{tenantId}/items']);
    expect(resources(json, 'aws_lambda_permission').find(([, p]) => p.function_name === 'echo')![1].source_arn).toBe(`\${aws_apigatewayv2_api.${apiName}.execution_arn}/*/*`);
  });

  test.each([
    ['no method', '/items', /addRoute\(routeKey\)/],
    ['an unknown method', 'FETCH /items', /addRoute\(routeKey\)/],
    ['no leading slash', 'GET items', /addRoute\(routeKey\)/],
    ['an unclosed parameter', 'GET /items/{id', /addRoute\(routeKey\)/],
    ['a double slash', 'GET /items//x', /addRoute\(routeKey\)/],
  ])('refuses a route key with %s', (_case, routeKey, message) => {
    expect(() => withRoute(routeKey)).toThrow(message);
  });

  test('refuses the same id twice and an empty target', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const api = new HttpApi(stack, 'http-api', BASE);
    api.addRoute('a', 'GET /a', { functionName: 'f', functionInvokeArn: OTHER });
    expect(() => api.addRoute('a', 'GET /b', { functionName: 'f', functionInvokeArn: OTHER })).toThrow(/addRoute\(id\).*already/);
    expect(() => api.addRoute('b', 'GET /b', { functionName: '', functionInvokeArn: OTHER })).toThrow(/addRoute\(target.functionName\)/);
    expect(() => api.addRoute('a b', 'GET /c', { functionName: 'f', functionInvokeArn: OTHER })).toThrow(/addRoute\(id\) must be 1-40 letters/);
  });
});
