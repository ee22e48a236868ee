package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/logalert/logalert/internal/pipeline"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	p, err := pipeline.FromEnv(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("processor init", "err", err)
		os.Exit(1)
	}
	lambda.Start(p.Invoke)
}
