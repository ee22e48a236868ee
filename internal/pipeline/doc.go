// Package pipeline is the processor Lambda's logic, importable so that the
// Lambda entry point (processor/), the local twin and the tests run the same
// code: decode a subscription delivery (internal/awslogs), select and group
// the incident events (internal/filterpattern, internal/incident), record
// them exactly once (internal/store) and announce new and reopened
// incidents (internal/notify).
package pipeline
