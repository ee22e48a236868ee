// Package provision creates, in any AWS endpoint (moto_server locally), the
// resources of template.yaml that a local run of logalert needs, each from
// the template's own properties: the DynamoDB incidents table, the log
// groups, the SNS alerts topic and its email subscription, and the SQS
// dead-letter queue.
//
// It is no CloudFormation: it creates what is missing and leaves what exists
// (re-running is safe), runs no Lambda, KMS, IAM, alarm, filter or
// dashboard, and reports what it had to leave out (see Stack.Skipped).
// CreateTable alone sets up one table for a test.
package provision
