package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Fn::ForEach, from the AWS::LanguageExtensions transform, repeats a
// fragment of the Resources section once per element of a collection:
//
//	Fn::ForEach::Groups:
//	  - Name                       # the identifier
//	  - !Ref LogGroupNames         # a list, or a CommaDelimitedList parameter
//	  - Watch&{Name}:              # the logical id: ${Name}, or &{Name} for
//	      Type: AWS::Logs::...     # the value without its non-alphanumerics
//	      Properties:
//	        LogGroupName: !Ref Name    # the element; ${Name} in !Sub too
//
// The resources it makes depend on parameter values, so a template expands
// its loops when it is parsed (with the Defaults) and again whenever
// SetParameters changes the values.

const (
	forEachPrefix      = "Fn::ForEach::"
	languageExtensions = "AWS::LanguageExtensions"
)

// cutLoops removes the Fn::ForEach entries from a Resources section and
// returns them.
func cutLoops(resources map[string]any) map[string]any {
	loops := map[string]any{}
	for k, v := range resources {
		if strings.HasPrefix(k, forEachPrefix) {
			loops[k] = v
			delete(resources, k)
		}
	}
	return loops
}

// expandLoops returns t's resources with those its loops make for the
// parameters' current values in place of those they made before.
func (t *Template) expandLoops() (map[string]*Resource, error) {
	if len(t.loops) == 0 {
		return t.Resources, nil
	}
	if !slices.Contains(t.Transform, languageExtensions) {
		return nil, fmt.Errorf("Fn::ForEach needs Transform: %s", languageExtensions)
	}
	made := map[string]any{}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(t.loops)) {
		if err := t.expandLoop(key, t.loops[key], made); err != nil {
			errs = append(errs, err)
		}
	}
	out := map[string]*Resource{}
	for id, r := range t.Resources {
		if !t.looped[id] {
			out[id] = r
		}
	}
	for _, id := range slices.Sorted(maps.Keys(made)) {
		if _, dup := out[id]; dup {
			errs = append(errs, fmt.Errorf("resource %s: made by Fn::ForEach and declared too", id))
			continue
		}
		r, err := parseResource(id, made[id])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[id] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// expandLoop adds to made the resources the loop key makes of its value,
// [Identifier, Collection, {OutputKey: OutputValue, ...}], loops nested in
// the fragment included.
func (t *Template) expandLoop(key string, v any, made map[string]any) error {
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		return fmt.Errorf("%s: want [Identifier, Collection, {OutputKey: OutputValue}]", key)
	}
	ident, _ := l[0].(string)
	fragment, ok := l[2].(map[string]any)
	if ident == "" || !ok {
		return fmt.Errorf("%s: want [Identifier, Collection, {OutputKey: OutputValue}]", key)
	}
	coll, err := t.Eval(l[1], nil)
	if err != nil {
		return fmt.Errorf("%s: collection: %w", key, err)
	}
	items, ok := coll.([]any)
	if !ok {
		return fmt.Errorf("%s: collection: want a list, got %s", key, describe(coll))
	}
	for _, item := range items {
		val, err := String(item)
		if err != nil {
			return fmt.Errorf("%s: collection: %w", key, err)
		}
		for _, k := range slices.Sorted(maps.Keys(fragment)) {
			out := substitute(fragment[k], ident, val)
			if strings.HasPrefix(k, forEachPrefix) {
				if err := t.expandLoop(k, out, made); err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				continue
			}
			id := replaceIdent(k, ident, val)
			switch {
			case id == k:
				return fmt.Errorf("%s: OutputKey %q uses neither ${%s} nor &{%s}", key, k, ident, ident)
			case id != alphanumeric(id):
				return fmt.Errorf("%s: logical id %q is not alphanumeric (&{%s} drops the other characters)", key, id, ident)
			}
			if _, dup := made[id]; dup {
				return fmt.Errorf("%s: resource %s made twice", key, id)
			}
			made[id] = out
		}
	}
	return nil
}

// substitute returns a copy of v with the loop's identifier replaced by
// val: Ref to it, ${ident} in Fn::Sub strings and in keys (the OutputKeys
// of nested loops).
func substitute(v any, ident, val string) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if ref, ok := x["Ref"].(string); ok && ref == ident {
				return val
			}
			switch sub := x["Fn::Sub"].(type) {
			case string:
				return map[string]any{"Fn::Sub": replaceIdent(sub, ident, val)}
			case []any:
				out := substitute(sub, ident, val).([]any) // the variables
				if len(out) > 0 {
					if s, ok := out[0].(string); ok {
						out[0] = replaceIdent(s, ident, val)
					}
				}
				return map[string]any{"Fn::Sub": out}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[replaceIdent(k, ident, val)] = substitute(e, ident, val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, ident, val)
		}
		return out
	}
	return v
}

// replaceIdent replaces ${ident} in s by val and &{ident} by val without
// its non-alphanumeric characters.
func replaceIdent(s, ident, val string) string {
	s = strings.ReplaceAll(s, "${"+ident+"}", val)
	return strings.ReplaceAll(s, "&{"+ident+"}", alphanumeric(val))
}

// alphanumeric keeps the ASCII letters and digits of s.
func alphanumeric(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
