// Package pipeline is the processor Lambda's logic, importable so that the
// Lambda entry point (processor/), the local twin and the tests run the same
// code. Handle reads as the data flow: decode a subscription delivery
// (internal/awslogs), select and group the incident events
// (internal/filterpattern, internal/incident), record them exactly once and
// announce the incidents that opened or reopened (both internal/store, which
// owns the exactly-once and alert-claim protocols; the message itself is
// internal/notify's).
//
// Invoke is the Lambda entry point: it tells an event's source by its shape
// and hands it to the matching handler (Handle for a subscription delivery,
// HandleKinesis for a batch of the Kinesis event source mapping on a logs
// destination's stream, which reports its failed records by sequence
// number, Flush for the schedule's event, which publishes the digests of
// alert storms). Handle and HandleKinesis share the per-delivery flow
// (process) and the metrics.
//
// Incidents carry the account of the payload's owner; those of accounts
// other than Config.HomeAccount get IDs that name the account
// (incident.AccountID), so two accounts never share an incident.
//
// FromEnv is the wiring: it reads the environment (LoadConfig) and the SDK's
// configuration chain and passes the clients to New. The Processor sees the
// store and the publisher through two small interfaces defined here, so
// its unit tests use fakes; the tests in tests/ run it against moto.
package pipeline
