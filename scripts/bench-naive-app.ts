/**
 * The baseline `npm run bench` compares synth against: the 2-stack cdktf app most projects start from,
 * importing the AWS provider from its package root (every resource class of the provider loads).
 * Not part of the product; run only by scripts/bench.ts.
 */
import { App, TerraformStack } from 'cdktf';
import * as aws from '@cdktf/provider-aws';
import { Construct } from 'constructs';

class Network extends TerraformStack {
  readonly vpcId: string;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new aws.provider.AwsProvider(this, 'aws', { region: 'eu-west-1' });
    const vpc = new aws.vpc.Vpc(this, 'vpc', { cidrBlock: '10.0.0.0/16' });
    new aws.subnet.Subnet(this, 'subnet', { vpcId: vpc.id, cidrBlock: '10.0.0.0/24' });
    this.vpcId = vpc.id;
  }
}

class Data extends TerraformStack {
  constructor(scope: Construct, id: string, vpcId: string) {
    super(scope, id);
    new aws.provider.AwsProvider(this, 'aws', { region: 'eu-west-1' });
    new aws.securityGroup.SecurityGroup(this, 'db', { vpcId, description: 'database' });
  }
}

const app = new App();
const network = new Network(app, 'naive-network');
new Data(app, 'naive-data', network.vpcId);
app.synth();
