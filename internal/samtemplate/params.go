package samtemplate

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Parameter is one entry of the Parameters section with its effective value.
type Parameter struct {
	Name           string
	Type           string // String, Number, CommaDelimitedList, List<Number>, ...
	Description    string
	Default        *string // nil when the template gives none
	AllowedValues  []string
	AllowedPattern string
	MinLength      *int
	MaxLength      *int
	MinValue       *float64
	MaxValue       *float64
	NoEcho         bool

	value   *string        // override from SetParameters
	pattern *regexp.Regexp // AllowedPattern, compiled once by the parser
}

// Value returns the effective value: the override if SetParameters set one,
// else the Default. ok is false when the parameter has neither.
func (p *Parameter) Value() (v string, ok bool) {
	if p.value != nil {
		return *p.value, true
	}
	if p.Default != nil {
		return *p.Default, true
	}
	return "", false
}

func parseParameter(name string, v any) (*Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("parameter %s: not a mapping", name)
	}
	p := &Parameter{Name: name}
	p.Type, _ = m["Type"].(string)
	if p.Type == "" {
		return nil, fmt.Errorf("parameter %s: no Type", name)
	}
	p.Description, _ = m["Description"].(string)
	p.AllowedPattern, _ = m["AllowedPattern"].(string)
	if d, ok := m["Default"]; ok {
		s, err := String(d)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: Default: %w", name, err)
		}
		p.Default = &s
	}
	if av, ok := m["AllowedValues"]; ok {
		l, ok := av.([]any)
		if !ok {
			return nil, fmt.Errorf("parameter %s: AllowedValues is not a list", name)
		}
		for _, x := range l {
			s, err := String(x)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: AllowedValues: %w", name, err)
			}
			p.AllowedValues = append(p.AllowedValues, s)
		}
	}
	if p.AllowedPattern != "" {
		re, err := compilePattern(p.AllowedPattern)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
		}
		p.pattern = re
	}
	for key, dst := range map[string]**int{"MinLength": &p.MinLength, "MaxLength": &p.MaxLength} {
		if x, ok := m[key]; ok {
			n, err := Int(x)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %s: %w", name, key, err)
			}
			i := int(n)
			*dst = &i
		}
	}
	for key, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
		if x, ok := m[key]; ok {
			f, err := Float(x)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %s: %w", name, key, err)
			}
			*dst = &f
		}
	}
	p.NoEcho, _ = m["NoEcho"].(bool)
	if p.Default != nil {
		if err := p.check(*p.Default); err != nil {
			return nil, fmt.Errorf("parameter %s: Default %q: %w", name, *p.Default, err)
		}
	}
	return p, nil
}

// compilePattern compiles an AllowedPattern; CloudFormation (Java) matches
// it against the whole value.
func compilePattern(p string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + p + `)$`)
}

// check validates v against the parameter's type and constraints.
func (p *Parameter) check(v string) error {
	var errs []error
	values := []string{v}
	if p.Type == "CommaDelimitedList" || p.Type == "List<Number>" {
		values = strings.Split(v, ",")
	}
	for _, x := range values {
		if p.Type == "Number" || p.Type == "List<Number>" {
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%q is not a number", x))
				continue
			}
			if p.MinValue != nil && f < *p.MinValue {
				errs = append(errs, fmt.Errorf("%s is below MinValue %g", x, *p.MinValue))
			}
			if p.MaxValue != nil && f > *p.MaxValue {
				errs = append(errs, fmt.Errorf("%s is above MaxValue %g", x, *p.MaxValue))
			}
		}
	}
	if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
		errs = append(errs, fmt.Errorf("not one of the AllowedValues [%s]", strings.Join(p.AllowedValues, ", ")))
	}
	// On a CommaDelimitedList the pattern must match each value, as
	// CloudFormation applies it (each trimmed, as Ref gives it).
	switch {
	case p.pattern == nil:
	case p.Type == "CommaDelimitedList":
		for _, x := range values {
			if x = strings.TrimSpace(x); !p.pattern.MatchString(x) {
				errs = append(errs, fmt.Errorf("value %q does not match AllowedPattern %s", x, p.AllowedPattern))
			}
		}
	case !p.pattern.MatchString(v):
		errs = append(errs, fmt.Errorf("does not match AllowedPattern %s", p.AllowedPattern))
	}
	if p.MinLength != nil && len(v) < *p.MinLength {
		errs = append(errs, fmt.Errorf("shorter than MinLength %d", *p.MinLength))
	}
	if p.MaxLength != nil && len(v) > *p.MaxLength {
		errs = append(errs, fmt.Errorf("longer than MaxLength %d", *p.MaxLength))
	}
	return errors.Join(errs...)
}

// SetParameters validates overrides (parameter name to value) and, when all
// are valid, makes them the parameters' effective values. It reports every
// problem together: unknown parameters, values outside AllowedValues or not
// matching AllowedPattern, non-numbers for Number parameters, values outside
// MinValue/MaxValue or MinLength/MaxLength, parameters left with no value
// at all, and then the Rules section's failed assertions (checkRules).
func (t *Template) SetParameters(overrides map[string]string) error {
	var errs []error
	for name, v := range overrides {
		p, ok := t.Parameters[name]
		if !ok {
			errs = append(errs, fmt.Errorf("parameter %s: not in the template (known: %s)", name, strings.Join(t.parameterNames(), ", ")))
			continue
		}
		if err := p.check(v); err != nil {
			errs = append(errs, fmt.Errorf("parameter %s=%q: %w", name, v, err))
		}
	}
	for name, p := range t.Parameters {
		if _, set := overrides[name]; !set && p.value == nil && p.Default == nil {
			errs = append(errs, fmt.Errorf("parameter %s: no value and no Default", name))
		}
	}
	if err := joinSorted(errs); err != nil {
		return fmt.Errorf("parameters: %w", err)
	}
	old := map[string]*string{}
	for name, v := range overrides {
		old[name] = t.Parameters[name].value
		t.Parameters[name].value = &v
	}
	err := t.checkRules(nil)
	if err == nil {
		// Fn::ForEach collections may refer to the parameters.
		err = t.buildResources()
	}
	if err != nil {
		for name, v := range old { // all or nothing
			t.Parameters[name].value = v
		}
		return fmt.Errorf("parameters: %w", err)
	}
	return nil
}

// Parameter returns the effective value of the named parameter (override or
// Default), as Ref returns it for String and Number parameters.
func (t *Template) Parameter(name string) (string, error) {
	p, ok := t.Parameters[name]
	if !ok {
		return "", fmt.Errorf("parameter %s: not in the template", name)
	}
	v, ok := p.Value()
	if !ok {
		return "", fmt.Errorf("parameter %s: no value and no Default", name)
	}
	return v, nil
}

// ParameterValues returns every parameter's effective value; parameters
// with no value are left out.
func (t *Template) ParameterValues() map[string]string {
	out := make(map[string]string, len(t.Parameters))
	for name, p := range t.Parameters {
		if v, ok := p.Value(); ok {
			out[name] = v
		}
	}
	return out
}

func (t *Template) parameterNames() []string {
	names := make([]string, 0, len(t.Parameters))
	for n := range t.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseOverrides reads parameter overrides in the syntax of
// `sam deploy --parameter-overrides` and samconfig.toml's
// parameter_overrides: space-separated Key=Value pairs whose values may be
// quoted with double or single quotes (a backslash escapes the quote inside
// double quotes), e.g.
//
//	AlarmEmail=ops@example.com ErrorPattern="?ERROR ?FATAL"
//
// The CloudFormation form ParameterKey=K,ParameterValue=V is accepted too.
// A key given twice is an error.
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	toks, err := splitOverrides(s)
	if err != nil {
		return nil, fmt.Errorf("parameter overrides: %w", err)
	}
	for _, tok := range toks {
		var key, val string
		if rest, ok := strings.CutPrefix(tok.text, "ParameterKey="); ok && !tok.quotedKey {
			k, v, found := strings.Cut(rest, ",ParameterValue=")
			if !found {
				errs = append(errs, fmt.Errorf("%q: want ParameterKey=K,ParameterValue=V", tok.text))
				continue
			}
			key, val = k, v
		} else {
			k, v, found := strings.Cut(tok.text, "=")
			if !found || k == "" {
				errs = append(errs, fmt.Errorf("%q: want Key=Value", tok.text))
				continue
			}
			key, val = k, v
		}
		if _, dup := out[key]; dup {
			errs = append(errs, fmt.Errorf("%s given twice", key))
			continue
		}
		out[key] = val
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("parameter overrides: %w", err)
	}
	return out, nil
}

type overrideToken struct {
	text      string
	quotedKey bool
}

// splitOverrides splits on unquoted whitespace and removes the quotes.
func splitOverrides(s string) ([]overrideToken, error) {
	var (
		toks  []overrideToken
		cur   strings.Builder
		in    bool // inside a token
		quote rune
		qkey  bool
	)
	flush := func() {
		if in {
			toks = append(toks, overrideToken{text: cur.String(), quotedKey: qkey})
		}
		cur.Reset()
		in, qkey = false, false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == '\\' && quote == '"' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\') {
				i++
				cur.WriteRune(rs[i])
			} else if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			if !strings.Contains(cur.String(), "=") {
				qkey = true
			}
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	flush()
	return toks, nil
}
