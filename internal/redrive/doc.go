// Package redrive feeds the deliveries that the processor gave up on back
// to it.
//
// When the processor fails a delivery three times (Lambda's two retries of
// an asynchronous invocation) or the delivery ages out, Lambda's on-failure
// destination puts an invocation record on the dead-letter queue:
//
//	{
//	  "version": "1.0",
//	  "timestamp": "2026-11-25T14:03:10.127Z",
//	  "requestContext": {"requestId": "…", "functionArn": "…:$LATEST",
//	                     "condition": "RetriesExhausted", "approximateInvokeCount": 3},
//	  "requestPayload": {"awslogs": {"data": "H4sI…"}},
//	  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//	  "responsePayload": {"errorMessage": "…", "errorType": "…"}
//	}
//
// A Redriver receives those messages, hands each requestPayload to a Target
// (Lambda: invoke the deployed function synchronously; Handler: call the
// processor in this process) and deletes a message only once the Target
// succeeded. Messages that fail again, and messages it does not understand
// (skipped), stay in the queue and are made visible again when the run
// ends. A queue fed by a function's DeadLetterConfig instead holds the bare
// event; ParseMessage accepts that too.
//
// # Kinesis batches
//
// The processor's Kinesis event source mapping (member accounts' logs,
// through the central logs destination) sends the same queue a record of
// each batch it gave up on (MaximumRetryAttempts or MaximumRecordAgeInSeconds
// reached). It holds no data, only where the batch is in the stream:
//
//	{
//	  "requestContext": {"requestId": "…", "functionArn": "…",
//	                     "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
//	  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
//	  "version": "1.0", "timestamp": "2026-11-25T14:05:10.127Z",
//	  "KinesisBatchInfo": {"shardId": "shardId-000000000000",
//	                       "startSequenceNumber": "4959…", "endSequenceNumber": "4959…",
//	                       "approximateArrivalOfFirstRecord": "…", "approximateArrivalOfLastRecord": "…",
//	                       "batchSize": 100, "streamArn": "arn:aws:kinesis:…:stream/…"}
//	}
//
// With WithKinesis, a Redriver reads such a batch back from the stream
// (KinesisReader: GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords up to
// the end sequence number), hands it to a KinesisTarget (the function, or
// HandleKinesis in this process) and deletes the message only when every
// record was processed. Records the stream no longer holds (its retention
// trimmed them, or the stream is gone) cannot be redriven: the message is
// kept and its Outcome is Expired, with an error wrapping ErrExpired that
// names the shard and the sequence numbers.
//
// Redriving is safe to repeat: the incident store applies a delivery once
// (see internal/store), so a payload that was already counted, say because
// a redrive was interrupted between processing and deleting, changes nothing
// the second time; so does a Kinesis record, whose data is unchanged in the
// stream.
package redrive
