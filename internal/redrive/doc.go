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
// Redriving is safe to repeat: the incident store applies a delivery once
// (see internal/store), so a payload that was already counted, say because
// a redrive was interrupted between processing and deleting, changes nothing
// the second time.
package redrive
