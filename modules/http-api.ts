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
 * is scoped to this API's execution ARN.
 */
export class HttpApi extends Construct {
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

    this.apiId = api.id;
    this.executionArn = api.executionArn;
    this.url = api.apiEndpoint;
    this.accessLogGroupName = accessLogs.name;
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
