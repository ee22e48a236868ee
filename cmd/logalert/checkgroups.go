package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/local"
	"github.com/logalert/logalert/internal/samtemplate"
)

// runCheckGroups is `logalert check-groups`: before a deploy, it checks
// the parameters against the template and the LogGroupNames against the
// account (--region/--profile, or AWS_REGION/AWS_PROFILE): each group exists, has room for one
// more subscription filter, and stays within the regex pattern quota with
// the stack's two filters.
func runCheckGroups(ctx context.Context, args []string, e *env) error {
	stdout, stderr := e.stdout, e.stderr
	fs := newFlagSet("check-groups", "check-groups [--template template.yaml] [--stack NAME] [--parameter-overrides \"K=V ...\"] [--region R] [--profile P]", stderr)
	template := fs.String("template", "template.yaml", "SAM `template` the stack is made from")
	stack := fs.String("stack", "", "stack `name`, as sam deploy --stack-name (default $LOGALERT_STACK, samconfig.toml's stack_name, or logalert)")
	overrides := fs.String("parameter-overrides", "", "template parameters, as sam deploy")
	region := fs.String("region", "", "AWS `region` (default $AWS_REGION, $AWS_DEFAULT_REGION or the profile's)")
	profile := fs.String("profile", "", "AWS shared config `profile` (default $AWS_PROFILE)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	// The same default as the other commands', then sam's own.
	if sf := (stackFlags{getenv: e.getenv, stack: *stack}); sf.defaultStack() {
		*stack = sf.stack
	} else {
		*stack = "logalert"
	}
	if len(pos) > 0 {
		return usagef("check-groups takes no arguments, got %q", pos)
	}
	params, err := samtemplate.ParseOverrides(*overrides)
	if err != nil {
		return usagef("%v", err)
	}
	tmpl, err := samtemplate.Load(*template)
	if err != nil {
		return err
	}
	if err := tmpl.SetParameters(params); err != nil {
		return err
	}
	patternText, err := tmpl.Parameter("ErrorPattern")
	if err != nil {
		return err
	}
	pattern, err := filterpattern.Parse(patternText)
	if err != nil {
		return fmt.Errorf("ErrorPattern: %w", err)
	}
	names, err := tmpl.Parameter("LogGroupNames")
	if err != nil {
		return err
	}
	groups := awslogs.SplitGroups(names)
	if len(groups) == 0 {
		fmt.Fprintln(stdout, "LogGroupNames is empty: the stack watches its own app group, which it creates; nothing to check in the account")
		return nil
	}
	// The logical ids of the template's Fn::ForEach, prefixed as
	// CloudFormation names the filters: <stack>-<logical id>-<suffix>.
	plans := map[string]local.GroupPlan{}
	for _, g := range groups {
		id := samtemplate.Alphanumeric(g)
		plans[g] = local.GroupPlan{
			MetricFilters:       map[string]*filterpattern.Pattern{*stack + "-WatchedMetricFilter" + id: pattern},
			SubscriptionFilters: map[string]*filterpattern.Pattern{*stack + "-WatchedSubscriptionFilter" + id: pattern},
		}
	}
	cfg, err := awsconfig.Load(ctx, sdkOptions(e.getenv, *region, *profile)...)
	if err != nil {
		return err
	}
	if err := local.CheckLogGroups(ctx, cloudwatchlogs.NewFromConfig(cfg), plans); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %s can take the stack's metric and subscription filters (ErrorPattern %s)\n", strings.Join(groups, ", "), pattern)
	return nil
}
