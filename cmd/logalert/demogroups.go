package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/emit"
	"github.com/logalert/logalert/internal/local"
)

// demoGroups are the log groups the demo creates first, as a user's own:
// the LogGroupNames, and with WatchAccount=true two groups of another
// team that only the account policy watches.
type demoGroups struct {
	named, others []string
}

func demoGroupsOf(overrides map[string]string, stack string) demoGroups {
	g := demoGroups{named: awslogs.SplitGroups(overrides["LogGroupNames"])}
	if overrides["WatchAccount"] == "true" {
		g.others = []string{"/aws/lambda/" + stack + "-orders", "/ecs/" + stack + "-web"}
	}
	return g
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
	if d := tw.Deployment(); d.AccountPolicy != "" && d.ProcessorLogGroup != "" {
		line := `{"level":"ERROR","msg":"delivery failed","err":"demo: the processor's own error line"}`
		if err := tw.WriterIn(d.ProcessorLogGroup, "processor/demo").WriteLines(ctx, []string{line}); err != nil {
			return fmt.Errorf("write into %s: %w", d.ProcessorLogGroup, err)
		}
	}
	return nil
}
