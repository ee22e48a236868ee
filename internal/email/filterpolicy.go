package email

import (
	"encoding/json"
	"fmt"
	"strings"
)

// messageAttribute is a message attribute as SNS puts it in the
// notification it delivers to a queue.
type messageAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// matchFilterPolicy reports whether a message with attrs passes policy, an
// SNS subscription filter policy on message attributes: every key of the
// policy must match (AND), each through one of its conditions (OR). The
// conditions evaluated are exact strings, and objects with prefix, suffix,
// equals-ignore-case, exists and anything-but (a string, a list of
// strings or a prefix); a policy with anything else (numeric matching,
// for one) is an error that names it, never silently passed. An empty
// policy passes everything.
func matchFilterPolicy(policy string, attrs map[string]messageAttribute) (bool, error) {
	if strings.TrimSpace(policy) == "" {
		return true, nil
	}
	var p map[string][]any
	if err := json.Unmarshal([]byte(policy), &p); err != nil {
		return false, fmt.Errorf("filter policy %.200s: want an object of attribute names to lists of conditions: %w", policy, err)
	}
	for key, conds := range p {
		a, present := attrs[key]
		ok := false
		for _, c := range conds {
			m, err := matchCondition(c, a.Value, present)
			if err != nil {
				return false, fmt.Errorf("filter policy, attribute %s: %w", key, err)
			}
			ok = ok || m
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// matchCondition matches one condition of a filter policy against an
// attribute's value (present false: the message has no such attribute).
func matchCondition(c any, value string, present bool) (bool, error) {
	switch c := c.(type) {
	case string:
		return present && value == c, nil
	case map[string]any:
		if len(c) != 1 {
			return false, fmt.Errorf("condition %v: want one operator", c)
		}
		for op, arg := range c {
			if op == "exists" {
				want, ok := arg.(bool)
				if !ok {
					return false, fmt.Errorf("exists %v: want true or false", arg)
				}
				return present == want, nil
			}
			if !present {
				return false, nil
			}
			return matchOperator(op, arg, value)
		}
	}
	return false, fmt.Errorf("condition %v is not evaluated locally (strings, prefix, suffix, equals-ignore-case, exists and anything-but are)", c)
}

// matchOperator applies one operator other than exists to a present value.
func matchOperator(op string, arg any, value string) (bool, error) {
	s, isString := arg.(string)
	switch {
	case op == "prefix" && isString:
		return strings.HasPrefix(value, s), nil
	case op == "suffix" && isString:
		return strings.HasSuffix(value, s), nil
	case op == "equals-ignore-case" && isString:
		return strings.EqualFold(value, s), nil
	case op == "anything-but":
		switch a := arg.(type) {
		case string:
			return value != a, nil
		case []any:
			for _, x := range a {
				if x == value {
					return false, nil
				}
			}
			return true, nil
		case map[string]any:
			if p, ok := a["prefix"].(string); ok && len(a) == 1 {
				return !strings.HasPrefix(value, p), nil
			}
		}
	}
	return false, fmt.Errorf("operator %s %v is not evaluated locally (strings, prefix, suffix, equals-ignore-case, exists and anything-but are)", op, arg)
}
