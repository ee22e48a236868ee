// Package awsconfig loads the AWS SDK configuration that every logalert
// binary uses: the standard chain (environment, shared config, credentials,
// AWS_REGION, AWS_ENDPOINT_URL for a local emulator) plus a retryer tuned
// for a pipeline that must not give up on throttling.
package awsconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
)

// MaxAttempts is how many times a request is tried in all. With full-jitter
// exponential backoff capped at MaxBackoff, ten attempts ride out several
// seconds of throttling, well within the processor's timeout.
const (
	MaxAttempts = 10
	MaxBackoff  = 2 * time.Second
)

// Load returns the SDK configuration from the standard chain with the
// tuned retryer. Throttling errors and 5xx responses are retried with
// backoff; the client-side retry quota is disabled because a burst of
// throttles is exactly when retries matter.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{config.WithRetryer(NewRetryer)}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// NewRetryer returns the tuned standard retryer.
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = MaxBackoff
		o.RateLimiter = ratelimit.None
	})
}
