package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/samtemplate"
)

// This file plays an account-level subscription filter policy
// (AWS::Logs::AccountPolicy of type SUBSCRIPTION_FILTER_POLICY), which
// moto does not implement: every log group of the account, but those its
// selection criteria leave out, delivers its matching events to the
// destination, the groups created later included.

// accountPolicySpec is an active subscription filter policy of the
// template.
type accountPolicySpec struct {
	id, name    string
	pattern     *filterpattern.Pattern
	destination string          // the logical id of the destination function
	excluded    map[string]bool // LogGroupName NOT IN [...]
}

// policyDocument is a SUBSCRIPTION_FILTER_POLICY's PolicyDocument.
type policyDocument struct {
	DestinationArn string `json:"DestinationArn"`
	FilterPattern  string `json:"FilterPattern"`
	Distribution   string `json:"Distribution"`
	RoleArn        string `json:"RoleArn"`
}

// accountPolicies returns the template's active subscription filter
// policies; an account has room for one.
func accountPolicies(t *samtemplate.Template, env *samtemplate.Env, attrs map[string]map[string]string) ([]accountPolicySpec, error) {
	var (
		out  []accountPolicySpec
		errs []error
	)
	for id, p := range activeResources(t, env, "AWS::Logs::AccountPolicy", &errs) {
		if p.str("PolicyType", true) != "SUBSCRIPTION_FILTER_POLICY" {
			continue
		}
		spec := accountPolicySpec{id: id, name: p.str("PolicyName", true)}
		if scope := p.str("Scope", false); scope != "" && scope != "ALL" {
			p.fail("Scope", fmt.Errorf("%q: the only scope is ALL", scope))
		}
		var doc policyDocument
		if err := json.Unmarshal([]byte(p.str("PolicyDocument", true)), &doc); err != nil {
			p.fail("PolicyDocument", fmt.Errorf("not a JSON policy document: %w", err))
		}
		pattern, err := filterpattern.Parse(doc.FilterPattern)
		if err != nil {
			p.fail("PolicyDocument.FilterPattern", err)
		}
		spec.pattern = pattern
		spec.destination = destinationFunction(t, attrs, p, "PolicyDocument.DestinationArn", doc.DestinationArn)
		excluded, err := ParseSelectionCriteria(p.str("SelectionCriteria", false))
		if err != nil {
			p.fail("SelectionCriteria", err)
		}
		spec.excluded = map[string]bool{}
		for _, g := range excluded {
			spec.excluded[g] = true
		}
		if err := p.err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, spec)
	}
	if len(out) > 1 {
		errs = append(errs, fmt.Errorf("resources %s and %s: an account has one subscription filter policy", out[0].id, out[1].id))
	}
	return out, errors.Join(errs...)
}

// ParseSelectionCriteria reads a subscription filter policy's selection
// criteria, the only documented form being
//
//	LogGroupName NOT IN ["group1", "group2"]
//
// (exact names; no prefixes or wildcards), and returns the names left out.
// Empty criteria select every group.
func ParseSelectionCriteria(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	list, ok := strings.CutPrefix(s, "LogGroupName NOT IN ")
	if !ok {
		return nil, fmt.Errorf("%q: want LogGroupName NOT IN [\"name\", ...]", s)
	}
	var names []string
	if err := json.Unmarshal([]byte(list), &names); err != nil {
		return nil, fmt.Errorf("%q: the list is not a JSON list of names: %w", s, err)
	}
	return names, nil
}

// accountWatch is the account policy the twin plays.
type accountWatch struct {
	spec    accountPolicySpec
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
			return fmt.Errorf("account policy %s: list log groups: %w", a.spec.name, err)
		}
		for _, g := range out.LogGroups {
			name := aws.ToString(g.LogGroupName)
			if a.seen[name] {
				continue
			}
			a.seen[name] = true
			if a.spec.excluded[name] {
				t.logf("setup", "account policy %s: %s excluded", a.spec.name, name)
				continue
			}
			w := t.watchOf(name)
			w.subs = append(w.subs, NewSubscription(a.spec.name, t.dep.AccountID, name, a.spec.pattern, a.invoker))
			t.dep.LogGroups = append(t.dep.LogGroups, name)
			slices.Sort(t.dep.LogGroups)
			t.dep.LogGroups = slices.Compact(t.dep.LogGroups)
			t.logf("setup", "account policy %s: watching %s", a.spec.name, name)
		}
	}
	return nil
}
