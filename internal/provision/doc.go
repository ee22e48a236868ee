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
//
// For what it does not create, a Stack reads from the template what the
// local twin (package local) runs in AWS's place, without calling AWS:
// MetricFilters and SubscriptionFilters of a log group, the Alarms on the
// filters' metrics, and a Function's settings (code directory,
// environment, log group, timeout, retries, on-failure destination).
//
// Properties are read with samtemplate.Props, so that a value that is
// missing or does not convert is reported with its place, every problem of
// a resource at once, before any call.
package provision
