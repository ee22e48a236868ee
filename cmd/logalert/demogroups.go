package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/local"
)

// demoGroups are the log groups the demo creates first, as a user's own:
// the LogGroupNames, and with WatchAccount=true two groups of another
// team that only the account policy watches. With MemberAccountIds, each
// member account has memberGroup (member.yaml's LogGroupNames, which the
// twin creates in each member account).
type demoGroups struct {
	named, others []string
	memberGroup   string
}

func demoGroupsOf(overrides map[string]string, stack string) demoGroups {
	g := demoGroups{named: awslogs.SplitGroups(overrides["LogGroupNames"])}
	if overrides["WatchAccount"] == "true" {
		g.others = []string{"/aws/lambda/" + stack + "-orders", "/ecs/" + stack + "-web"}
	}
	if overrides["MemberAccountIds"] != "" {
		g.memberGroup = "/aws/lambda/" + stack + "-member-orders"
	}
	return g
}

// memberOverrides are member.yaml's parameters for each member account:
// its group, and the central ErrorPattern when the demo sets one, as
// member.yaml asks.
func (g demoGroups) memberOverrides(overrides map[string]string) map[string]string {
	if g.memberGroup == "" {
		return nil
	}
	m := map[string]string{"LogGroupNames": g.memberGroup}
	if p, ok := overrides["ErrorPattern"]; ok {
		m["FilterPattern"] = p
	}
	return m
}

// writerExternalID gives the demo's Path A writer role an ExternalId of
// this run's own when member accounts are set and the overrides name
// none, as a real deployment would pick a secret one.
func writerExternalID(overrides map[string]string) {
	if overrides["MemberAccountIds"] == "" || overrides["WriterExternalId"] != "" {
		return
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	overrides["WriterExternalId"] = "demo-" + hex.EncodeToString(b[:])
}

// create creates the groups, as the user had them before the stack.
func (g demoGroups) create(ctx context.Context, ep endpoint) error {
	return local.CreateUserGroups(ctx, cloudwatchlogs.NewFromConfig(ep.aws), append(g.named, g.others...))
}

// emit has the emitter write req into every named group (into its default
// one without LogGroupNames), writes the same lines into the other
// groups, and, with an account policy, an error line into the processor's
// own group, which must never reach the processor.
func (g demoGroups) emit(ctx context.Context, tw *local.Twin, req emit.Request) error {
	if len(g.named) == 0 {
		if _, err := tw.Emit(ctx, req); err != nil {
			return err
		}
	}
	for _, n := range g.named {
		r := req
		r.LogGroup = n
		if _, err := tw.Emit(ctx, r); err != nil {
			return err
		}
	}
	lines, _, err := emit.Lines(req, emit.RunID(tw.Clock().Now()))
	if err != nil {
		return err
	}
	for _, o := range g.others {
		if err := tw.WriterIn(o, "web/app").WriteLines(ctx, lines); err != nil {
			return fmt.Errorf("write into %s: %w", o, err)
		}
	}
	if err := g.emitMembers(ctx, tw, lines); err != nil {
		return err
	}
	if d := tw.Deployment(); d.AccountPolicy != "" && d.ProcessorLogGroup != "" {
		line := `{"level":"ERROR","msg":"delivery failed","err":"demo: the processor's own error line"}`
		if err := tw.WriterIn(d.ProcessorLogGroup, "processor/demo").WriteLines(ctx, []string{line}); err != nil {
			return fmt.Errorf("write into %s: %w", d.ProcessorLogGroup, err)
		}
	}
	return nil
}

// emitMembers writes lines in every member account twice: into its own
// group (Path B: destination, Kinesis, the processor's event source
// mapping) and, through the writer role, into the central account's
// default watched group (Path A).
func (g demoGroups) emitMembers(ctx context.Context, tw *local.Twin, lines []string) error {
	d := tw.Deployment()
	for _, m := range d.Members {
		for _, group := range m.LogGroups {
			w, err := tw.MemberWriter(m.AccountID, group, "2026/01/01/[$LATEST]demo")
			if err != nil {
				return err
			}
			if err := w.WriteLines(ctx, lines); err != nil {
				return fmt.Errorf("member account %s: write into %s: %w", m.AccountID, group, err)
			}
		}
		if d.WriterRole == "" {
			continue
		}
		w, err := tw.CrossAccountWriter(ctx, m.AccountID, d.Parameters["WriterExternalId"], d.LogGroup, "member-"+m.AccountID+"/app")
		if err != nil {
			return err
		}
		if err := w.WriteLines(ctx, lines); err != nil {
			return fmt.Errorf("member account %s: write into %s through the writer role: %w", m.AccountID, d.LogGroup, err)
		}
	}
	return nil
}
