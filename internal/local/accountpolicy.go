package local

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/provision"
)

// This file plays an account-level subscription filter policy
// (AWS::Logs::AccountPolicy of type SUBSCRIPTION_FILTER_POLICY), which
// moto does not implement: every log group of the account, but those its
// selection criteria leave out, delivers its matching events to the
// destination, the groups created later included. provision.Stack reads
// the policy from the template.

// accountWatch is the account policy the twin plays.
type accountWatch struct {
	spec    provision.AccountPolicy
	invoker submitter
	seen    map[string]bool // groups already looked at
}

// discover looks for log groups the policy has not met yet and watches the
// ones it selects, from the start of the run on.
func (t *Twin) discover(ctx context.Context) error {
	a := t.account
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(t.c.logs, &cloudwatchlogs.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("account policy %s: list log groups: %w", a.spec.Name, err)
		}
		for _, g := range out.LogGroups {
			name := aws.ToString(g.LogGroupName)
			if a.seen[name] {
				continue
			}
			a.seen[name] = true
			if a.spec.Excluded[name] {
				t.logf("setup", "account policy %s: %s excluded", a.spec.Name, name)
				continue
			}
			w := t.watchOf(name)
			w.subs = append(w.subs, NewSubscription(a.spec.Name, t.dep.AccountID, name, a.spec.Pattern, a.invoker))
			t.dep.LogGroups = append(t.dep.LogGroups, name)
			slices.Sort(t.dep.LogGroups)
			t.dep.LogGroups = slices.Compact(t.dep.LogGroups)
			t.logf("setup", "account policy %s: watching %s", a.spec.Name, name)
		}
	}
	return nil
}
