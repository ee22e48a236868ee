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

	"github.com/logalert/logalert/internal/emit"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h := &emit.Handler{Out: stdoutLines{w: os.Stdout}, Now: time.Now}
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
