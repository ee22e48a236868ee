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

// runTestPattern is `logalert test-pattern`, an offline `aws logs
// test-metric-filter`: it prints the lines of FILE (or stdin) that PATTERN
// matches.
func runTestPattern(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("test-pattern", "test-pattern [--metric-value REF] [--default-value N] [--output text|json] PATTERN [FILE]", stderr)
	metricValue := fs.String("metric-value", "", "metric value of each match: a number (1) or a field ($.latency, $size, $3)")
	defaultValue := fs.String("default-value", "", "value reported for lines that do not match (with --metric-value)")
	output := fs.String("output", "text", "text: the matching lines; json: one object per input line")
	fs.StringVar(output, "o", "text", "shorthand for --output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		fs.Usage()
		return usagef("test-pattern takes PATTERN and an optional FILE")
	}
	if *output != "text" && *output != "json" {
		return usagef("--output must be text or json, not %q", *output)
	}
	pattern, err := filterpattern.Parse(pos[0])
	if err != nil {
		return usagef("invalid pattern: %v", err)
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
			return usagef("%v", err)
		}
	} else if *defaultValue != "" {
		return usagef("--default-value needs --metric-value")
	}

	in := io.Reader(os.Stdin)
	if len(pos) == 2 && pos[1] != "-" {
		f, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	matched, total, err := testLines(in, stdout, pattern, tr, *output == "json")
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d of %d lines matched\n", matched, total)
	return nil
}

// lineResult is one line of --output json.
type lineResult struct {
	Line  int      `json:"line"`
	Match bool     `json:"match"`
	Value *float64 `json:"value,omitempty"`
}

// testLines matches every line of in and writes the results to out.
func testLines(in io.Reader, out io.Writer, p *filterpattern.Pattern, tr *filterpattern.Transformation, asJSON bool) (matched, total int, err error) {
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
		case asJSON:
			if err := enc.Encode(res); err != nil {
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
