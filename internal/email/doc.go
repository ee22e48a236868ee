// Package email is SNS's email delivery for the local twin (package local),
// which moto does not run.
//
// Relay reads what was published to the stack's topics from an SQS queue
// subscribed to them and mails each message to every email and email-json
// subscriber of its topic, as SNS would: from the topic's display name at
// no-reply@sns.amazonaws.com, with the publisher's subject, CloudWatch alarm
// notifications turned into AWS's alarm email text (AlarmEmail), and SNS's
// unsubscribe footer.
//
// A Mailer delivers each Mail: Outbox writes RFC 5322 .eml files, in a
// folder per run so that a rerun overwrites nothing; SMTP hands them to a
// mail catcher such as Mailpit.
package email
