import { Construct } from 'constructs';
import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { metric, type Metric, type MetricOptions } from './metric';
import { HTTP_API } from '../aws/limits';
import { requireIntInRange, requireLogRetention, requireNonEmpty, PropsError } from './validation';

export interface HttpApiProps {
  /** API name; also its access-log group `/aws/apigateway/<name>`. Required. */
  readonly name: string;
  /** Name of the Lambda function every request goes to. Required. */
  readonly functionName: string;
  /** Invoke ARN of that function. Required. */
  readonly functionInvokeArn: string;
  /** Integration timeout in ms (50 to 30000, the HTTP API limit). @default 30000 */
  readonly integrationTimeoutMs?: number;
  /** `$default` stage throttling: burst. @default 100 */
  readonly throttlingBurstLimit?: number;
  /** `$default` stage throttling: steady requests per second. @default 50 */
  readonly throttlingRateLimit?: number;
  /** Retention in days of the access-log group. @default 14 */
  readonly logRetentionDays?: number;
}

/** The function a route added with `addRoute` sends its requests to. */
export interface RouteTarget {
  /** Name of the Lambda function (for its invoke permission). Required. */
  readonly functionName: string;
  /** Its invoke ARN (for the integration). Required. */
  readonly functionInvokeArn: string;
}

const MODULE = 'HttpApi';

/** Fields of each access-log line (JSON), named as CloudWatch Logs Insights queries expect. */
export const ACCESS_LOG_FORMAT = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTimeEpoch',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
};

/**
 * An HTTP API that sends every request (`$default` route) to one Lambda function with payload format 2.0,
 * through an auto-deployed `$default` stage with JSON access logs and throttling. The invoke permission
 * is scoped to this API's execution ARN. `addRoute` sends one more route to another function, with a
 * permission scoped to that route.
 */
export class HttpApi extends Construct {
  private readonly timeoutMs: number;
  private readonly routeIds = new Set<string>();
  readonly apiId: string;
  readonly executionArn: string;
  /** Base URL of the `$default` stage, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/`. */
  readonly url: string;
  readonly accessLogGroupName: string;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const timeout = props.integrationTimeoutMs ?? 30000;
    const burst = props.throttlingBurstLimit ?? 100;
    const rate = props.throttlingRateLimit ?? 50;
    const retention = props.logRetentionDays ?? 14;
    requireNonEmpty(MODULE, 'name', props.name);
    requireNonEmpty(MODULE, 'functionName', props.functionName);
    requireNonEmpty(MODULE, 'functionInvokeArn', props.functionInvokeArn);
    requireIntInRange(MODULE, 'integrationTimeoutMs', timeout, HTTP_API.integrationTimeoutMs);
    requireIntInRange(MODULE, 'throttlingBurstLimit', burst, HTTP_API.throttlingBurstLimit);
    const rateRange = HTTP_API.throttlingRateLimit;
    if (!(rate >= rateRange.min && rate <= rateRange.max)) throw new PropsError(MODULE, 'throttlingRateLimit', `must be a number from ${rateRange.min} to ${rateRange.max}, got ${rate}`);
    requireLogRetention(MODULE, 'logRetentionDays', retention);

    const api = new Apigatewayv2Api(this, 'api', { name: props.name, protocolType: 'HTTP', description: `${props.name}: every request to ${props.functionName}` });
    const integration = new Apigatewayv2Integration(this, 'integration', {
      apiId: api.id,
      integrationType: 'AWS_PROXY',
      integrationMethod: 'POST',
      integrationUri: props.functionInvokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: timeout,
    });
    new Apigatewayv2Route(this, 'default-route', { apiId: api.id, routeKey: '$default', target: `integrations/${integration.id}` });

    const accessLogs = new CloudwatchLogGroup(this, 'access-log-group', { name: `/aws/apigateway/${props.name}`, retentionInDays: retention });
    new Apigatewayv2Stage(this, 'default-stage', {
      apiId: api.id,
      name: '$default',
      autoDeploy: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: JSON.stringify(ACCESS_LOG_FORMAT) },
      defaultRouteSettings: { throttlingBurstLimit: burst, throttlingRateLimit: rate },
    });

    new LambdaPermission(this, 'invoke-permission', {
      statementId: 'AllowInvokeFromHttpApi',
      action: 'lambda:InvokeFunction',
      functionName: props.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${api.executionArn}/*/*`,
    });

    this.timeoutMs = timeout;
    this.apiId = api.id;
    this.executionArn = api.executionArn;
    this.url = api.apiEndpoint;
    this.accessLogGroupName = accessLogs.name;
  }

  /**
   * Sends `routeKey` (`<METHOD> <path>`, e.g. `GET /tenants/{tenantId}/items`) to another function: its own
   * AWS_PROXY integration (payload 2.0, this API's integration timeout), the route, and an invoke permission
   * whose source ARN is that route alone on this API's execution ARN
   * (`<execution-arn>/*\/<METHOD>/<path>`, https://docs.aws.amazon.com/apigateway/latest/developerguide/arn-format-reference.html),
   * so the function cannot be invoked through any other route. A more specific route wins over `$default`
   * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html). `id` names
   * the three resources (`<id>-integration`, `<id>-route`, `<id>-invoke-permission`).
   */
  addRoute(id: string, routeKey: string, target: RouteTarget): void {
    // It becomes part of the permission's statement id, which Lambda limits to letters, digits, `-` and `_`.
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new PropsError(MODULE, 'addRoute(id)', `must be 1-40 letters, digits, "-" or "_", got "${id}"`);
    if (this.routeIds.has(id)) throw new PropsError(MODULE, 'addRoute(id)', `"${id}" is already a route of this API`);
    const m = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\/[A-Za-z0-9._~{}\/-]*)$/.exec(routeKey);
    if (!m || m[2].includes('//') || /\{(?![A-Za-z0-9_]+\})/.test(m[2])) {
      throw new PropsError(MODULE, 'addRoute(routeKey)', `must be "<METHOD> /<path>" with {name} path parameters, e.g. "GET /items/{id}", got "${routeKey}"`);
    }
    requireNonEmpty(MODULE, 'addRoute(target.functionName)', target.functionName);
    requireNonEmpty(MODULE, 'addRoute(target.functionInvokeArn)', target.functionInvokeArn);
    this.routeIds.add(id);
    const integration = new Apigatewayv2Integration(this, `${id}-integration`, {
      apiId: this.apiId,
      integrationType: 'AWS_PROXY',
      integrationMethod: 'POST',
      integrationUri: target.functionInvokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: this.timeoutMs,
    });
    new Apigatewayv2Route(this, `${id}-route`, { apiId: this.apiId, routeKey, target: `integrations/${integration.id}` });
    // Path parameters match any segment in the source ARN, so `{tenantId}` becomes `*`.
    const path = m[2].replace(/\{[A-Za-z0-9_]+\}/g, '*');
    new LambdaPermission(this, `${id}-invoke-permission`, {
      statementId: `AllowInvokeFromHttpApiRoute-${id}`,
      action: 'lambda:InvokeFunction',
      functionName: target.functionName,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.executionArn}/*/${m[1]}${path}`,
    });
  }

  /**
   * A metric of this API in `AWS/ApiGateway`. HTTP APIs publish `Count`, `4xx`, `5xx`, `Latency`,
   * `IntegrationLatency` and `DataProcessed` per `ApiId` (REST APIs use other names, such as `5XXError`).
   */
  metric(metricName: 'Count' | '4xx' | '5xx' | 'Latency' | 'IntegrationLatency' | 'DataProcessed', statistic: Metric['statistic'], options: MetricOptions = {}): Metric {
    return metric('AWS/ApiGateway', metricName, { ApiId: this.apiId }, { statistic }, options);
  }

  /** Requests received. @default Sum per minute */
  metricCount(options?: MetricOptions): Metric {
    return this.metric('Count', 'Sum', options);
  }

  /** Answers with a 5xx status (the function's, or the API's own when the integration failed). @default Sum per minute */
  metricServerErrors(options?: MetricOptions): Metric {
    return this.metric('5xx', 'Sum', options);
  }

  /** Answers with a 4xx status, throttling (429) included. @default Sum per minute */
  metricClientErrors(options?: MetricOptions): Metric {
    return this.metric('4xx', 'Sum', options);
  }

  /** Time from request to response as the client sees it, in ms. @default p99 per minute */
  metricLatency(options?: MetricOptions): Metric {
    return this.metric('Latency', 'p99', options);
  }

  /** Time the integration (the function) took, in ms. @default p99 per minute */
  metricIntegrationLatency(options?: MetricOptions): Metric {
    return this.metric('IntegrationLatency', 'p99', options);
  }
}
