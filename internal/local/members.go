package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

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
	return t.writer(account+"\x00"+t.writerRole.ARN, cloudwatchlogs.NewFromConfig(cfg), group, stream), nil
}
