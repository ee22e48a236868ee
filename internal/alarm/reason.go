package alarm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Time layouts CloudWatch uses.
const (
	// reasonTimeLayout labels datapoints in a state reason: "25/11/26 14:00:00".
	reasonTimeLayout = "02/01/06 15:04:05"
	// stampLayout is used for StateChangeTime and the other timestamps of
	// notifications and reason data: "2026-11-25T14:00:00.000+0000".
	stampLayout = "2006-01-02T15:04:05.000-0700"
)

// opWords phrases each operator in a state reason.
var opWords = map[string]string{
	GreaterThanOrEqualToThreshold: "greater than or equal to",
	GreaterThanThreshold:          "greater than",
	LessThanThreshold:             "less than",
	LessThanOrEqualToThreshold:    "less than or equal to",
}

// treatWords names each missing data treatment in a state reason.
var treatWords = map[string]string{
	TreatBreaching:    "Breaching",
	TreatNotBreaching: "NonBreaching",
	TreatMissing:      "Missing",
	TreatIgnore:       "Ignore",
}

// Number is a float64 that prints, in text and in JSON, the way CloudWatch
// (a Java service) prints numbers: always with a fraction or an exponent,
// as Java's Double.toString does ("1.0", "0.059", "613.0", "1.0E7").
type Number float64

// String formats n like Java's Double.toString: plain notation with at
// least one fractional digit for magnitudes in [1e-3, 1e7), computerized
// scientific notation ("1.5E-4") otherwise.
func (n Number) String() string {
	v := float64(n)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	case v == 0:
		if math.Signbit(v) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'E', -1, 64), "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, err := strconv.Atoi(exp)
	if err != nil {
		return strconv.FormatFloat(v, 'E', -1, 64)
	}
	return mant + "E" + strconv.Itoa(e)
}

// MarshalJSON writes n as String does. NaN and infinities have no JSON
// form and fail.
func (n Number) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return nil, fmt.Errorf("marshal number %v: not finite", float64(n))
	}
	return []byte(n.String()), nil
}

// stamp formats t as CloudWatch timestamps its notifications.
func stamp(t time.Time) string { return t.UTC().Format(stampLayout) }

// plural returns word, with an s unless n is 1.
func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// wasWere agrees the verb with n.
func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// reasonText words the outcome as CloudWatch's NewStateReason.
func (e *Evaluator) reasonText(slots []slot, o outcome) string {
	n, m := e.cfg.EvaluationPeriods, e.cfg.datapointsToAlarm()
	f := len(o.filled)
	if o.insufficient {
		return fmt.Sprintf("Insufficient Data: %d %s %s unknown.", f, plural("datapoint", f), wasWere(f))
	}
	// The datapoints that support the new state, newest first.
	var support []string
	for i := len(o.evaluated) - 1; i >= 0; i-- {
		s := slots[o.evaluated[i]]
		if s.breach == (o.state == StateAlarm) {
			support = append(support, fmt.Sprintf("%s (%s)", Number(s.value), s.start.UTC().Format(reasonTimeLayout)))
		}
	}
	treated := treatWords[e.cfg.treatMissingData()]
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	k := len(support)
	if k == 0 {
		// Only the filled-in periods support the new state.
		if r := len(o.evaluated); r == 0 {
			b.WriteString("no datapoints were received")
		} else {
			fmt.Fprintf(&b, "%d %s %s received", r, plural("datapoint", r), wasWere(r))
		}
		fmt.Fprintf(&b, " for %d %s and %d missing %s %s treated as [%s].",
			n, plural("period", n), f, plural("datapoint", f), wasWere(f), treated)
		return b.String()
	}
	verb := opWords[e.cfg.ComparisonOperator]
	if o.state == StateOK {
		verb = "not " + verb
	}
	list := strings.Join(support, ", ")
	threshold := Number(e.cfg.Threshold)
	explicitM := e.cfg.DatapointsToAlarm > 0
	if explicitM {
		fmt.Fprintf(&b, "%d out of the last %d datapoints [%s] %s %s the threshold (%s)", k, n, list, wasWere(k), verb, threshold)
	} else {
		fmt.Fprintf(&b, "%d %s [%s] %s %s the threshold (%s)", k, plural("datapoint", k), list, wasWere(k), verb, threshold)
	}
	if o.treated && f > 0 {
		fmt.Fprintf(&b, " and %d missing %s %s treated as [%s]", f, plural("datapoint", f), wasWere(f), treated)
	}
	if explicitM {
		least, dir := m, "OK -> ALARM"
		if o.state == StateOK {
			least, dir = n-m+1, "ALARM -> OK"
		}
		fmt.Fprintf(&b, " (minimum %d %s for %s transition)", least, plural("datapoint", least), dir)
	}
	b.WriteString(".")
	return b.String()
}

// reasonData is the StateReasonData document.
type reasonData struct {
	Version             string               `json:"version"`
	QueryDate           string               `json:"queryDate"`
	StartDate           string               `json:"startDate,omitempty"`
	Unit                string               `json:"unit,omitempty"`
	Statistic           string               `json:"statistic"`
	Period              int                  `json:"period"`
	RecentDatapoints    []Number             `json:"recentDatapoints"`
	Threshold           Number               `json:"threshold"`
	EvaluatedDatapoints []evaluatedDatapoint `json:"evaluatedDatapoints"`
}

// evaluatedDatapoint is one period of reasonData; a missing period has only
// its timestamp.
type evaluatedDatapoint struct {
	Timestamp   string  `json:"timestamp"`
	SampleCount *Number `json:"sampleCount,omitempty"`
	Value       *Number `json:"value,omitempty"`
}

// reasonData builds the StateReasonData JSON for an outcome:
// recentDatapoints holds every real datapoint of the evaluation range,
// oldest first; evaluatedDatapoints the EvaluationPeriods datapoints that
// were evaluated (real or filled in), newest first.
func (e *Evaluator) reasonData(now time.Time, slots []slot, o outcome) (string, error) {
	d := reasonData{
		Version:          "1.0",
		QueryDate:        stamp(now),
		Unit:             e.cfg.Unit,
		Statistic:        e.cfg.Statistic,
		Period:           int(e.cfg.Period / time.Second),
		RecentDatapoints: []Number{},
		Threshold:        Number(e.cfg.Threshold),
	}
	for _, s := range slots {
		if s.ok {
			d.RecentDatapoints = append(d.RecentDatapoints, Number(s.value))
		}
	}
	if len(o.evaluated) > 0 {
		d.StartDate = stamp(slots[o.evaluated[0]].start)
	}
	idx := append(append([]int{}, o.evaluated...), o.filled...)
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	d.EvaluatedDatapoints = make([]evaluatedDatapoint, 0, len(idx))
	for _, i := range idx {
		s := slots[i]
		p := evaluatedDatapoint{Timestamp: stamp(s.start)}
		if s.ok {
			count, value := Number(s.count), Number(s.value)
			p.SampleCount, p.Value = &count, &value
		}
		d.EvaluatedDatapoints = append(d.EvaluatedDatapoints, p)
	}
	b, err := marshal(d)
	if err != nil {
		return "", fmt.Errorf("marshal reason data: %w", err)
	}
	return string(b), nil
}

// marshal encodes v as JSON without HTML escaping (CloudWatch writes "&",
// "<" and ">" as they are) and without a trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
