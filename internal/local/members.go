package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// This file holds the member accounts of a central account: each with its
// stack from member.yaml, in its own account of the endpoint, whose
// subscription filters deliver to the central logs destination (Path B),
// and whose writers assume the central writer role to write straight into
// the watched groups (Path A).

// MemberTemplateName is member.yaml, looked for next to template.yaml
// when Config.MemberTemplate is empty.
const MemberTemplateName = "member.yaml"

// MemberDeployment is what the twin set up in one member account.
type MemberDeployment struct {
	AccountID string `json:"account_id"`
	StackName string `json:"stack_name"`
	// LogGroups are the member's groups that its stack subscribes to the
	// central destination.
	LogGroups []string `json:"log_groups"`
}

// member is one member account: its SDK config and log groups.
type member struct {
	dep  MemberDeployment
	cfg  aws.Config
	logs *cloudwatchlogs.Client
	subs []provision.SubscriptionFilter // member.yaml's, to the central destination
}

// memberAccounts returns the template's effective MemberAccountIds.
func memberAccounts(params map[string]string) []string {
	var ids []string
	for id := range strings.SplitSeq(params["MemberAccountIds"], ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// setupMembers sets up every member account of the central stack st: its
// stack from member.yaml, whose subscription filters must deliver to the
// central destination, and the log groups they subscribe (the member's
// own, which member.yaml never creates: created here as the member's
// applications would have them).
func (t *Twin) setupMembers(ctx context.Context, central aws.Config, st *provision.Stack) error {
	ids := memberAccounts(t.dep.Parameters)
	if len(ids) == 0 {
		if t.dep.Parameters["OrganizationId"] != "" {
			t.dep.Skipped = append(t.dep.Skipped, "the organization's accounts (OrganizationId): only the accounts of MemberAccountIds are run locally")
		}
		return nil
	}
	dest := st.Outputs["CentralDestinationArn"]
	t.dep.Destination = dest
	if !provision.IsLogsDestination(dest) {
		return fmt.Errorf("member accounts %s: the stack has no CentralDestinationArn output naming a logs destination (got %q)", strings.Join(ids, ", "), dest)
	}
	path := t.cfg.MemberTemplate
	if path == "" {
		path = filepath.Join(filepath.Dir(t.cfg.Template), MemberTemplateName)
	}
	t.members = map[string]*member{}
	for _, id := range ids {
		if id == t.dep.AccountID {
			return fmt.Errorf("MemberAccountIds: %s is the central account itself", id)
		}
		m, err := t.setupMember(ctx, central, id, path, dest)
		if err != nil {
			return fmt.Errorf("member account %s: %w", id, err)
		}
		t.members[id] = m
		t.dep.Members = append(t.dep.Members, m.dep)
	}
	return nil
}

// setupMember is setupMembers' work for the account id, with member.yaml
// at path.
func (t *Twin) setupMember(ctx context.Context, central aws.Config, id, path, dest string) (*member, error) {
	cfg, err := AccountConfig(ctx, central, id)
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		return nil, err
	}
	params := map[string]string{}
	for k, v := range t.cfg.MemberOverrides {
		params[k] = v
	}
	params["CentralDestinationArn"] = dest
	if err := tmpl.SetParameters(params); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m := &member{cfg: cfg, logs: cloudwatchlogs.NewFromConfig(cfg)}
	pc := provision.NewClients(cfg)
	pc.AccountID = id
	st, err := provision.Apply(ctx, pc, tmpl, t.cfg.StackName+"-member")
	if err != nil {
		return nil, err
	}
	subs, err := st.SubscriptionFilters(tmpl, "")
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, s := range subs {
		if s.DestinationARN != dest {
			errs = append(errs, fmt.Errorf("resource %s: delivers to %q, not to the central destination %s", s.LogicalID, cmp.Or(s.DestinationARN, s.Destination), dest))
		}
		m.dep.LogGroups = append(m.dep.LogGroups, s.Group)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := CreateUserGroups(ctx, m.logs, m.dep.LogGroups); err != nil {
		return nil, err
	}
	m.dep.AccountID, m.dep.StackName = id, st.Name
	m.subs = subs
	// moto refuses a subscription filter to a logs destination (it looks
	// the destination up as a log group): the twin plays the filters, as it
	// plays the central account's.
	t.logf("setup", "member account %s: stack %s from %s; the twin plays its subscription filters on %s to %s", id, st.Name, path, strings.Join(m.dep.LogGroups, ", "), dest)
	return m, nil
}

// MemberWriter returns a Shipper for stream of the member account's log
// group, a line source of Path B: what the member's applications write.
func (t *Twin) MemberWriter(account, group, stream string) (*Shipper, error) {
	m, ok := t.members[account]
	if !ok {
		return nil, fmt.Errorf("account %s is not a member account of the stack (MemberAccountIds)", account)
	}
	return t.writer(account, m.logs, group, stream), nil
}

// CrossAccountWriter returns a Shipper for stream of the central
// account's watched log group, written from the member account as Path A
// writes: with the member's credentials it assumes the stack's writer
// role with externalID. As IAM would (moto checks neither), the twin
// refuses an ExternalId, an account or a log group the role does not
// allow; with OrganizationId set, the member accounts count as the
// organization's.
func (t *Twin) CrossAccountWriter(ctx context.Context, account, externalID, group, stream string) (*Shipper, error) {
	m, ok := t.members[account]
	if !ok {
		return nil, fmt.Errorf("account %s is not a member account of the stack (MemberAccountIds)", account)
	}
	if t.writerRole == nil {
		return nil, errors.New("the stack has no cross-account writer role (set WriterExternalId)")
	}
	if err := t.writerRole.Trusts(account, externalID, t.dep.Parameters["OrganizationId"] != ""); err != nil {
		return nil, fmt.Errorf("assume the writer role from %s: %w", account, err)
	}
	if !slices.Contains(t.dep.LogGroups, group) {
		return nil, fmt.Errorf("role %s may write only into the watched log groups (%s), not %s: access denied", t.writerRole.ARN, strings.Join(t.dep.LogGroups, ", "), group)
	}
	cfg, err := AssumeRole(ctx, m.cfg, t.writerRole.ARN, externalID)
	if err != nil {
		return nil, fmt.Errorf("writer of %s: %w", account, err)
	}
	t.logf("path A", "account %s assumed %s with the ExternalId: writes into %s, stream %s", account, t.writerRole.ARN, group, stream)
	return t.writer(account+"\x00"+t.writerRole.ARN, cloudwatchlogs.NewFromConfig(cfg), group, stream), nil
}

// setupPathB wires Path B: each member's subscription filters deliver, as
// the member account, to the central logs destination, which puts the
// deliveries on its stream; the event source mapping of the stream invokes
// the processor's HandleKinesis. fn is the processor's function.
func (t *Twin) setupPathB(tmpl *samtemplate.Template, st *provision.Stack, fnID string, fn provision.Function, handle KinesisFunction) error {
	mappings, err := st.EventSourceMappings(tmpl)
	if err != nil {
		return err
	}
	if len(mappings) == 0 {
		return nil
	}
	if len(mappings) > 1 {
		return fmt.Errorf("resources %s and %s: the twin runs one event source mapping", mappings[0].LogicalID, mappings[1].LogicalID)
	}
	m := mappings[0]
	if m.Function != fnID {
		return fmt.Errorf("resource %s: invokes %s; only the processor (%s) runs locally", m.LogicalID, m.Function, fnID)
	}
	cfg := KinesisMappingConfig{
		FunctionARN: fn.ARN, StreamARN: m.StreamARN, StartingPosition: kinesistypes.ShardIteratorType(m.StartingPosition),
		BatchSize: m.BatchSize, BatchWindow: m.BatchWindow, MaxRetries: m.MaxRetries, MaxRecordAge: m.MaxRecordAge,
		Bisect: m.Bisect, ReportBatchItemFailures: m.ReportBatchItemFailures, Timeout: fn.Timeout,
	}
	for _, a := range st.Attributes {
		if a["Arn"] == m.OnFailure && m.OnFailure != "" {
			cfg.OnFailureURL = a["QueueUrl"]
		}
	}
	if m.OnFailure != "" && cfg.OnFailureURL == "" {
		return fmt.Errorf("resource %s: DestinationConfig.OnFailure.Destination %q is not a queue of the template", m.LogicalID, m.OnFailure)
	}
	t.mapping, err = NewKinesisMapping(handle, cfg, t.clock, t.c.kinesis, t.c.sqs, t.cfg.KinesisFault, func(format string, args ...any) { t.logf("kinesis", format, args...) })
	if err != nil {
		return fmt.Errorf("resource %s: %w", m.LogicalID, err)
	}
	t.dep.Stream = m.StreamName

	dests, err := st.Destinations(tmpl)
	if err != nil {
		return err
	}
	for _, d := range dests {
		if d.ARN != t.dep.Destination {
			continue
		}
		if d.TargetARN != m.StreamARN {
			return fmt.Errorf("resource %s: puts on %s, which no event source mapping reads", d.LogicalID, d.TargetARN)
		}
		dest, err := NewDestination(t.c.kinesis, DestinationConfig{ARN: d.ARN, TargetARN: d.TargetARN})
		if err != nil {
			return fmt.Errorf("resource %s: %w", d.LogicalID, err)
		}
		t.destination = dest
	}
	if t.destination == nil && len(t.members) > 0 {
		return fmt.Errorf("the member accounts deliver to %s, which is no logs destination of the template", t.dep.Destination)
	}
	for _, id := range slices.Sorted(maps.Keys(t.members)) {
		mem := t.members[id]
		for _, s := range mem.subs {
			w := &watch{account: id, group: s.Group, tail: NewTailer(mem.logs, s.Group, t.origin.UnixMilli())}
			w.subs = append(w.subs, NewDestinationSubscription(s.Name, id, s.Group, s.Pattern, t.destination))
			t.watches = append(t.watches, w)
		}
	}
	return nil
}
