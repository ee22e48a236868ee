package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Props reads typed values out of resolved properties (what
// ResolveProperties returns) by dotted path, e.g.
// "EventInvokeConfig.MaximumRetryAttempts" or "KeySchema.0.AttributeName".
// Every value that is missing where it is required, or does not convert,
// is recorded with its place ("resource ErrorAlarm: Properties.Period: ...")
// and the reader returns the zero value, so that one pass reads a whole
// resource and Err reports every problem together. The Props that List and
// Map return record into the same list.
type Props struct {
	where string // the place of m, ending in "." ("resource X: Properties.")
	m     map[string]any
	errs  *[]error
}

// NewProps returns a reader of m, a mapping found at where (e.g.
// "Globals.Function"), which prefixes its errors.
func NewProps(where string, m map[string]any) *Props {
	return &Props{where: where + ".", m: m, errs: new([]error)}
}

// Props returns a reader of the resource's resolved properties; its errors
// start with "resource logicalID: Properties.".
func (t *Template) Props(logicalID string, env *Env) (*Props, error) {
	m, err := t.ResolveProperties(logicalID, env)
	if err != nil {
		return nil, err
	}
	return NewProps("resource "+logicalID+": Properties", m), nil
}

// Err returns every problem recorded so far, joined, or nil.
func (p *Props) Err() error { return errors.Join(*p.errs...) }

// Fail records a problem with the value at path.
func (p *Props) Fail(path string, err error) {
	*p.errs = append(*p.errs, fmt.Errorf("%s%s: %w", p.where, path, err))
}

// Value returns the raw value at path; ok is false when there is none.
func (p *Props) Value(path string) (v any, ok bool) { return lookup(p.m, path) }

// Keys returns the keys of the mapping, sorted.
func (p *Props) Keys() []string { return slices.Sorted(maps.Keys(p.m)) }

// Has reports whether there is a value at path.
func (p *Props) Has(path string) bool {
	_, ok := p.Value(path)
	return ok
}

// String returns the value at path as a string (numbers and booleans
// formatted), "" when there is none.
func (p *Props) String(path string) string { return scalar(p, path, "", String) }

// Required is String for a value that must be there.
func (p *Props) Required(path string) string {
	if !p.Has(path) {
		p.Fail(path, errors.New("missing"))
		return ""
	}
	return p.String(path)
}

// Int returns the value at path as an integer, def when there is none.
func (p *Props) Int(path string, def int) int { return int(scalar(p, path, int64(def), Int)) }

// Float returns the value at path as a number; it must be there.
func (p *Props) Float(path string) float64 {
	if !p.Has(path) {
		p.Fail(path, errors.New("missing"))
		return 0
	}
	return scalar(p, path, 0, Float)
}

// Bool returns the value at path as a boolean, def when there is none.
func (p *Props) Bool(path string, def bool) bool { return scalar(p, path, def, Bool) }

// scalar returns the value at path converted by conv, def when there is
// none; a value that does not convert is recorded.
func scalar[T any](p *Props, path string, def T, conv func(any) (T, error)) T {
	v, ok := p.Value(path)
	if !ok {
		return def
	}
	x, err := conv(v)
	if err != nil {
		p.Fail(path, err)
	}
	return x
}

// Strings returns the list at path as strings, nil when there is none.
func (p *Props) Strings(path string) []string {
	l := p.list(path)
	if l == nil {
		return nil
	}
	out := make([]string, 0, len(l))
	for i, x := range l {
		s, err := String(x)
		if err != nil {
			p.Fail(fmt.Sprintf("%s[%d]", path, i), err)
		}
		out = append(out, s)
	}
	return out
}

// Map returns a reader of the mapping at path; ok is false when there is
// none. A value that is not a mapping is recorded as a problem.
func (p *Props) Map(path string) (sub *Props, ok bool) {
	v, ok := p.Value(path)
	if !ok {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		p.Fail(path, fmt.Errorf("want a mapping, got %s", describe(v)))
		return nil, false
	}
	return &Props{where: p.where + path + ".", m: m, errs: p.errs}, true
}

// List returns a reader of each mapping in the list at path, nil when there
// is none. Elements that are not mappings are recorded as problems and
// left out.
func (p *Props) List(path string) []*Props {
	l := p.list(path)
	if l == nil {
		return nil
	}
	out := make([]*Props, 0, len(l))
	for i, x := range l {
		at := fmt.Sprintf("%s[%d]", path, i)
		m, ok := x.(map[string]any)
		if !ok {
			p.Fail(at, fmt.Errorf("want a mapping, got %s", describe(x)))
			continue
		}
		out = append(out, &Props{where: p.where + at + ".", m: m, errs: p.errs})
	}
	return out
}

// list returns the list at path, nil when there is none; a value that is
// not a list is recorded.
func (p *Props) list(path string) []any {
	v, ok := p.Value(path)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.Fail(path, fmt.Errorf("want a list, got %s", describe(v)))
	}
	return l
}

// lookup returns the value at a dotted path below v: mapping keys by name,
// list elements by index ("KeySchema.0.AttributeName").
func lookup(v any, path string) (any, bool) {
	cur := v
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
