package alarm

import (
	"fmt"
	"time"
)

// extraPeriods is how many periods beyond EvaluationPeriods the evaluation
// range holds. AWS fetches "a higher number of data points than Evaluation
// Periods" without saying how many, except that it is 5 for 3 evaluation
// periods; this package always adds 2.
const extraPeriods = 2

// initialReason is the reason CloudWatch gives a newly created alarm.
const initialReason = "Unchecked: Initial alarm creation"

// Transition is one change of alarm state.
type Transition struct {
	// Old and New are the states before and after the change.
	Old State `json:"old_state"`
	New State `json:"new_state"`
	// Reason is the human-readable NewStateReason, worded as CloudWatch
	// words it, e.g. "Threshold Crossed: 1 out of the last 1 datapoints
	// [5.0 (25/11/26 14:00:00)] was greater than or equal to the threshold
	// (1.0) (minimum 1 datapoint for OK -> ALARM transition)."
	Reason string `json:"reason"`
	// ReasonData is the machine-readable JSON CloudWatch keeps as
	// StateReasonData (version, queryDate, startDate, statistic, period,
	// recentDatapoints, threshold, evaluatedDatapoints). It is empty for
	// SetState.
	ReasonData string `json:"reason_data,omitempty"`
	// Time is when the state changed (StateChangeTime).
	Time time.Time `json:"time"`
}

// Evaluator holds the state of one alarm and moves it as CloudWatch would.
// It is not safe for concurrent use.
type Evaluator struct {
	cfg    Config
	state  State
	reason string
}

// NewEvaluator validates c and returns an Evaluator in the
// INSUFFICIENT_DATA state, as a newly created CloudWatch alarm is. The error
// is Config.Validate's, wrapped.
func NewEvaluator(c Config) (*Evaluator, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("new evaluator for alarm %q: %w", c.Name, err)
	}
	return &Evaluator{cfg: c, state: StateInsufficientData, reason: initialReason}, nil
}

// State returns the current alarm state.
func (e *Evaluator) State() State { return e.state }

// Reason returns the reason for the current state.
func (e *Evaluator) Reason() string { return e.reason }

// SetState forces the alarm into s, as the SetAlarmState API does; the next
// Evaluate computes the state afresh. It reports a Transition when s differs
// from the current state, and fails with ErrInvalidState for an unknown s.
func (e *Evaluator) SetState(s State, reason string, at time.Time) (Transition, bool, error) {
	if !s.valid() {
		return Transition{}, false, fmt.Errorf("set state of alarm %q to %q: %w", e.cfg.Name, s, ErrInvalidState)
	}
	return e.move(s, reason, "", at)
}

// move changes the state and reports whether it changed.
func (e *Evaluator) move(s State, reason, data string, at time.Time) (Transition, bool, error) {
	old := e.state
	e.state, e.reason = s, reason
	if s == old {
		return Transition{}, false, nil
	}
	return Transition{Old: old, New: s, Reason: reason, ReasonData: data, Time: at}, true, nil
}

// Evaluate computes the alarm state at now from the raw samples of the
// metric and reports the Transition when the state changes. Samples outside
// the evaluation range (see the package documentation) do not matter; they
// may be in any order. It fails with ErrInvalidDatapoint when a sample holds
// a value PutMetricData would reject, leaving the state unchanged.
func (e *Evaluator) Evaluate(now time.Time, samples []Datapoint) (Transition, bool, error) {
	if e.cfg.EvaluationPeriods < 1 {
		return Transition{}, false, fmt.Errorf("evaluate: %w: Evaluator not made by NewEvaluator", ErrInvalidConfig)
	}
	slots, err := e.window(now, samples)
	if err != nil {
		return Transition{}, false, fmt.Errorf("evaluate alarm %q: %w", e.cfg.Name, err)
	}
	o := e.decide(slots)
	if o.retain {
		return Transition{}, false, nil
	}
	data, err := e.reasonData(now, slots, o)
	if err != nil {
		return Transition{}, false, fmt.Errorf("evaluate alarm %q: %w", e.cfg.Name, err)
	}
	return e.move(o.state, e.reasonText(slots, o), data, now)
}

// slot is one period of the evaluation range.
type slot struct {
	start  time.Time
	ok     bool // the period has at least one sample
	value  float64
	count  int
	breach bool
}

// outcome is the decision for one evaluation.
type outcome struct {
	state  State
	retain bool // keep the current state (treat missing data as ignore)
	// evaluated and filled index the real and the missing slots that make
	// up the EvaluationPeriods datapoints, oldest first.
	evaluated, filled []int
	// treated is set when the filled slots count as breaching or not.
	treated bool
	// insufficient is set when the decision is INSUFFICIENT_DATA.
	insufficient bool
}

// evaluationEnd returns the exclusive end of the newest evaluated period:
// now truncated to the minute (to 10 seconds for high-resolution periods),
// which is how CloudWatch lines up alarm periods.
func evaluationEnd(now time.Time, period time.Duration) time.Time {
	step := time.Minute
	if period < time.Minute {
		step = 10 * time.Second
	}
	return now.UTC().Truncate(step)
}

// window aggregates the samples into the periods of the evaluation range,
// oldest first.
func (e *Evaluator) window(now time.Time, samples []Datapoint) ([]slot, error) {
	p := e.cfg.Period
	r := e.cfg.EvaluationPeriods + extraPeriods
	end := evaluationEnd(now, p)
	start := end.Add(-time.Duration(r) * p)
	accs := make([]accumulator, r)
	for _, d := range samples {
		if err := checkSample(d); err != nil {
			return nil, err
		}
		if d.Timestamp.Before(start) || !d.Timestamp.Before(end) {
			continue
		}
		accs[int(d.Timestamp.Sub(start)/p)].add(d.Value)
	}
	slots := make([]slot, r)
	for i := range slots {
		s := slot{start: start.Add(time.Duration(i) * p)}
		if a := &accs[i]; a.n > 0 {
			s.ok, s.count = true, a.n
			s.value = a.value(e.cfg.Statistic)
			s.breach = breaches(e.cfg.ComparisonOperator, s.value, e.cfg.Threshold)
		}
		slots[i] = s
	}
	return slots, nil
}

// decide applies AWS's rules ("How alarm state is evaluated when data is
// missing") to the evaluation range.
func (e *Evaluator) decide(slots []slot) outcome {
	n, m := e.cfg.EvaluationPeriods, e.cfg.datapointsToAlarm()
	var real []int
	for i, s := range slots {
		if s.ok {
			real = append(real, i)
		}
	}
	// Enough real datapoints: the N most recent decide, missing data
	// treatment is not needed.
	if len(real) >= n {
		ev := real[len(real)-n:]
		return outcome{state: thresholdState(countBreaching(slots, ev), m), evaluated: ev}
	}
	// Too few: all real datapoints count, and the most recent missing
	// periods are filled in, as few as needed to make N.
	o := outcome{evaluated: real, filled: recentMissing(slots, n-len(real))}
	b := countBreaching(slots, real)
	switch e.cfg.treatMissingData() {
	case TreatBreaching:
		o.treated = true
		o.state = thresholdState(b+len(o.filled), m)
	case TreatNotBreaching:
		o.treated = true
		o.state = thresholdState(b, m)
	default: // missing, ignore: filled periods count neither way
		ignore := e.cfg.treatMissingData() == TreatIgnore
		switch {
		case len(real) == 0:
			o.state, o.insufficient, o.retain = StateInsufficientData, true, ignore
		case b >= m:
			o.state = StateAlarm
		case b == len(real) && len(slots)-real[0] >= m:
			// Premature alarm state: the oldest breaching datapoint is at
			// least M periods old and every other one is breaching or
			// missing.
			o.state, o.retain = StateAlarm, ignore
		case b < len(real):
			o.state = StateOK
		default:
			// Only a few recent breaching datapoints: the next ones may
			// not breach, so there is not enough data to decide.
			o.state, o.insufficient, o.retain = StateInsufficientData, true, ignore
		}
	}
	return o
}

// thresholdState is ALARM when at least m datapoints breach, else OK.
func thresholdState(breaching, m int) State {
	if breaching >= m {
		return StateAlarm
	}
	return StateOK
}

// countBreaching counts the breaching slots among idx.
func countBreaching(slots []slot, idx []int) int {
	n := 0
	for _, i := range idx {
		if slots[i].breach {
			n++
		}
	}
	return n
}

// recentMissing returns the indices of the k most recent missing slots,
// oldest first.
func recentMissing(slots []slot, k int) []int {
	var out []int
	for i := len(slots) - 1; i >= 0 && len(out) < k; i-- {
		if !slots[i].ok {
			out = append(out, i)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
