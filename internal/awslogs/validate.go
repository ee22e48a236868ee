package awslogs

import "fmt"

// validate checks that p is a payload CloudWatch Logs could have sent (the
// parser has already enforced the Limits). A field counts as missing when it is absent, null or
// empty: CloudWatch Logs never sends an empty message (PutLogEvents rejects
// them) nor a timestamp at or before the epoch. A CONTROL_MESSAGE only needs
// its messageType, since CloudWatch Logs sends control messages with an
// empty logGroup and logStream and events without ids.
func validate(p *Payload) error {
	switch p.MessageType {
	case MessageTypeData, MessageTypeControl:
	case "":
		return fmt.Errorf("%w: missing field %q", ErrMalformed, "messageType")
	default:
		return fmt.Errorf("%w: unknown messageType %.64q", ErrMalformed, p.MessageType)
	}
	if p.MessageType != MessageTypeData {
		return nil
	}
	switch {
	case p.LogGroup == "":
		return fmt.Errorf("%w: missing field %q", ErrMalformed, "logGroup")
	case p.LogStream == "":
		return fmt.Errorf("%w: missing field %q", ErrMalformed, "logStream")
	case len(p.LogEvents) == 0:
		return fmt.Errorf("%w: missing field %q", ErrMalformed, "logEvents")
	}
	for i, e := range p.LogEvents {
		switch {
		case e.ID == "":
			return fmt.Errorf("%w: logEvents[%d]: missing field %q", ErrMalformed, i, "id")
		case e.Timestamp == 0:
			return fmt.Errorf("%w: logEvents[%d]: missing field %q", ErrMalformed, i, "timestamp")
		case e.Timestamp < 0:
			return fmt.Errorf("%w: logEvents[%d]: timestamp %d is before the epoch", ErrMalformed, i, e.Timestamp)
		case e.Message == "":
			return fmt.Errorf("%w: logEvents[%d]: missing field %q", ErrMalformed, i, "message")
		}
	}
	return nil
}
