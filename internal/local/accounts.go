package local

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// This file gives the twin a view of more than one account of one
// endpoint. moto keeps a separate set of resources per account id and
// tells the account of a request by its access key: the temporary keys
// STS AssumeRole returns belong to the account of the role assumed (which
// need not exist), so a member account is reached as an organization's
// management account reaches it, by assuming a role in it.

// MemberAccessRole is the role the twin assumes to act in a member
// account: the role AWS Organizations creates in every account it creates.
const MemberAccessRole = "OrganizationAccountAccessRole"

// AccountConfig returns a copy of cfg that acts in account: its
// credentials are those of MemberAccessRole in that account, assumed with
// cfg's. It fails when the endpoint puts the assumed role's requests in
// another account (an endpoint that serves one account only).
func AccountConfig(ctx context.Context, cfg aws.Config, account string) (aws.Config, error) {
	role := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, MemberAccessRole)
	return assumeRole(ctx, cfg, role, "", account)
}

// AssumeRole returns a copy of cfg whose credentials are those of the
// role roleARN, assumed with cfg's and externalID (none when empty), as a
// writer of another account assumes the central account's writer role
// (Path A). It checks that the endpoint answers as the role's account.
func AssumeRole(ctx context.Context, cfg aws.Config, roleARN, externalID string) (aws.Config, error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.AccountID == "" {
		return aws.Config{}, fmt.Errorf("assume role %q: not a role ARN with an account id", roleARN)
	}
	return assumeRole(ctx, cfg, roleARN, externalID, a.AccountID)
}

// assumeRole is AccountConfig's and AssumeRole's work: credentials that
// assume roleARN, cached and refreshed, checked to act in account.
func assumeRole(ctx context.Context, cfg aws.Config, roleARN, externalID, account string) (aws.Config, error) {
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "logalert-twin"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}))
	id, err := sts.NewFromConfig(out).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return aws.Config{}, fmt.Errorf("assume role %s: %w", roleARN, err)
	}
	if got := aws.ToString(id.Account); got != account {
		return aws.Config{}, fmt.Errorf("assume role %s: the endpoint answers as account %s, not %s: it does not keep accounts apart", roleARN, got, account)
	}
	return out, nil
}
