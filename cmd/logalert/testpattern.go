package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/logalert/logalert/internal/filterpattern"
)

// maxLine is the longest line test-pattern reads: CloudWatch Logs' largest
// event (1 MB since April 2025).
const maxLine = 1 << 20

// errNoMatch is test-pattern's result when no line matched: exit status 1,
// as grep's.
var errNoMatch = errors.New("test-pattern: no line matched")

// runTestPattern is `logalert test-pattern`, an offline `aws logs
// test-metric-filter`: it prints the lines of FILE (or stdin) that PATTERN
// matches.
func runTestPattern(_ context.Context, args []string, e *env) error {
	stdout, stderr := e.stdout, e.stderr
	fs := newFlagSet("test-pattern", "test-pattern [--metric-value REF] [--default-value N] [-o table|json|yaml] PATTERN [FILE]", stderr)
	metricValue := fs.String("metric-value", "", "metric value of each match: a number (1) or a field ($.latency, $size, $3)")
	defaultValue := fs.String("default-value", "", "value reported for lines that do not match (with --metric-value)")
	output := addOutputFlag(fs, formatTable, " (table: the matching lines, numbered, with their value; json: an object per input line; yaml: a list item per input line)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return usagef("test-pattern takes PATTERN and an optional FILE")
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	pattern, err := filterpattern.Parse(pos[0])
	if err != nil {
		return usagef("invalid pattern: %w", err)
	}
	var tr *filterpattern.Transformation
	if *metricValue != "" {
		tr = &filterpattern.Transformation{MetricValue: *metricValue}
		if *defaultValue != "" {
			v, err := strconv.ParseFloat(*defaultValue, 64)
			if err != nil {
				return usagef("--default-value %q is not a number", *defaultValue)
			}
			tr.DefaultValue = &v
		}
		if err := pattern.ValidateTransformation(*tr); err != nil {
			return usagef("%w", err)
		}
	} else if *defaultValue != "" {
		return usagef("--default-value needs --metric-value")
	}

	in := e.stdin
	if len(pos) == 2 && pos[1] != "-" {
		f, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	} else if isTerminal(in) {
		fmt.Fprintln(stderr, "reading log lines from stdin (end them with Ctrl-D, or pass a FILE)")
	}
	matched, total, err := testLines(in, stdout, pattern, tr, *output)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d of %d lines matched\n", matched, total)
	if matched == 0 {
		return errNoMatch
	}
	return nil
}

// lineResult is one line of -o json and -o yaml.
type lineResult struct {
	Line  int      `json:"line"`
	Match bool     `json:"match"`
	Value *float64 `json:"value,omitempty"`
}

// testLines matches every line of in and writes the results to out.
func testLines(in io.Reader, out io.Writer, p *filterpattern.Pattern, tr *filterpattern.Transformation, format string) (matched, total int, err error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		total++
		line := sc.Text()
		res := lineResult{Line: total, Match: p.Match(line)}
		if tr != nil {
			if r, ok := p.Evaluate(line, *tr); ok || r.Default {
				res.Value = &r.Value
			}
		}
		if res.Match {
			matched++
		}
		switch {
		case format == formatJSON:
			if err := enc.Encode(res); err != nil {
				return matched, total, err
			}
		case format == formatYAML:
			if err := writeYAML(w, []lineResult{res}); err != nil {
				return matched, total, err
			}
		case res.Match && res.Value != nil:
			fmt.Fprintf(w, "%d\t%s\t%s\n", total, strconv.FormatFloat(*res.Value, 'g', -1, 64), line)
		case res.Match:
			fmt.Fprintf(w, "%d\t%s\n", total, line)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d is longer than %d KiB, CloudWatch Logs' largest event", total+1, maxLine>>10)
		}
		return matched, total, fmt.Errorf("read log lines: %w", err)
	}
	return matched, total, w.Flush()
}
