package email

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// defaultSubject is the subject SNS gives an email when the publisher set
// none.
const defaultSubject = "AWS Notification Message"

// relayQueue is the subset of *sqs.Client that Relay calls.
type relayQueue interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// topicDirectory is the subset of *sns.Client that Relay calls.
type topicDirectory interface {
	ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

// envelope is the SNS notification an SQS subscriber receives.
type envelope struct {
	Type      string `json:"Type"`
	MessageID string `json:"MessageId"`
	TopicARN  string `json:"TopicArn"`
	Subject   string `json:"Subject"`
	Message   string `json:"Message"`
}

// Relay is SNS's email delivery, which moto does not run: it reads what was
// published to the topics from an SQS queue subscribed to them and sends
// each message to every email and email-json subscriber of its topic
// (ListSubscriptionsByTopic), as SNS would: from the topic's display name
// at no-reply@sns.amazonaws.com, with the publisher's subject, CloudWatch
// alarm notifications turned into AWS's alarm email text, and SNS's
// unsubscribe footer. Not safe for concurrent use.
type Relay struct {
	sqs      relayQueue
	sns      topicDirectory
	queueURL string
	mailer   Mailer
	now      func() time.Time
	names    map[string]string // topic ARN → sender name
	sent     []SentMail
}

// NewRelay returns a Relay reading queueURL and sending through mailer; now
// dates the mails (the twin's clock, like every time the twin stamps).
func NewRelay(q relayQueue, topics topicDirectory, queueURL string, mailer Mailer, now func() time.Time) *Relay {
	return &Relay{sqs: q, sns: topics, queueURL: queueURL, mailer: mailer, now: now, names: map[string]string{}}
}

// SentMail is one mail the Relay sent.
type SentMail struct {
	Where   string `json:"where"` // what the Mailer returned: a file path, an SMTP address
	To      string `json:"to"`
	Subject string `json:"subject"`
}

// Sent returns the mails sent so far, in order.
func (r *Relay) Sent() []SentMail { return r.sent }

// Poll relays every message waiting in the queue and returns how many it
// relayed. A message is deleted from the queue only once all its mails are
// sent, so a failure leaves it for a later Poll.
func (r *Relay) Poll(ctx context.Context) (int, error) {
	n := 0
	for {
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &r.queueURL, MaxNumberOfMessages: 10})
		if err != nil {
			return n, fmt.Errorf("email relay: receive: %w", err)
		}
		if len(out.Messages) == 0 {
			return n, nil
		}
		for _, m := range out.Messages {
			if err := r.relay(ctx, aws.ToString(m.Body)); err != nil {
				return n, err
			}
			if _, err := r.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &r.queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return n, fmt.Errorf("email relay: delete: %w", err)
			}
			n++
		}
	}
}

// relay sends one notification to the email subscribers of its topic.
func (r *Relay) relay(ctx context.Context, body string) error {
	var env envelope
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.TopicARN == "" {
		return fmt.Errorf("email relay: not an SNS notification: %.80q", body)
	}
	subs, err := r.subscribers(ctx, env.TopicARN)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return nil
	}
	from, err := r.senderName(ctx, env.TopicARN)
	if err != nil {
		return err
	}
	date := r.now()
	subject := env.Subject
	if subject == "" {
		subject = defaultSubject
	}
	for _, s := range subs {
		h := sha256.Sum256([]byte(s.arn))
		m := &Mail{
			FromName:  from,
			To:        s.endpoint,
			Subject:   subject,
			Date:      date,
			MessageID: fmt.Sprintf("%x-%s-000000@email.amazonses.com", h[:8], env.MessageID),
			Headers:   map[string]string{"x-amz-sns-message-id": env.MessageID, "x-amz-sns-subscription-arn": s.arn},
		}
		if s.protocol == "email-json" {
			m.Body = body
		} else {
			m.Body = emailText(env.Message) + unsubscribeFooter(env.TopicARN, s.arn, s.endpoint)
		}
		where, err := r.mailer.Send(ctx, m)
		if err != nil {
			return fmt.Errorf("email relay: %w", err)
		}
		r.sent = append(r.sent, SentMail{Where: where, To: m.To, Subject: m.Subject})
	}
	return nil
}

// emailText is the body SNS mails for message: AWS's alarm email for a
// CloudWatch alarm notification, the message itself otherwise.
func emailText(message string) string {
	if m, ok := parseAlarmMessage(message); ok {
		return AlarmEmail(m)
	}
	return message
}

// unsubscribeFooter is what SNS appends to every email notification.
func unsubscribeFooter(topicARN, subscriptionARN, endpoint string) string {
	region := arnRegion(topicARN, "us-east-1")
	return "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n" +
		"https://sns." + region + ".amazonaws.com/unsubscribe.html?SubscriptionArn=" + subscriptionARN + "&Endpoint=" + endpoint + "\n\n" +
		"Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact us at https://aws.amazon.com/support\n"
}

// subscriber is one email subscription of a topic.
type subscriber struct{ arn, protocol, endpoint string }

// subscribers lists the email and email-json subscriptions of topic,
// confirmed or pending.
func (r *Relay) subscribers(ctx context.Context, topic string) ([]subscriber, error) {
	var (
		out   []subscriber
		token *string
	)
	for {
		page, err := r.sns.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &topic, NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("email relay: subscriptions of %s: %w", topic, err)
		}
		for _, s := range page.Subscriptions {
			if p := aws.ToString(s.Protocol); p == "email" || p == "email-json" {
				out = append(out, subscriber{arn: aws.ToString(s.SubscriptionArn), protocol: p, endpoint: aws.ToString(s.Endpoint)})
			}
		}
		if page.NextToken == nil {
			return out, nil
		}
		token = page.NextToken
	}
}

// senderName is the topic's DisplayName, which SNS shows as the sender of
// its emails, or "AWS Notifications" when it has none.
func (r *Relay) senderName(ctx context.Context, topic string) (string, error) {
	if name, ok := r.names[topic]; ok {
		return name, nil
	}
	out, err := r.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &topic})
	if err != nil {
		return "", fmt.Errorf("email relay: attributes of %s: %w", topic, err)
	}
	name := out.Attributes["DisplayName"]
	if name == "" {
		name = snsSenderName
	}
	r.names[topic] = name
	return name, nil
}
