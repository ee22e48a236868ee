package tests

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/local"
)

// TestAccountConfigKeepsAccountsApart checks the twin's view of a member
// account: requests made with it act in that account, whose log groups
// the central account does not see, and a role of the central account
// assumed from the member account acts in the central account again.
func TestAccountConfigKeepsAccountsApart(t *testing.T) {
	ctx := t.Context()
	central := newConfig(t, motoURL)
	const member = "111111111111"
	mcfg, err := local.AccountConfig(ctx, central, member)
	require.NoError(t, err)
	id, err := sts.NewFromConfig(mcfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, member, aws.ToString(id.Account))

	group := "/" + awstest.Name(t, "member")
	require.NoError(t, local.CreateUserGroups(ctx, cloudwatchlogs.NewFromConfig(mcfg), []string{group}))
	seen := func(cfg aws.Config) bool {
		out, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
		require.NoError(t, err)
		return len(out.LogGroups) == 1
	}
	assert.True(t, seen(mcfg), "the member account has its group")
	assert.False(t, seen(central), "the central account does not see the member's group")

	home, err := sts.NewFromConfig(central).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	back, err := local.AssumeRole(ctx, mcfg, "arn:aws:iam::"+aws.ToString(home.Account)+":role/writer", "an-external-id")
	require.NoError(t, err)
	assert.False(t, seen(back), "the assumed role acts in the central account")

	_, err = local.AssumeRole(ctx, mcfg, "not-an-arn", "")
	assert.ErrorContains(t, err, "not a role ARN")
}
