import { Construct } from 'constructs';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Profile } from '../config';

/** The AWS provider's source address in every stack's `required_providers`. */
export const AWS_PROVIDER_SOURCE = 'hashicorp/aws';

/** Names the stacks of one environment: `network-dev`, `data-dev`, `api-dev`, `ops-dev`. */
export function stackId(kind: 'network' | 'data' | 'api' | 'ops', profile: Profile): string {
  return `${kind}-${profile.name}`;
}

/**
 * What every stack shares: the AWS provider with default tags, and the state backend. Holds no resources.
 * The local state path is relative to the stack's working directory (`cdktf.out/stacks/<stack>`): it lands
 * in the project root, where cdktf's own default puts it, without writing a machine path into the JSON,
 * and consumer stacks' `terraform_remote_state` resolve it the same way.
 */
export abstract class BaseStack extends TerraformStack {
  readonly profile: Profile;
  /** Prefix of resource names in this environment: `<project>-<env>`. */
  readonly resourcePrefix: string;

  protected constructor(scope: Construct, id: string, profile: Profile) {
    super(scope, id);
    this.profile = profile;
    this.resourcePrefix = `${profile.project}-${profile.name}`;
    new AwsProvider(this, 'aws', {
      region: profile.region,
      defaultTags: [{ tags: { ...profile.tags, Project: profile.project, Environment: profile.name, ManagedBy: 'cdktf', Stack: id } }],
    });
    // The source as Terraform's docs spell it (https://developer.hashicorp.com/terraform/language/providers/requirements#source-addresses)
    // and CDK Terrain's binding writes it; cdktf's writes the bare `aws`. Terraform and OpenTofu read both as
    // hashicorp/aws on their own registry, so this changes no plan: it makes both engines write the same JSON.
    this.addOverride('terraform.required_providers.aws.source', AWS_PROVIDER_SOURCE);
    const s3 = profile.stateBackend;
    if (s3) {
      new S3Backend(this, { bucket: s3.bucket, region: s3.region, key: `${s3.keyPrefix}/${id}.tfstate`, encrypt: true });
      // S3-native locking (Terraform >= 1.10) instead of a DynamoDB table; cdktf 0.21's S3Backend has no prop for it.
      this.addOverride('terraform.backend.s3.use_lockfile', true);
    } else {
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
  }
}
