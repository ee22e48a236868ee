package provision

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/logalert/logalert/internal/samtemplate"
)

// This file reads what a central account's stack adds for its member
// accounts: the event source mappings that feed a function from a Kinesis
// stream (Path B, after the logs destination) and the role writers of
// other accounts assume to write into the watched groups (Path A).

// EventSourceMapping is an AWS::Lambda::EventSourceMapping from a Kinesis
// stream of the template to a function of the template, with Lambda's
// defaults for what it leaves unset.
type EventSourceMapping struct {
	LogicalID string
	// StreamARN and StreamName name the stream (EventSourceArn).
	StreamARN, StreamName string
	// Function is the logical id of the function it invokes.
	Function string
	// StartingPosition is TRIM_HORIZON or LATEST.
	StartingPosition string
	// BatchSize is the most records per invocation (default 100).
	BatchSize int
	// BatchWindow is MaximumBatchingWindowInSeconds (default 0).
	BatchWindow time.Duration
	// MaxRetries is MaximumRetryAttempts; -1 (the default) retries until
	// the records expire.
	MaxRetries int
	// MaxRecordAge is MaximumRecordAgeInSeconds; -1 (the default) keeps
	// records as long as the stream does.
	MaxRecordAge time.Duration
	// Bisect is BisectBatchOnFunctionError.
	Bisect bool
	// ReportBatchItemFailures says whether FunctionResponseTypes has
	// ReportBatchItemFailures.
	ReportBatchItemFailures bool
	// OnFailure is DestinationConfig.OnFailure.Destination: the ARN of the
	// queue that gets a record of each batch given up ("" for none).
	OnFailure string
}

// Lambda's defaults for a Kinesis event source mapping.
const (
	defaultKinesisBatchSize = 100
	unlimited               = -1
)

// EventSourceMappings returns the active event source mappings whose
// source is a Kinesis stream of the template; each must invoke a function
// of the template.
func (s *Stack) EventSourceMappings(t *samtemplate.Template) ([]EventSourceMapping, error) {
	var (
		out  []EventSourceMapping
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Lambda::EventSourceMapping", &errs) {
		m := EventSourceMapping{
			LogicalID:        id,
			StreamARN:        p.Required("EventSourceArn"),
			StartingPosition: p.Required("StartingPosition"),
			BatchSize:        p.Int("BatchSize", defaultKinesisBatchSize),
			BatchWindow:      time.Duration(p.Int("MaximumBatchingWindowInSeconds", 0)) * time.Second,
			MaxRetries:       p.Int("MaximumRetryAttempts", unlimited),
			Bisect:           p.Bool("BisectBatchOnFunctionError", false),
			OnFailure:        p.String("DestinationConfig.OnFailure.Destination"),
		}
		if age := p.Int("MaximumRecordAgeInSeconds", unlimited); age == unlimited {
			m.MaxRecordAge = unlimited
		} else {
			m.MaxRecordAge = time.Duration(age) * time.Second
		}
		m.ReportBatchItemFailures = slices.Contains(p.Strings("FunctionResponseTypes"), "ReportBatchItemFailures")
		for stream, a := range s.Attributes {
			if a["Arn"] == m.StreamARN && resourceType(t, stream) == "AWS::Kinesis::Stream" {
				m.StreamName = s.PhysicalIDs[stream]
			}
		}
		if m.StreamName == "" && m.StreamARN != "" {
			p.Fail("EventSourceArn", fmt.Errorf("%s is not a Kinesis stream of the template; only those run locally", m.StreamARN))
		}
		m.Function = s.functionNamed(t, p.Required("FunctionName"))
		if m.Function == "" {
			p.Fail("FunctionName", errors.New("not a function of the template"))
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	return out, errors.Join(errs...)
}

// functionNamed returns the logical id of the function that name (its
// Ref, name or ARN) stands for, "" when there is none.
func (s *Stack) functionNamed(t *samtemplate.Template, name string) string {
	for id, a := range s.Attributes {
		if isFunction(t, id) && (a["Arn"] == name || s.PhysicalIDs[id] == name) {
			return id
		}
	}
	return ""
}

// resourceType is the type of the resource id ("" when there is none).
func resourceType(t *samtemplate.Template, id string) string {
	r, err := t.Resource(id)
	if err != nil {
		return ""
	}
	return r.Type
}

// WriterRole is an AWS::IAM::Role that principals of other accounts may
// assume only with an ExternalId: the central account's writer role
// (Path A).
type WriterRole struct {
	LogicalID, ARN string
	// ExternalID is the sts:ExternalId its trust policy requires.
	ExternalID string
	// Accounts are the accounts its trust policy names.
	Accounts []string
	// OrganizationID is the aws:PrincipalOrgID its trust policy requires,
	// if any: then every account of that organization may assume it.
	OrganizationID string
}

// Trusts reports whether the role lets account assume it with externalID:
// the account is named, or in the organization when orgMember says so.
func (r WriterRole) Trusts(account, externalID string, orgMember bool) error {
	if externalID != r.ExternalID {
		return fmt.Errorf("role %s requires its ExternalId: access denied", r.ARN)
	}
	if !slices.Contains(r.Accounts, account) && (r.OrganizationID == "" || !orgMember) {
		return fmt.Errorf("role %s does not trust account %s: access denied", r.ARN, account)
	}
	return nil
}

// WriterRoles returns the active roles whose trust policy requires an
// sts:ExternalId.
func (s *Stack) WriterRoles(t *samtemplate.Template) ([]WriterRole, error) {
	var (
		out  []WriterRole
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::IAM::Role", &errs) {
		r := WriterRole{LogicalID: id, ARN: s.Attributes[id]["Arn"]}
		for _, st := range p.List("AssumeRolePolicyDocument.Statement") {
			if st.String("Effect") != "Allow" {
				continue
			}
			for _, op := range []string{"StringEquals", "StringLike"} {
				if c, ok := st.Map("Condition." + op); ok {
					r.ExternalID = cmp.Or(r.ExternalID, c.String("sts:ExternalId"))
					r.OrganizationID = cmp.Or(r.OrganizationID, c.String("aws:PrincipalOrgID"))
				}
			}
			for _, principal := range principals(st) {
				if a, err := arn.Parse(principal); err == nil && a.AccountID != "" {
					r.Accounts = append(r.Accounts, a.AccountID)
				} else if isAccountID(principal) {
					r.Accounts = append(r.Accounts, principal)
				}
			}
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		if r.ExternalID != "" {
			slices.Sort(r.Accounts)
			r.Accounts = slices.Compact(r.Accounts)
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}

// principals returns a statement's Principal.AWS, a string or a list.
func principals(st *samtemplate.Props) []string {
	v, ok := st.Value("Principal.AWS")
	if !ok {
		return nil
	}
	if _, isList := v.([]any); isList {
		return st.Strings("Principal.AWS")
	}
	return []string{st.String("Principal.AWS")}
}

// isAccountID reports whether s is a 12-digit account id.
func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

// LogDestination is an AWS::Logs::Destination: where the subscription
// filters of other accounts deliver, and the stream it puts their
// deliveries on.
type LogDestination struct {
	LogicalID, Name, ARN string
	TargetARN            string // the Kinesis stream
}

// Destinations returns the active logs destinations; Apply must have
// created them (their ARNs are the endpoint's).
func (s *Stack) Destinations(t *samtemplate.Template) ([]LogDestination, error) {
	var (
		out  []LogDestination
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::Destination", &errs) {
		d := LogDestination{LogicalID: id, Name: s.PhysicalIDs[id], ARN: s.Attributes[id]["Arn"], TargetARN: p.Required("TargetArn")}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}
