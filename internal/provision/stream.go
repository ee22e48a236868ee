package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/logalert/logalert/internal/samtemplate"
)

// This file creates a central account's Kinesis stream and the logs
// destination that writes into it, the two resources of Path B that an
// endpoint holds.

// StreamAPI is the subset of *kinesis.Client that Apply calls.
type StreamAPI interface {
	CreateStream(ctx context.Context, in *kinesis.CreateStreamInput, optFns ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	IncreaseStreamRetentionPeriod(ctx context.Context, in *kinesis.IncreaseStreamRetentionPeriodInput, optFns ...func(*kinesis.Options)) (*kinesis.IncreaseStreamRetentionPeriodOutput, error)
}

// defaultStreamRetention is a Kinesis stream's retention unless set.
const defaultStreamRetention = 24

// stream creates an AWS::Kinesis::Stream (keeping one that exists) and
// returns its ARN, once it is ACTIVE.
func (s *Stack) stream(ctx context.Context, c Clients, t *samtemplate.Template, id, name string, env *samtemplate.Env) (string, error) {
	if c.Kinesis == nil {
		return "", errors.New("no Kinesis client")
	}
	p, err := resolve(t, id, "AWS::Kinesis::Stream", env)
	if err != nil {
		return "", err
	}
	in := &kinesis.CreateStreamInput{StreamName: aws.String(name)}
	if mode := p.String("StreamModeDetails.StreamMode"); mode == string(kinesistypes.StreamModeOnDemand) {
		in.StreamModeDetails = &kinesistypes.StreamModeDetails{StreamMode: kinesistypes.StreamModeOnDemand}
	} else {
		in.ShardCount = aws.Int32(int32(p.Int("ShardCount", 1)))
	}
	hours := int32(p.Int("RetentionPeriodHours", defaultStreamRetention))
	if p.Has("StreamEncryption") {
		s.Skipped = append(s.Skipped, id+".StreamEncryption: no KMS key is created locally")
	}
	if err := p.Err(); err != nil {
		return "", err
	}
	_, err = c.Kinesis.CreateStream(ctx, in)
	var exists *kinesistypes.ResourceInUseException
	if err != nil && !errors.As(err, &exists) {
		return "", fmt.Errorf("create stream %s: %w", name, err)
	}
	sum, err := c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	for err == nil && sum.StreamDescriptionSummary.StreamStatus == kinesistypes.StreamStatusCreating {
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for stream %s: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		sum, err = c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	}
	if err != nil {
		return "", fmt.Errorf("describe stream %s: %w", name, err)
	}
	if hours > aws.ToInt32(sum.StreamDescriptionSummary.RetentionPeriodHours) {
		if _, err := c.Kinesis.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: &hours}); err != nil {
			return "", fmt.Errorf("retention of stream %s: %w", name, err)
		}
	}
	return aws.ToString(sum.StreamDescriptionSummary.StreamARN), nil
}

// destination creates or updates an AWS::Logs::Destination and its
// policy, and returns its ARN.
func (s *Stack) destination(ctx context.Context, c Clients, t *samtemplate.Template, id string, env *samtemplate.Env) (name, arn string, err error) {
	if c.Logs == nil {
		return "", "", errors.New("no CloudWatch Logs client")
	}
	p, err := resolve(t, id, "AWS::Logs::Destination", env)
	if err != nil {
		return "", "", err
	}
	name = p.Required("DestinationName")
	in := &cloudwatchlogs.PutDestinationInput{
		DestinationName: aws.String(name),
		TargetArn:       aws.String(p.Required("TargetArn")),
		RoleArn:         aws.String(p.Required("RoleArn")),
	}
	policy := p.String("DestinationPolicy")
	if err := p.Err(); err != nil {
		return "", "", err
	}
	out, err := c.Logs.PutDestination(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("put destination %s: %w", name, err)
	}
	if policy != "" {
		if _, err := c.Logs.PutDestinationPolicy(ctx, &cloudwatchlogs.PutDestinationPolicyInput{DestinationName: aws.String(name), AccessPolicy: aws.String(policy)}); err != nil {
			return "", "", fmt.Errorf("put policy of destination %s: %w", name, err)
		}
	}
	return name, aws.ToString(out.Destination.Arn), nil
}
