package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/emit"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h := &emit.Handler{
		Out:      stdoutLines{w: os.Stdout},
		OwnGroup: os.Getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
		Groups:   awslogs.SplitGroups(os.Getenv("WATCHED_LOG_GROUPS")),
		Now:      time.Now,
	}
	if len(h.Groups) > 0 && (len(h.Groups) > 1 || h.Groups[0] != h.OwnGroup) {
		cfg, err := awsconfig.Load(context.Background())
		if err != nil {
			slog.Error("emitter init", "err", err)
			os.Exit(1)
		}
		logs := cloudwatchlogs.NewFromConfig(cfg)
		h.Open = func(group string) emit.LineWriter { return newGroupLines(logs, group, time.Now) }
	}
	lambda.Start(h.Handle)
}

// stdoutLines writes one line per log event: Lambda turns every line of
// standard output into an event of the function's log group.
type stdoutLines struct{ w io.Writer }

// WriteLines writes lines, each ended by a newline, and flushes.
func (l stdoutLines) WriteLines(_ context.Context, lines []string) error {
	bw := bufio.NewWriter(l.w)
	for _, line := range lines {
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
