package filterpattern

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// MaxDimensions is how many dimensions one metric transformation may publish
// (FilterAndPatternSyntaxForMetricFilters.html#logs-metric-filters-dimensions).
const MaxDimensions = 3

// ErrTransformation is wrapped by every error ValidateTransformation returns.
var ErrTransformation = errors.New("filterpattern: invalid metric transformation")

// Transformation is the metric transformation of a metric filter: what each
// matching log event adds to the metric.
type Transformation struct {
	// MetricValue is a number ("1") or a field of the matched event: a JSON
	// selector ("$.latency") for JSON patterns, a field name ("$size") or a
	// 1-based field position ("$7") for space-delimited patterns.
	MetricValue string
	// DefaultValue, when set, is reported for events that do not match.
	// CloudWatch does not allow it together with Dimensions.
	DefaultValue *float64
	// Dimensions maps a dimension name to a field reference, as MetricValue
	// does: "$.eventType" or "$server". At most MaxDimensions.
	Dimensions map[string]string
}

// Result is the datapoint that one log event contributes to a metric.
type Result struct {
	// Value is the metric value, or the default value when Default is set.
	Value float64
	// Dimensions holds each dimension's value taken from the event; nil when
	// the transformation has none.
	Dimensions map[string]string
	// Default reports that the event did not match and Value is the
	// transformation's DefaultValue.
	Default bool
}

// Evaluate applies a metric filter (this pattern and t) to one log event.
//
// ok is true when the event matched and yields a datapoint; Result then
// holds its value and dimensions. As in CloudWatch, an event that matches
// but whose value field or a dimension field is missing, is not a value node
// (object, array, null), or whose value is not a number, yields no datapoint:
// ok is false and Result is zero (the default value is not used for it).
// When the event does not match, ok is false and, if t.DefaultValue is set,
// Result carries it with Default set, for callers that publish defaults.
//
// Evaluate does not validate t; check it once with ValidateTransformation.
func (p *Pattern) Evaluate(message string, t Transformation) (Result, bool) {
	switch p.kind {
	case JSON:
		if doc, ok := decodeJSON(message); ok && p.json.root.eval(doc) {
			return datapoint(t, func(ref string) (string, bool) { return lookupJSON(doc, ref) })
		}
	case SpaceDelimited:
		if toks, ok := p.delim.match(message, nil); ok {
			return datapoint(t, func(ref string) (string, bool) { return p.delim.lookupRef(message, toks, ref) })
		}
	default:
		if p.Match(message) {
			return datapoint(t, func(string) (string, bool) { return "", false })
		}
	}
	if t.DefaultValue != nil {
		return Result{Value: *t.DefaultValue, Default: true}, false
	}
	return Result{}, false
}

// datapoint resolves the metric value and dimensions of a matched event.
func datapoint(t Transformation, field func(ref string) (string, bool)) (Result, bool) {
	v, ok := parseNumber(t.MetricValue)
	if !ok {
		text, found := field(t.MetricValue)
		if !found {
			return Result{}, false
		}
		if v, ok = parseNumber(text); !ok {
			return Result{}, false
		}
	}
	var dims map[string]string
	if len(t.Dimensions) > 0 {
		dims = make(map[string]string, len(t.Dimensions))
		for name, ref := range t.Dimensions {
			val, found := field(ref)
			if !found {
				return Result{}, false
			}
			dims[name] = val
		}
	}
	return Result{Value: v, Dimensions: dims}, true
}

// lookupJSON returns the text of the value node that selector ref names.
// A wildcard selector names no single field.
func lookupJSON(doc map[string]any, ref string) (string, bool) {
	sel, _, ok := parseRefSelector(ref)
	if !ok || sel.wild >= 0 {
		return "", false
	}
	v, found := walk(doc, sel.steps)
	if !found {
		return "", false
	}
	return scalarText(v)
}

// parseRefSelector parses a whole string as a selector.
func parseRefSelector(ref string) (selector, string, bool) {
	if len(ref) < 2 || ref[0] != '$' {
		return selector{}, "", false
	}
	s := &scanner{src: ref}
	sel, canon, err := readSelector(s)
	if err != nil || !s.eof() {
		return selector{}, "", false
	}
	return sel, canon, true
}

// lookupRef resolves "$name" or "$N" (1-based field position) in a matched
// message.
func (d *delimPattern) lookupRef(msg string, toks []span, ref string) (string, bool) {
	if len(ref) < 2 || ref[0] != '$' {
		return "", false
	}
	name := ref[1:]
	if v, ok := d.lookup(msg, toks, name); ok {
		return v, true
	}
	if n, ok := position(name); ok && n <= len(toks) {
		t := toks[n-1]
		return msg[t.start:t.end], true
	}
	return "", false
}

// position parses a 1-based field position such as the "7" of "$7".
func position(s string) (int, bool) {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}

// ValidateTransformation reports, all together, the problems CloudWatch
// would reject in t for this pattern: a metric value that is neither a
// number nor a field of the pattern, more than MaxDimensions dimensions,
// dimensions on an unstructured pattern, a dimension field not in the
// pattern, and a default value together with dimensions. A field used as
// value or dimension must appear in the filter pattern (for JSON, at least
// as "$.field = *"). Every error wraps ErrTransformation.
func (p *Pattern) ValidateTransformation(t Transformation) error {
	var errs []error
	if _, ok := parseNumber(t.MetricValue); !ok {
		if err := p.checkRef(t.MetricValue); err != nil {
			errs = append(errs, fmt.Errorf("%w: metric value %q: %s", ErrTransformation, t.MetricValue, err))
		}
	}
	if len(t.Dimensions) > MaxDimensions {
		errs = append(errs, fmt.Errorf("%w: %d dimensions, expected at most %d", ErrTransformation, len(t.Dimensions), MaxDimensions))
	}
	if len(t.Dimensions) > 0 && t.DefaultValue != nil {
		errs = append(errs, fmt.Errorf("%w: default value: not allowed with dimensions", ErrTransformation))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Dimensions)) {
		if name == "" {
			errs = append(errs, fmt.Errorf("%w: dimension with an empty name", ErrTransformation))
		}
		if err := p.checkRef(t.Dimensions[name]); err != nil {
			errs = append(errs, fmt.Errorf("%w: dimension %q = %q: %s", ErrTransformation, name, t.Dimensions[name], err))
		}
	}
	return errors.Join(errs...)
}

// checkRef checks that ref names a field of the pattern.
func (p *Pattern) checkRef(ref string) error {
	switch p.kind {
	case JSON:
		sel, canon, ok := parseRefSelector(ref)
		if !ok {
			return errors.New("expected a number or a selector such as $.field")
		}
		if sel.wild >= 0 {
			return errors.New("expected a selector without wildcards: a metric value or dimension names one field")
		}
		if !slices.Contains(p.json.selectors, canon) {
			return errors.New("field is not in the filter pattern")
		}
		return nil
	case SpaceDelimited:
		if len(ref) < 2 || ref[0] != '$' {
			return errors.New("expected a number or a field such as $name")
		}
		name := ref[1:]
		for _, f := range p.delim.fields {
			if f.name == name {
				return nil
			}
		}
		if _, ok := position(name); ok {
			return nil
		}
		return errors.New("field is not in the filter pattern")
	default:
		return errors.New("expected a number: only JSON and space-delimited patterns have fields")
	}
}
