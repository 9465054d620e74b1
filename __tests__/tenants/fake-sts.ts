/**
 * A small STS on 127.0.0.1 for the tenants tests: it speaks the Query protocol the SDK uses for STS
 * (a form-encoded POST body, an XML answer: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html),
 * records every AssumeRole it receives (with the access key that signed it) and hands out distinct
 * credentials per call. The SDK reaches it through AWS_ENDPOINT_URL_STS.
 */
import { createServer, type Server } from 'http';
import type { AddressInfo } from 'net';

export interface AssumeRoleCall {
  readonly action: string;
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly policy: string;
  readonly durationSeconds: number;
  /** Access key id from the request's SigV4 Authorization header (the caller's own credentials). */
  readonly signedBy: string;
  /** Region and service from the credential scope of that header. */
  readonly scope: string;
  /** What this call was answered with (when it succeeded). */
  readonly issued?: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
}

/**
 * - `denied`: 403 AccessDenied, as STS refuses a role it does not (yet) let the caller assume;
 * - `throttled`: 400 `Throttling` "Rate exceeded", what STS answers above its request rate (observed answers:
 *   https://github.com/aws/aws-sdk-go-v2/issues/2481, https://github.com/jlevers/selling-partner-api/issues/278);
 * - `down`: 503 ServiceUnavailable.
 */
export type FakeStsMode = 'ok' | 'denied' | 'throttled' | 'down';

export class FakeSts {
  readonly calls: AssumeRoleCall[] = [];
  mode: FakeStsMode = 'ok';
  /** Milliseconds each answer is delayed (to widen the window for concurrent misses). */
  delayMs = 0;
  /** The clock credentials expire by (a test that moves the function's clock moves this one too). */
  now: () => number = Date.now;
  private seq = 0;

  private constructor(private readonly server: Server) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<FakeSts> {
    let sts!: FakeSts;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => setTimeout(() => sts.answer(req.headers.authorization ?? '', body, res), sts.delayMs));
    });
    sts = new FakeSts(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return sts;
  }

  /** Back to answering at once, as asked, on the real clock, with no call recorded: between tests. */
  reset(): void {
    this.calls.length = 0;
    this.mode = 'ok';
    this.delayMs = 0;
    this.now = Date.now;
  }

  /**
   * Points the AWS SDK of this process at this STS, as the tenants function's own role (`accessKeyId`) in
   * `region`, with no other credential source left to find: the SDK honours AWS_ENDPOINT_URL_STS.
   */
  useAsEndpointOfThisProcess(accessKeyId: string, region: string): void {
    Object.assign(process.env, { AWS_ENDPOINT_URL_STS: this.url, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'function-secret', AWS_REGION: region });
    for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete process.env[k];
  }

  /** AssumeRole calls per session name. */
  countBySession(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) counts[c.roleSessionName] = (counts[c.roleSessionName] ?? 0) + 1;
    return counts;
  }

  private answer(authorization: string, body: string, res: import('http').ServerResponse): void {
    const form = new URLSearchParams(body);
    const cred = /Credential=([^/]+)\/\d{8}\/([^/]+\/[^/]+)\/aws4_request/.exec(authorization);
    const call = {
      action: form.get('Action') ?? '',
      roleArn: form.get('RoleArn') ?? '',
      roleSessionName: form.get('RoleSessionName') ?? '',
      policy: form.get('Policy') ?? '',
      durationSeconds: Number(form.get('DurationSeconds')),
      signedBy: cred?.[1] ?? '',
      scope: cred?.[2] ?? '',
    };
    if (this.mode === 'throttled') {
      this.calls.push(call);
      res.writeHead(400, { 'content-type': 'text/xml' }).end(error('Throttling', 'Sender', 'Rate exceeded'));
      return;
    }
    if (this.mode === 'down') {
      this.calls.push(call);
      res.writeHead(503, { 'content-type': 'text/xml' }).end(error('ServiceUnavailable', 'Receiver', 'fake STS is down'));
      return;
    }
    if (this.mode === 'denied' || call.action !== 'AssumeRole') {
      this.calls.push(call);
      res.writeHead(403, { 'content-type': 'text/xml' }).end(error('AccessDenied', 'Sender', `not authorized to perform: sts:AssumeRole on resource: ${call.roleArn}`));
      return;
    }
    const n = ++this.seq;
    const issued = {
      accessKeyId: `ASIAFAKESTS${String(n).padStart(8, '0')}`,
      secretAccessKey: `fake-secret-${n}`,
      sessionToken: `fake-session-token-${n}`,
      expiration: new Date(Math.floor(this.now() / 1000) * 1000 + call.durationSeconds * 1000),
    };
    this.calls.push({ ...call, issued });
    res.writeHead(200, { 'content-type': 'text/xml' }).end(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <Arn>${call.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${call.roleSessionName}</Arn>
      <AssumedRoleId>AROAFAKE:${call.roleSessionName}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${issued.secretAccessKey}</SecretAccessKey>
      <SessionToken>${issued.sessionToken}</SessionToken>
      <Expiration>${issued.expiration.toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>10</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>fake-${n}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function error(code: string, type: string, message: string): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake-error</RequestId></ErrorResponse>`;
}
