package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// This file expands Fn::ForEach, the loop of the AWS::LanguageExtensions
// transform, in the Resources section as CloudFormation does before it
// reads the template: an entry
//
//	Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]
//
// stands for one copy of the fragment per value of the collection (a list
// of strings or a Ref to a CommaDelimitedList parameter), in which every
// ${Identifier} becomes the value and every &{Identifier} the value without
// its non-alphanumeric characters, in keys and in strings alike (so inside
// Fn::Sub templates too), and a Ref to the identifier the value. Loops may
// nest. The collection is evaluated with
// the parameters' effective values, so SetParameters expands again.

// LanguageExtensions is the transform that Fn::ForEach needs.
const LanguageExtensions = "AWS::LanguageExtensions"

const forEachPrefix = "Fn::ForEach::"

// expandLoops returns section with every Fn::ForEach entry replaced by its
// copies. A logical id given twice, by two values or a loop and a
// resource, is an error.
func (t *Template) expandLoops(section map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var errs []error
	add := func(key string, v any, from string) {
		if _, dup := out[key]; dup {
			errs = append(errs, fmt.Errorf("%s: logical id %s is given twice", from, key))
			return
		}
		out[key] = v
	}
	for _, key := range slices.Sorted(maps.Keys(section)) {
		name, ok := strings.CutPrefix(key, forEachPrefix)
		if !ok {
			add(key, section[key], "resource "+key)
			continue
		}
		if !slices.Contains(t.Transform, LanguageExtensions) {
			errs = append(errs, fmt.Errorf("%s: needs the %s transform", key, LanguageExtensions))
			continue
		}
		copies, err := t.forEach(name, section[key])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range copies {
			for _, k := range slices.Sorted(maps.Keys(c)) {
				add(k, c[k], key)
			}
		}
	}
	return out, joinSorted(errs)
}

// forEach returns the copies of one loop's fragment, its nested loops
// expanded.
func (t *Template) forEach(name string, v any) ([]map[string]any, error) {
	where := forEachPrefix + name
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		return nil, fmt.Errorf("%s: want [Identifier, Collection, {OutputKey: OutputValue}]", where)
	}
	id, ok := l[0].(string)
	if !ok || id == "" || !isAlphanumeric(id) {
		return nil, fmt.Errorf("%s: the identifier must be a non-empty alphanumeric string", where)
	}
	fragment, ok := l[2].(map[string]any)
	if !ok || len(fragment) == 0 {
		return nil, fmt.Errorf("%s: the fragment must be a mapping of OutputKey to OutputValue", where)
	}
	for key := range fragment {
		if !strings.HasPrefix(key, forEachPrefix) && !strings.Contains(key, "${"+id+"}") && !strings.Contains(key, "&{"+id+"}") {
			return nil, fmt.Errorf("%s: OutputKey %s contains neither ${%s} nor &{%s}", where, key, id, id)
		}
	}
	values, err := t.collection(l[1])
	if err != nil {
		return nil, fmt.Errorf("%s: Collection: %w", where, err)
	}
	out := make([]map[string]any, 0, len(values))
	for _, val := range values {
		c, _ := substitute(fragment, id, val).(map[string]any)
		c, err := t.expandLoops(c)
		if err != nil {
			return nil, fmt.Errorf("%s: value %q: %w", where, val, err)
		}
		for key := range c {
			if !isAlphanumeric(key) {
				return nil, fmt.Errorf("%s: value %q gives the logical id %q, which is not alphanumeric: use &{%s} in the OutputKey", where, val, key, id)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// collection evaluates a loop's collection against the parameters. A Ref
// to a parameter that has no value yet (no Default, not set) is an empty
// collection: the loop makes its resources once SetParameters gives one,
// which it must.
func (t *Template) collection(v any) ([]string, error) {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Ref"].(string); ok {
			if p, ok := t.Parameters[name]; ok {
				if _, set := p.Value(); !set {
					return nil, nil
				}
			}
		}
	}
	return t.evaluator(nil).strings(v, "", "a list or a Ref to a CommaDelimitedList parameter")
}

// substitute returns a copy of v with ${id} replaced by val and &{id} by
// val's alphanumeric characters, in keys and strings, and a Ref to id by
// val.
func substitute(v any, id, val string) any {
	r := strings.NewReplacer("${"+id+"}", val, "&{"+id+"}", Alphanumeric(val))
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return r.Replace(x)
		case map[string]any:
			if ref, ok := x["Ref"]; ok && len(x) == 1 && ref == id {
				return val
			}
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[r.Replace(k)] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		}
		return v
	}
	return walk(v)
}

// Alphanumeric returns s without its characters other than ASCII letters
// and digits, as &{} does: the part of a logical id a Fn::ForEach value
// gives.
func Alphanumeric(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}

func isAlphanumeric(s string) bool { return s != "" && Alphanumeric(s) == s }

// buildResources expands the raw Resources section with the parameters'
// current values and parses every resource, checking that the conditions
// and DependsOn they name exist.
func (t *Template) buildResources() error {
	section, err := t.expandLoops(t.rawResources)
	if err != nil {
		return err
	}
	resources := map[string]*Resource{}
	errs := parseEntries(section, parseResource, resources, nil)
	// A template made only of loops over a parameter that has no value yet
	// (member.yaml's LogGroupNames) has none until SetParameters gives one.
	if len(t.rawResources) == 0 {
		errs = append(errs, errors.New("template has no Resources"))
	}
	for _, r := range resources {
		if r.Condition != "" {
			if _, ok := t.Conditions[r.Condition]; !ok {
				errs = append(errs, fmt.Errorf("resource %s: Condition %q is not defined", r.LogicalID, r.Condition))
			}
		}
		for _, d := range r.DependsOn {
			if _, ok := resources[d]; !ok {
				errs = append(errs, fmt.Errorf("resource %s: DependsOn %q: no such resource", r.LogicalID, d))
			}
		}
	}
	if err := joinSorted(errs); err != nil {
		return err
	}
	t.Resources = resources
	return nil
}
