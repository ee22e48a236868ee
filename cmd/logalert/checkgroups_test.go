package main

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/local"
)

// check-groups, before a deploy: the named groups must exist and have
// room for the stack's subscription filter; a redeploy's own filters do
// not count.
func TestCheckGroups(t *testing.T) {
	endpoint := useMoto(t)
	cfg, err := awstest.Config(t.Context(), endpoint)
	require.NoError(t, err)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	stack := fmt.Sprintf("chk%d", demoRuns.Add(1))
	ok, full := "/shop/"+stack+"/ok", "/shop/"+stack+"/full"
	require.NoError(t, local.CreateUserGroups(t.Context(), logs, []string{ok, full}))
	put := func(group, name string) {
		_, err := logs.PutSubscriptionFilter(t.Context(), &cloudwatchlogs.PutSubscriptionFilterInput{
			LogGroupName: aws.String(group), FilterName: aws.String(name), FilterPattern: aws.String(""),
			DestinationArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:" + ok),
		})
		require.NoError(t, err)
	}
	put(full, "to-splunk")
	put(full, "to-datadog")
	// An earlier deploy of the same stack on ok, as CloudFormation names it.
	put(ok, stack+"-WatchedSubscriptionFiltershop"+stack+"ok-1A2B3C")
	put(ok, "to-splunk")

	stdout, stderr, err := runCLI(t, "check-groups", "--template", "../../template.yaml", "--stack", stack,
		"--parameter-overrides", "LogGroupNames="+ok)
	require.NoError(t, err, stderr)
	assert.Equal(t, "ok: "+ok+" can take the stack's metric and subscription filters (ErrorPattern ?ERROR ?FATAL ?CRITICAL)\n", stdout)
	// Without --stack, the stack comes from $LOGALERT_STACK, as for every
	// command: its earlier filter on ok is its own again (under the name
	// "logalert", ok would have no room left).
	t.Setenv(stackEnv, stack)
	stdout, stderr, err = runCLI(t, "check-groups", "--template", "../../template.yaml", "--parameter-overrides", "LogGroupNames="+ok)
	require.NoError(t, err, stderr)
	assert.Contains(t, stdout, "ok: "+ok)

	_, _, err = runCLI(t, "check-groups", "--template", "../../template.yaml", "--stack", stack,
		"--parameter-overrides", "LogGroupNames="+ok+","+full+",/shop/"+stack+"/gone")
	require.Error(t, err)
	assert.ErrorContains(t, err, "log group "+full+" already has 2 subscription filters (to-splunk, to-datadog)")
	assert.ErrorContains(t, err, "log group /shop/"+stack+"/gone does not exist")
	assert.NotContains(t, err.Error(), "log group "+ok+" ")

	_, _, err = runCLI(t, "check-groups", "--template", "../../template.yaml", "--parameter-overrides", `ErrorPattern="[a, b" LogGroupNames=`+ok)
	assert.ErrorContains(t, err, "ErrorPattern: filterpattern:")

	stdout, _, err = runCLI(t, "check-groups", "--template", "../../template.yaml")
	require.NoError(t, err)
	assert.Contains(t, stdout, "LogGroupNames is empty")

	// --profile and --region reach the SDK, as in every AWS-facing command.
	_, _, err = runCLI(t, "check-groups", "--template", "../../template.yaml", "--parameter-overrides", "LogGroupNames="+ok, "--profile", "no-such-profile")
	assert.ErrorContains(t, err, "no-such-profile")
}
