/**
 * The hits function's IAM tokens: one Signer for the function's life, so the default credential provider
 * chain is resolved once, not on every new connection (a Signer built per token starts with nothing cached).
 */
import { iamTokenMinter, type DbConfig } from '../../functions/lib/credentials';

jest.mock('@aws-sdk/rds-signer', () => {
  const actual = jest.requireActual('@aws-sdk/rds-signer');
  return { Signer: jest.fn((options: unknown) => new actual.Signer(options)) };
});

test('mints a fresh token per call from one Signer, for the configured endpoint, user and region', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  try {
    const { Signer } = jest.requireMock('@aws-sdk/rds-signer') as { Signer: jest.Mock };
    const config = { host: 'proxy.example.internal', port: 3306, user: 'app_user', region: 'eu-west-1' } as DbConfig;
    const mint = iamTokenMinter(config);
    const tokens = [await mint(), await mint(), await mint()];
    expect(Signer).toHaveBeenCalledTimes(1);
    expect(Signer).toHaveBeenCalledWith({ hostname: config.host, port: config.port, username: config.user, region: config.region });
    for (const token of tokens) expect(token).toMatch(/^proxy\.example\.internal:3306\/\?Action=connect&DBUser=app_user&X-Amz-Algorithm=.*X-Amz-Credential=AKIDEXAMPLE%2F\d{8}%2Feu-west-1%2Frds-db%2F/);
  } finally {
    process.env = saved;
  }
});
