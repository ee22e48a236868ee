// Package emit makes the log lines the emitter writes on demand: error
// lines that the default ErrorPattern matches, warnings and info lines that
// it does not, with variable parts (ids, durations, addresses) that the
// processor's fingerprinting folds into a few incidents.
package emit

import (
	"errors"
	"fmt"
	"time"
)

// Defaults used for the counts a request leaves out; an empty request
// writes DefaultErrors errors, DefaultWarnings warnings and DefaultInfos
// info lines.
const (
	DefaultErrors   = 5
	DefaultWarnings = 2
	DefaultInfos    = 10
	// MaxLines bounds one request so an invocation stays small.
	MaxLines = 10_000
)

// ErrBadRequest reports a request the emitter refuses.
var ErrBadRequest = errors.New("emit: bad request")

// Request is the emitter's event. A nil count takes its default.
type Request struct {
	ErrorCount *int `json:"error_count,omitempty"`
	WarnCount  *int `json:"warn_count,omitempty"`
	InfoCount  *int `json:"info_count,omitempty"`
	// LogGroup is the watched log group to write into; empty means the
	// first watched group (see Handler.Groups).
	LogGroup string `json:"log_group,omitempty"`
}

// Counts returns the resolved counts, or ErrBadRequest for a negative
// count or a total over MaxLines.
func (r Request) Counts() (errs, warns, infos int, err error) {
	get := func(p *int, def int) int {
		if p == nil {
			return def
		}
		return *p
	}
	errs, warns, infos = get(r.ErrorCount, DefaultErrors), get(r.WarnCount, DefaultWarnings), get(r.InfoCount, DefaultInfos)
	if errs < 0 || warns < 0 || infos < 0 {
		return 0, 0, 0, fmt.Errorf("%w: counts must not be negative (error_count=%d, warn_count=%d, info_count=%d)", ErrBadRequest, errs, warns, infos)
	}
	if total := errs + warns + infos; total > MaxLines {
		return 0, 0, 0, fmt.Errorf("%w: %d lines requested, at most %d per invocation", ErrBadRequest, total, MaxLines)
	}
	return errs, warns, infos, nil
}

// Summary is the emitter's response.
type Summary struct {
	RunID    string `json:"run_id"`
	LogGroup string `json:"log_group,omitempty"` // where the lines went`
	Errors   int    `json:"errors"`
	Warnings int    `json:"warnings"`
	Infos    int    `json:"infos"`
	Lines    int    `json:"lines"`
	Bytes    int    `json:"bytes"`
}

// errorTemplates are the error lines, three incidents' worth: every line of
// one template normalises to the same fingerprint.
var errorTemplates = []func(run string, i int) string{
	func(run string, i int) string {
		return fmt.Sprintf("ERROR payment declined order=%d amount=%d.%02d run=%s", 1000+i, 10+i%90, i%100, run)
	},
	func(run string, i int) string {
		return fmt.Sprintf("ERROR upstream timeout after %dms calling 10.0.%d.%d:8443 run=%s", 1500+i*7, i%250, 1+i%200, run)
	},
	func(run string, i int) string {
		return fmt.Sprintf("CRITICAL database connection pool exhausted (%d/%d in use) run=%s", 50, 50, run)
	},
}

// Lines returns the lines of one request: errors, then warnings, then
// info lines, each prefixed with its level. run tags every line so that a
// user can find one invocation's lines.
func Lines(r Request, run string) ([]string, Summary, error) {
	errs, warns, infos, err := r.Counts()
	if err != nil {
		return nil, Summary{}, err
	}
	lines := make([]string, 0, errs+warns+infos)
	for i := range errs {
		lines = append(lines, errorTemplates[i%len(errorTemplates)](run, i))
	}
	for i := range warns {
		lines = append(lines, fmt.Sprintf("WARN slow query took %dms table=orders run=%s", 800+i*13, run))
	}
	for i := range infos {
		lines = append(lines, fmt.Sprintf("INFO request served path=/orders/%d status=200 duration=%dms run=%s", i, 5+i%40, run))
	}
	s := Summary{RunID: run, Errors: errs, Warnings: warns, Infos: infos, Lines: len(lines)}
	for _, l := range lines {
		s.Bytes += len(l)
	}
	return lines, s, nil
}

// RunID names an invocation by its start time, e.g. "run-20261125T140000.123".
func RunID(now time.Time) string {
	return "run-" + now.UTC().Format("20060102T150405.000")
}
