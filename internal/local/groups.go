package local

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/provision"
)

// This file holds what the twin does per watched log group: the groups a
// user already has, the limits CloudWatch Logs puts on each group, and the
// tail, metric filters and subscriptions of each.

// MaxSubscriptionFilters is how many (log-group-level) subscription
// filters one log group may have; an account-level subscription filter
// policy comes on top.
const MaxSubscriptionFilters = 2

// watch is one watched log group: of the central account, or of the
// member account account (Path B).
type watch struct {
	account string
	group   string
	tail    *Tailer
	filters []*MetricFilter
	subs    []*Subscription
}

// watchOf returns the watch of the central account's group, new ones
// tailing from the start of the run.
func (t *Twin) watchOf(group string) *watch {
	for _, w := range t.watches {
		if w.group == group && w.account == "" {
			return w
		}
	}
	w := &watch{group: group, tail: NewTailer(t.c.logs, group, t.origin.UnixMilli())}
	t.watches = append(t.watches, w)
	return w
}

// CreateUserGroups creates the log groups a user already has (a demo's or
// a test's stand-in for them), keeping those that exist as they are.
func CreateUserGroups(ctx context.Context, logs *cloudwatchlogs.Client, groups []string) error {
	for _, g := range groups {
		_, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)})
		var exists *logstypes.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("create log group %s: %w", g, err)
		}
	}
	return nil
}

// GroupPlan is what a stack puts on one log group: its metric filters
// and subscription filters, patterns by filter name.
type GroupPlan struct {
	MetricFilters       map[string]*filterpattern.Pattern
	SubscriptionFilters map[string]*filterpattern.Pattern
}

// groupPlans sorts the stack's filters by log group.
func groupPlans(specs []provision.MetricFilter, subs []provision.SubscriptionFilter) map[string]GroupPlan {
	plans := map[string]GroupPlan{}
	plan := func(g string) GroupPlan {
		p, ok := plans[g]
		if !ok {
			p = GroupPlan{MetricFilters: map[string]*filterpattern.Pattern{}, SubscriptionFilters: map[string]*filterpattern.Pattern{}}
			plans[g] = p
		}
		return p
	}
	for _, s := range specs {
		plan(s.Group).MetricFilters[s.Name] = s.Pattern
	}
	for _, s := range subs {
		plan(s.Group).SubscriptionFilters[s.Name] = s.Pattern
	}
	return plans
}

// FiltersAPI is the subset of *cloudwatchlogs.Client CheckLogGroups calls.
type FiltersAPI interface {
	DescribeSubscriptionFilters(ctx context.Context, in *cloudwatchlogs.DescribeSubscriptionFiltersInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeSubscriptionFiltersOutput, error)
	DescribeMetricFilters(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
}

// CheckLogGroups refuses, before anything is put, what CloudWatch Logs
// would refuse at deploy time: a group that does not exist (a stack
// watches the groups of LogGroupNames, it never creates them), a third
// subscription filter, and more than MaxRegexPatternsPerLogGroup filter
// patterns with a regex on one group. It counts the filters each group
// already has, but the plan's own: those of the same names, or named as
// CloudFormation names them (NAME-suffix) by an earlier deploy.
func CheckLogGroups(ctx context.Context, logs FiltersAPI, plans map[string]GroupPlan) error {
	var errs []error
	for _, g := range slices.Sorted(maps.Keys(plans)) {
		plan := plans[g]
		ours := func(name string) bool {
			for _, m := range []map[string]*filterpattern.Pattern{plan.MetricFilters, plan.SubscriptionFilters} {
				for n := range m {
					if name == n || strings.HasPrefix(name, n+"-") {
						return true
					}
				}
			}
			return false
		}
		regex := 0
		for _, m := range []map[string]*filterpattern.Pattern{plan.MetricFilters, plan.SubscriptionFilters} {
			for _, p := range m {
				if p.HasRegex() {
					regex++
				}
			}
		}
		subs, err := logs.DescribeSubscriptionFilters(ctx, &cloudwatchlogs.DescribeSubscriptionFiltersInput{LogGroupName: aws.String(g)})
		var missing *logstypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			errs = append(errs, fmt.Errorf("log group %s does not exist: the stack watches existing groups and never creates them; create it, or leave it out of LogGroupNames", g))
			continue
		}
		if err != nil {
			return fmt.Errorf("list subscription filters of %s: %w", g, err)
		}
		var others []string
		for _, f := range subs.SubscriptionFilters {
			if name := aws.ToString(f.FilterName); !ours(name) {
				others = append(others, name)
				if hasRegex(aws.ToString(f.FilterPattern)) {
					regex++
				}
			}
		}
		if n := len(others) + len(plan.SubscriptionFilters); n > MaxSubscriptionFilters {
			errs = append(errs, fmt.Errorf("log group %s already has %d subscription filters (%s) and CloudWatch Logs allows %d per group: the stack's would be one too many; remove one of them (aws logs delete-subscription-filter --log-group-name %s --filter-name NAME) or leave %s out of LogGroupNames and watch it with WatchAccount",
				g, len(others), strings.Join(others, ", "), MaxSubscriptionFilters, g, g))
		}
		mfs, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(g)})
		if err != nil {
			return fmt.Errorf("list metric filters of %s: %w", g, err)
		}
		for _, f := range mfs.MetricFilters {
			if !ours(aws.ToString(f.FilterName)) && hasRegex(aws.ToString(f.FilterPattern)) {
				regex++
			}
		}
		if regex > filterpattern.MaxRegexPatternsPerLogGroup {
			errs = append(errs, fmt.Errorf("log group %s would have %d metric and subscription filter patterns with a regex; CloudWatch Logs allows %d per group", g, regex, filterpattern.MaxRegexPatternsPerLogGroup))
		}
	}
	return errors.Join(errs...)
}

// hasRegex reports whether an existing filter's pattern has a regex; one
// the parser refuses is not counted.
func hasRegex(pattern string) bool {
	p, err := filterpattern.Parse(pattern)
	return err == nil && p.HasRegex()
}
