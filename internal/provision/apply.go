package provision

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/logalert/logalert/internal/samtemplate"
)

// LogsAPI is the subset of *cloudwatchlogs.Client that Apply calls.
type LogsAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	PutDestination(ctx context.Context, in *cloudwatchlogs.PutDestinationInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutDestinationOutput, error)
	PutDestinationPolicy(ctx context.Context, in *cloudwatchlogs.PutDestinationPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutDestinationPolicyOutput, error)
}

// TopicAPI is the subset of *sns.Client that Apply calls.
type TopicAPI interface {
	CreateTopic(ctx context.Context, in *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error)
	Subscribe(ctx context.Context, in *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	Unsubscribe(ctx context.Context, in *sns.UnsubscribeInput, optFns ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
}

// QueueAPI is the subset of *sqs.Client that Apply calls.
type QueueAPI interface {
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	SetQueueAttributes(ctx context.Context, in *sqs.SetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.SetQueueAttributesOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Clients are the service clients Apply uses, and the account it acts in.
type Clients struct {
	DynamoDB TableAPI
	Logs     LogsAPI
	SNS      TopicAPI
	SQS      QueueAPI
	Kinesis  StreamAPI

	// Region and AccountID fill AWS::Region and AWS::AccountId and the ARNs
	// Apply builds; empty means us-east-1 and moto's 123456789012.
	Region    string
	AccountID string
}

// NewClients returns Clients for cfg (region from cfg, moto's account id).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		Logs:     cloudwatchlogs.NewFromConfig(cfg),
		SNS:      sns.NewFromConfig(cfg),
		SQS:      sqs.NewFromConfig(cfg),
		Kinesis:  kinesis.NewFromConfig(cfg),
		Region:   cfg.Region,
	}
}

// Stack is what Apply set up, keyed by logical id.
type Stack struct {
	Name      string
	Region    string // AWS::Region of the stack
	AccountID string // AWS::AccountId of the stack
	// PhysicalIDs holds what Ref returns for every resource whose condition
	// holds: table and log group names, the topic ARN, the queue URL, and for
	// the resources Apply does not create (functions, alarms, ...) the name
	// CloudFormation would be given or stackName-LogicalID.
	PhysicalIDs map[string]string
	// Attributes holds the Fn::GetAtt values of the created resources (Arn,
	// QueueName, TopicName, ...).
	Attributes map[string]map[string]string
	// Outputs are the template's Outputs evaluated against this stack.
	Outputs map[string]string
	// Created lists the logical ids Apply created (or found), in order.
	Created []string
	// NotCreated lists the active resources of types Apply does not create.
	NotCreated []string
	// Skipped says which settings of created resources the endpoint could
	// not take, e.g. "AppLogGroup.KmsKeyId: no KMS key is created locally".
	Skipped []string
	// Unsubscribed lists the email endpoints Apply removed from the stack's
	// topics because the template no longer declares them (AlarmEmail
	// changed or emptied since an earlier run), as "topic ARN: endpoint".
	Unsubscribed []string

	emails map[string]map[string]bool // topic ARN -> declared "protocol:endpoint" of email subscriptions
}

// Env returns the samtemplate.Env that resolves the template against s, for
// example a function's Environment for the local twin.
func (s *Stack) Env() *samtemplate.Env {
	return &samtemplate.Env{
		StackName:   s.Name,
		Region:      s.Region,
		AccountID:   s.AccountID,
		PhysicalIDs: s.PhysicalIDs,
		GetAtt:      s.getAtt,
	}
}

func (s *Stack) getAtt(logicalID, attr string) (any, error) {
	if v, ok := s.Attributes[logicalID][attr]; ok {
		return v, nil
	}
	if _, ok := s.PhysicalIDs[logicalID]; !ok {
		return nil, fmt.Errorf("resource %s is not set up yet", logicalID)
	}
	return nil, fmt.Errorf("attribute %s of %s is not known locally", attr, logicalID)
}

// nameProperty is the property that names a resource of each type.
var nameProperty = map[string]string{
	"AWS::DynamoDB::Table":       "TableName",
	"AWS::Logs::LogGroup":        "LogGroupName",
	"AWS::SNS::Topic":            "TopicName",
	"AWS::SQS::Queue":            "QueueName",
	"AWS::CloudWatch::Alarm":     "AlarmName",
	"AWS::CloudWatch::Dashboard": "DashboardName",
	"AWS::Serverless::Function":  "FunctionName",
	"AWS::Lambda::Function":      "FunctionName",
	"AWS::IAM::Role":             "RoleName",
	"AWS::KMS::Alias":            "AliasName",
	"AWS::Kinesis::Stream":       "Name",
	"AWS::Logs::Destination":     "DestinationName",
}

// Apply creates in the clients' endpoint every active resource of t that a
// local run needs (AWS::DynamoDB::Table, AWS::Logs::LogGroup,
// AWS::SNS::Topic, AWS::SNS::Subscription, AWS::SQS::Queue,
// AWS::Kinesis::Stream, AWS::Logs::Destination), in reference
// order, each from its own resolved properties, and records stand-in ids and
// ARNs for the other resources so that references and Outputs resolve.
// Resources that exist already are kept, so Apply can run again. Parameters
// are the template's effective values (see samtemplate.SetParameters).
func Apply(ctx context.Context, c Clients, t *samtemplate.Template, stackName string) (*Stack, error) {
	if stackName == "" {
		return nil, errors.New("apply: empty stack name")
	}
	s := &Stack{
		Name:        stackName,
		Region:      c.region(),
		AccountID:   c.account(),
		PhysicalIDs: map[string]string{},
		Attributes:  map[string]map[string]string{},
		emails:      map[string]map[string]bool{},
	}
	env := s.Env()
	order, err := t.Order()
	if err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	for _, id := range order {
		active, err := t.Active(id, env)
		if err != nil {
			return nil, fmt.Errorf("apply: %w", err)
		}
		if !active {
			continue
		}
		if err := s.apply(ctx, c, t, id, env); err != nil {
			return nil, fmt.Errorf("apply %s: %w", id, err)
		}
	}
	if err := s.pruneEmails(ctx, c); err != nil {
		return nil, fmt.Errorf("apply: %w", err)
	}
	if s.Outputs, err = t.EvalOutputs(env); err != nil {
		return nil, fmt.Errorf("apply: outputs: %w", err)
	}
	return s, nil
}

// declare records a subscription the template declares, if it is an email
// one (the only kind pruneEmails removes).
func (s *Stack) declare(topicARN, protocol, endpoint string) {
	if !isEmail(protocol) {
		return
	}
	if s.emails[topicARN] == nil {
		s.emails[topicARN] = map[string]bool{}
	}
	s.emails[topicARN][protocol+":"+endpoint] = true
}

// isEmail reports whether an SNS subscription protocol delivers email.
func isEmail(protocol string) bool { return protocol == "email" || protocol == "email-json" }

// pruneEmails removes from the stack's topics the email subscriptions the
// template does not declare, as a CloudFormation update deletes a removed
// AWS::SNS::Subscription. Other protocols (the twin's own SQS relay, say)
// are left alone.
func (s *Stack) pruneEmails(ctx context.Context, c Clients) error {
	for topic, declared := range s.emails {
		var next *string
		for {
			out, err := c.SNS.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic), NextToken: next})
			if err != nil {
				return fmt.Errorf("list subscriptions of %s: %w", topic, err)
			}
			for _, sub := range out.Subscriptions {
				proto, endpoint := aws.ToString(sub.Protocol), aws.ToString(sub.Endpoint)
				if !isEmail(proto) || declared[proto+":"+endpoint] {
					continue
				}
				if _, err := c.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: sub.SubscriptionArn}); err != nil {
					return fmt.Errorf("unsubscribe %s from %s: %w", endpoint, topic, err)
				}
				s.Unsubscribed = append(s.Unsubscribed, topic+": "+endpoint)
			}
			if next = out.NextToken; next == nil {
				break
			}
		}
	}
	return nil
}

func (s *Stack) apply(ctx context.Context, c Clients, t *samtemplate.Template, id string, env *samtemplate.Env) error {
	r := t.Resources[id]
	name, err := s.physicalName(t, r, env)
	if err != nil {
		return err
	}
	attrs := map[string]string{}
	switch r.Type {
	case "AWS::DynamoDB::Table":
		if c.DynamoDB == nil {
			return errors.New("no DynamoDB client")
		}
		arn, skipped, err := createTable(ctx, c.DynamoDB, t, id, name, env)
		if err != nil {
			return err
		}
		for _, k := range skipped {
			s.Skipped = append(s.Skipped, id+"."+k+": not supported by the endpoint")
		}
		s.PhysicalIDs[id], attrs["Arn"] = name, arn
	case "AWS::Logs::LogGroup":
		if err := s.logGroup(ctx, c, t, id, name, env); err != nil {
			return err
		}
		s.PhysicalIDs[id] = name
		attrs["Arn"] = fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", cmp.Or(env.Partition, "aws"), c.region(), c.account(), name)
	case "AWS::SNS::Topic":
		arn, err := s.topic(ctx, c, t, id, name, env)
		if err != nil {
			return err
		}
		s.PhysicalIDs[id], attrs["TopicArn"], attrs["TopicName"] = arn, arn, name
	case "AWS::SNS::Subscription":
		arn, err := s.subscription(ctx, c, t, id, env)
		if err != nil {
			return err
		}
		s.PhysicalIDs[id], attrs["Arn"] = arn, arn
	case "AWS::SQS::Queue":
		url, arn, err := s.queue(ctx, c, t, id, name, env)
		if err != nil {
			return err
		}
		s.PhysicalIDs[id], attrs["QueueUrl"], attrs["Arn"], attrs["QueueName"] = url, url, arn, name
	case "AWS::Kinesis::Stream":
		arn, err := s.stream(ctx, c, t, id, name, env)
		if err != nil {
			return err
		}
		s.PhysicalIDs[id], attrs["Arn"] = name, arn
	case "AWS::Logs::Destination":
		dname, arn, err := s.destination(ctx, c, t, id, env)
		if err != nil {
			return err
		}
		s.PhysicalIDs[id], attrs["Arn"] = dname, arn
	default:
		s.PhysicalIDs[id] = name
		s.Attributes[id] = standIn(r.Type, name, c, env)
		s.NotCreated = append(s.NotCreated, id)
		return nil
	}
	s.Attributes[id] = attrs
	s.Created = append(s.Created, id)
	return nil
}

func (c Clients) region() string  { return cmp.Or(c.Region, samtemplate.DefaultRegion) }
func (c Clients) account() string { return cmp.Or(c.AccountID, samtemplate.DefaultAccountID) }

// physicalName is the resource's name property when it has one, else
// stackName-LogicalID (CloudFormation adds a random suffix; locally the
// name stays stable so re-runs find the same resources).
func (s *Stack) physicalName(t *samtemplate.Template, r *samtemplate.Resource, env *samtemplate.Env) (string, error) {
	if prop, ok := nameProperty[r.Type]; ok {
		if raw, ok := r.Properties[prop]; ok {
			v, err := t.Eval(raw, env)
			if err != nil {
				return "", fmt.Errorf("Properties.%s: %w", prop, err)
			}
			name, err := samtemplate.String(v)
			if err != nil {
				return "", fmt.Errorf("Properties.%s: %w", prop, err)
			}
			return name, nil
		}
	}
	name := s.Name + "-" + r.LogicalID
	if raw, ok := r.Properties["FifoQueue"]; ok && r.Type == "AWS::SQS::Queue" {
		v, err := t.Eval(raw, env)
		if err != nil {
			return "", fmt.Errorf("Properties.FifoQueue: %w", err)
		}
		fifo, err := samtemplate.Bool(v)
		if err != nil {
			return "", fmt.Errorf("Properties.FifoQueue: %w", err)
		}
		if fifo {
			name += ".fifo"
		}
	}
	return name, nil
}

// standIn returns the attributes a resource Apply does not create would
// have, so that Fn::GetAtt on it resolves.
func standIn(typ, name string, c Clients, env *samtemplate.Env) map[string]string {
	p, region, account := cmp.Or(env.Partition, "aws"), c.region(), c.account()
	switch typ {
	case "AWS::KMS::Key":
		return map[string]string{"Arn": fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", p, region, account, name), "KeyId": name}
	case "AWS::Serverless::Function", "AWS::Lambda::Function":
		return map[string]string{"Arn": fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, region, account, name)}
	case "AWS::IAM::Role":
		return map[string]string{"Arn": fmt.Sprintf("arn:%s:iam::%s:role/%s", p, account, name), "RoleId": name}
	case "AWS::CloudWatch::Alarm":
		return map[string]string{"Arn": fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", p, region, account, name)}
	}
	return map[string]string{}
}

func (s *Stack) logGroup(ctx context.Context, c Clients, t *samtemplate.Template, id, name string, env *samtemplate.Env) error {
	if c.Logs == nil {
		return errors.New("no CloudWatch Logs client")
	}
	p, err := resolve(t, id, "AWS::Logs::LogGroup", env)
	if err != nil {
		return err
	}
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name}
	if p.Has("KmsKeyId") {
		s.Skipped = append(s.Skipped, id+".KmsKeyId: no KMS key is created locally")
	}
	if class := p.String("LogGroupClass"); class != "" {
		in.LogGroupClass = logstypes.LogGroupClass(class)
	}
	for _, tag := range p.List("Tags") {
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		in.Tags[tag.Required("Key")] = tag.String("Value")
	}
	retention := p.Has("RetentionInDays")
	days := int32(p.Int("RetentionInDays", 0))
	if err := p.Err(); err != nil {
		return err
	}
	_, err = c.Logs.CreateLogGroup(ctx, in)
	var exists *logstypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create log group %s: %w", name, err)
	}
	if retention {
		if _, err := c.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days}); err != nil {
			return fmt.Errorf("retention of log group %s: %w", name, err)
		}
	}
	return nil
}

// topicAttributes maps AWS::SNS::Topic properties to CreateTopic attributes.
var topicAttributes = []string{"DisplayName", "FifoTopic", "ContentBasedDeduplication", "TracingConfig", "SignatureVersion"}

func (s *Stack) topic(ctx context.Context, c Clients, t *samtemplate.Template, id, name string, env *samtemplate.Env) (string, error) {
	if c.SNS == nil {
		return "", errors.New("no SNS client")
	}
	p, err := resolve(t, id, "AWS::SNS::Topic", env)
	if err != nil {
		return "", err
	}
	attrs := map[string]string{}
	for _, k := range topicAttributes {
		if p.Has(k) {
			attrs[k] = p.String(k)
		}
	}
	if p.Has("KmsMasterKeyId") {
		s.Skipped = append(s.Skipped, id+".KmsMasterKeyId: no KMS key is created locally")
	}
	type subscription struct{ protocol, endpoint string }
	var subs []subscription
	for _, sub := range p.List("Subscription") {
		subs = append(subs, subscription{sub.Required("Protocol"), sub.Required("Endpoint")})
	}
	if err := p.Err(); err != nil {
		return "", err
	}
	out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: attrs})
	if err != nil {
		return "", fmt.Errorf("create topic %s: %w", name, err)
	}
	arn := aws.ToString(out.TopicArn)
	if s.emails[arn] == nil { // every topic of the stack is pruned, even with no email declared
		s.emails[arn] = map[string]bool{}
	}
	for i, sub := range subs {
		if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{
			TopicArn: &arn, Protocol: aws.String(sub.protocol), Endpoint: aws.String(sub.endpoint),
		}); err != nil {
			return "", fmt.Errorf("topic %s: Properties.Subscription[%d]: %w", name, i, err)
		}
		s.declare(arn, sub.protocol, sub.endpoint)
	}
	return arn, nil
}

func (s *Stack) subscription(ctx context.Context, c Clients, t *samtemplate.Template, id string, env *samtemplate.Env) (string, error) {
	if c.SNS == nil {
		return "", errors.New("no SNS client")
	}
	p, err := resolve(t, id, "AWS::SNS::Subscription", env)
	if err != nil {
		return "", err
	}
	in := &sns.SubscribeInput{
		TopicArn:              aws.String(p.Required("TopicArn")),
		Protocol:              aws.String(p.Required("Protocol")),
		Endpoint:              aws.String(p.String("Endpoint")),
		ReturnSubscriptionArn: true,
	}
	if attrs := attributes(p, "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy"); len(attrs) > 0 {
		in.Attributes = attrs
	}
	if err := p.Err(); err != nil {
		return "", err
	}
	out, err := c.SNS.Subscribe(ctx, in)
	if err != nil {
		return "", fmt.Errorf("subscribe %s to %s: %w", *in.Endpoint, *in.TopicArn, err)
	}
	s.declare(*in.TopicArn, *in.Protocol, *in.Endpoint)
	return aws.ToString(out.SubscriptionArn), nil
}

// queueAttributes are the AWS::SQS::Queue properties that are queue
// attributes of the same name.
var queueAttributes = []string{
	"DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
	"VisibilityTimeout", "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication",
	"DeduplicationScope", "FifoThroughputLimit", "RedrivePolicy", "RedriveAllowPolicy",
}

func (s *Stack) queue(ctx context.Context, c Clients, t *samtemplate.Template, id, name string, env *samtemplate.Env) (url, arn string, err error) {
	if c.SQS == nil {
		return "", "", errors.New("no SQS client")
	}
	p, err := resolve(t, id, "AWS::SQS::Queue", env)
	if err != nil {
		return "", "", err
	}
	attrs := attributes(p, queueAttributes...)
	if err := p.Err(); err != nil {
		return "", "", err
	}
	for _, k := range []string{"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"} {
		if p.Has(k) {
			s.Skipped = append(s.Skipped, id+"."+k+": no KMS key is created locally")
		}
	}
	out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	var exists *sqstypes.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case errors.As(err, &exists) || strings.Contains(err.Error(), "QueueAlreadyExists"):
		// Same name, other attributes: bring the existing queue in line.
		got, err := c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name})
		if err != nil {
			return "", "", fmt.Errorf("find queue %s: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		delete(attrs, "FifoQueue") // fixed at creation
		if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: attrs}); err != nil {
			return "", "", fmt.Errorf("update queue %s: %w", name, err)
		}
	default:
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	got, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", fmt.Errorf("queue %s attributes: %w", name, err)
	}
	return url, got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// attributes returns the properties of p named keys as attribute values:
// scalars as strings, mappings and lists (policies) as JSON.
func attributes(p *samtemplate.Props, keys ...string) map[string]string {
	attrs := map[string]string{}
	for _, k := range keys {
		v, ok := p.Value(k)
		if !ok {
			continue
		}
		switch v.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(v)
			if err != nil {
				p.Fail(k, err)
			}
			attrs[k] = string(b)
		default:
			attrs[k] = p.String(k)
		}
	}
	return attrs
}
