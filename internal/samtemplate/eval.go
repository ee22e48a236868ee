package samtemplate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Env is what Eval needs beyond the template: the pseudo parameters and the
// values of resources, which only exist once something created them.
type Env struct {
	StackName string // AWS::StackName; Ref to it fails while empty
	Region    string // AWS::Region; "us-east-1" when empty
	AccountID string // AWS::AccountId; "123456789012" (moto's account) when empty
	Partition string // AWS::Partition; "aws" when empty
	URLSuffix string // AWS::URLSuffix; "amazonaws.com" when empty

	// PhysicalIDs maps a resource's logical id to what Ref returns for it
	// (a table name, a queue URL, a topic ARN, ...).
	PhysicalIDs map[string]string
	// GetAtt returns the value of Fn::GetAtt [logicalID, attribute]. With
	// GetAtt nil, every Fn::GetAtt fails.
	GetAtt func(logicalID, attribute string) (any, error)
}

// The pseudo parameters of an Env that leaves them empty: moto's region
// and account.
const (
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "123456789012"
)

func (e *Env) region() string    { return cmp.Or(e.Region, DefaultRegion) }
func (e *Env) account() string   { return cmp.Or(e.AccountID, DefaultAccountID) }
func (e *Env) partition() string { return cmp.Or(e.Partition, "aws") }

// noValue is what Ref AWS::NoValue evaluates to before its key or element
// is removed.
type noValue struct{}

// evaluator carries one evaluation's state: the environment and the
// conditions already decided.
type evaluator struct {
	t     *Template
	env   *Env
	conds map[string]bool
	busy  map[string]bool
}

func (t *Template) evaluator(env *Env) *evaluator {
	if env == nil {
		env = &Env{}
	}
	return &evaluator{t: t, env: env, conds: map[string]bool{}, busy: map[string]bool{}}
}

// Eval resolves the intrinsic functions our templates use (Ref, Fn::Sub,
// Fn::GetAtt, Fn::If, Fn::Join, Fn::ToJsonString) and drops keys and list elements that are Ref
// AWS::NoValue; any other function is an error that names it. v itself is
// not modified. A nil env means only the default pseudo parameters.
func (t *Template) Eval(v any, env *Env) (any, error) {
	out, err := t.evaluator(env).eval(v, "")
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

// ResolveProperties returns the resource's Properties with every intrinsic
// function resolved. Errors name the resource and the property path.
func (t *Template) ResolveProperties(logicalID string, env *Env) (map[string]any, error) {
	r, err := t.Resource(logicalID)
	if err != nil {
		return nil, err
	}
	out, err := t.evaluator(env).eval(r.Properties, "Properties")
	if err != nil {
		return nil, fmt.Errorf("resource %s: %w", logicalID, err)
	}
	m, _ := out.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Condition evaluates the named condition.
func (t *Template) Condition(name string, env *Env) (bool, error) {
	return t.evaluator(env).condition(name)
}

// checkRules evaluates the Rules section as CloudFormation does before it
// makes a change set: for every rule whose RuleCondition holds, each
// assertion must hold. The error names each failed assertion by rule and
// AssertDescription.
func (t *Template) checkRules(env *Env) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t.Rules)) {
		r := t.Rules[name]
		e := t.evaluator(env)
		if r.RuleCondition != nil {
			ok, err := e.condExpr(r.RuleCondition)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: RuleCondition: %w", name, err))
				continue
			}
			if !ok {
				continue
			}
		}
		for i, a := range r.Assertions {
			ok, err := e.condExpr(a.Assert)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("rule %s: Assertions[%d]: %w", name, i, err))
			case !ok:
				errs = append(errs, fmt.Errorf("rule %s: %s", name, cmp.Or(a.Description, "assertion "+strconv.Itoa(i)+" failed")))
			}
		}
	}
	return errors.Join(errs...)
}

// Active reports whether the resource is created: true when it has no
// Condition or its Condition holds.
func (t *Template) Active(logicalID string, env *Env) (bool, error) {
	r, err := t.Resource(logicalID)
	if err != nil {
		return false, err
	}
	if r.Condition == "" {
		return true, nil
	}
	ok, err := t.Condition(r.Condition, env)
	if err != nil {
		return false, fmt.Errorf("resource %s: %w", logicalID, err)
	}
	return ok, nil
}

// EvalOutputs evaluates every Output whose Condition holds to its string
// value. All failures are reported together.
func (t *Template) EvalOutputs(env *Env) (map[string]string, error) {
	ev := t.evaluator(env)
	out := map[string]string{}
	var errs []error
	for name, o := range t.Outputs {
		if o.Condition != "" {
			ok, err := ev.condition(o.Condition)
			if err != nil {
				errs = append(errs, fmt.Errorf("output %s: %w", name, err))
				continue
			}
			if !ok {
				continue
			}
		}
		v, err := ev.eval(o.Value, "Value")
		if err == nil {
			var s string
			if s, err = String(v); err == nil {
				out[name] = s
				continue
			}
			err = fmt.Errorf("Value: %w", err)
		}
		errs = append(errs, fmt.Errorf("output %s: %w", name, err))
	}
	if err := joinSorted(errs); err != nil {
		return nil, err
	}
	return out, nil
}

func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathErr(path string, err error) error {
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func (e *evaluator) eval(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					out, err := e.intrinsic(k, arg, path)
					if err != nil {
						return nil, pathErr(path, err)
					}
					return out, nil
				}
			}
		}
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // report the first failure deterministically
		for _, k := range keys {
			val, err := e.eval(x[k], at(path, k))
			if err != nil {
				return nil, err
			}
			if _, drop := val.(noValue); !drop {
				out[k] = val
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, el := range x {
			val, err := e.eval(el, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if _, drop := val.(noValue); !drop {
				out = append(out, val)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

// args evaluates an intrinsic's argument and requires a list of n
// elements.
func (e *evaluator) args(fn string, arg any, path string, n int) ([]any, error) {
	v, err := e.eval(arg, path)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok || len(l) != n {
		return nil, fmt.Errorf("%s: want a list of %d elements, got %s", fn, n, describe(v))
	}
	return l, nil
}

func (e *evaluator) intrinsic(fn string, arg any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, err := e.eval(arg, path)
		if err != nil {
			return nil, err
		}
		s, ok := name.(string)
		if !ok {
			return nil, fmt.Errorf("Ref: want a name, got %s", describe(name))
		}
		return e.ref(s)
	case "Fn::GetAtt":
		l, err := e.args(fn, arg, path, 2)
		if err != nil {
			return nil, err
		}
		res, ok1 := l[0].(string)
		attr, ok2 := l[1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [Resource, Attribute] strings")
		}
		return e.getAtt(res, attr)
	case "Fn::Sub":
		return e.sub(arg, path)
	case "Fn::Join":
		return e.join(arg, path)
	case "Fn::ToJsonString": // AWS::LanguageExtensions
		v, err := e.eval(arg, path)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::ToJsonString: %w", err)
		}
		return string(b), nil
	case "Fn::If":
		l, ok := arg.([]any)
		if !ok || len(l) != 3 {
			return nil, errors.New("Fn::If: want [Condition, ValueIfTrue, ValueIfFalse]")
		}
		name, ok := l[0].(string)
		if !ok {
			return nil, errors.New("Fn::If: condition name is not a string")
		}
		holds, err := e.condition(name)
		if err != nil {
			return nil, fmt.Errorf("Fn::If: %w", err)
		}
		if holds {
			return e.eval(l[1], path)
		}
		return e.eval(l[2], path)
	}
	return nil, fmt.Errorf("%s: not supported outside CloudFormation", fn)
}

// join evaluates Fn::Join [delimiter, [values...]]: the values, scalars
// once evaluated (a Ref to a list parameter gives the list), joined by the
// delimiter.
func (e *evaluator) join(arg any, path string) (any, error) {
	l, ok := arg.([]any)
	if !ok || len(l) != 2 {
		return nil, errors.New("Fn::Join: want [delimiter, [values]]")
	}
	delim, ok := l[0].(string)
	if !ok {
		return nil, errors.New("Fn::Join: delimiter is not a string")
	}
	parts, err := e.strings(l[1], path, "a list of values")
	if err != nil {
		return nil, fmt.Errorf("Fn::Join: %w", err)
	}
	return strings.Join(parts, delim), nil
}

// strings evaluates v to a list of scalars, formatted as String does; want
// says what else it could have been.
func (e *evaluator) strings(v any, path, want string) ([]string, error) {
	ev, err := e.eval(v, path)
	if err != nil {
		return nil, err
	}
	l, ok := ev.([]any)
	if !ok {
		return nil, fmt.Errorf("want %s, got %s", want, describe(ev))
	}
	out := make([]string, len(l))
	for i, x := range l {
		if out[i], err = String(x); err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
	}
	return out, nil
}

// ref resolves Ref name: a pseudo parameter, a parameter or a resource.
func (e *evaluator) ref(name string) (any, error) {
	env := e.env
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::StackName":
		if env.StackName == "" {
			return nil, errors.New("Ref AWS::StackName: no stack name in the Env")
		}
		return env.StackName, nil
	case "AWS::Region":
		return env.region(), nil
	case "AWS::AccountId":
		return env.account(), nil
	case "AWS::Partition":
		return env.partition(), nil
	case "AWS::URLSuffix":
		return cmp.Or(env.URLSuffix, "amazonaws.com"), nil
	case "AWS::StackId":
		if env.StackName == "" {
			return nil, errors.New("Ref AWS::StackId: no stack name in the Env")
		}
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000",
			env.partition(), env.region(), env.account(), env.StackName), nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if p, ok := e.t.Parameters[name]; ok {
		v, ok := p.Value()
		if !ok {
			return nil, fmt.Errorf("Ref %s: parameter has no value and no Default", name)
		}
		if p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") {
			parts := strings.Split(v, ",")
			out := make([]any, len(parts))
			for i, s := range parts {
				out[i] = strings.TrimSpace(s)
			}
			return out, nil
		}
		return v, nil
	}
	if _, ok := e.t.Resources[name]; ok {
		if err := e.requireActive(name); err != nil {
			return nil, fmt.Errorf("Ref %s: %w", name, err)
		}
		id, ok := e.env.PhysicalIDs[name]
		if !ok {
			return nil, fmt.Errorf("Ref %s: no physical id for the resource in the Env", name)
		}
		return id, nil
	}
	return nil, fmt.Errorf("Ref %s: no parameter, pseudo parameter or resource named %q", name, name)
}

func (e *evaluator) requireActive(logicalID string) error {
	r := e.t.Resources[logicalID]
	if r.Condition == "" {
		return nil
	}
	ok, err := e.condition(r.Condition)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("resource is not created: its condition %s is false", r.Condition)
	}
	return nil
}

func (e *evaluator) getAtt(res, attr string) (any, error) {
	if _, ok := e.t.Resources[res]; !ok {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no resource named %q", res, attr, res)
	}
	if err := e.requireActive(res); err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: %w", res, attr, err)
	}
	if e.env.GetAtt == nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no attribute resolver in the Env", res, attr)
	}
	v, err := e.env.GetAtt(res, attr)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: %w", res, attr, err)
	}
	return v, nil
}

func (e *evaluator) sub(arg any, path string) (any, error) {
	var tmpl string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, errors.New("Fn::Sub: want a string or [string, {variables}]")
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, errors.New("Fn::Sub: template is not a string")
		}
		tmpl = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, errors.New("Fn::Sub: variables are not a mapping")
		}
		for k, v := range m {
			val, err := e.eval(v, path)
			if err != nil {
				return nil, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
			}
			vars[k] = val
		}
	default:
		return nil, errors.New("Fn::Sub: want a string or [string, {variables}]")
	}
	var b strings.Builder
	err := scanSub(tmpl, func(lit string) { b.WriteString(lit) }, func(name string) error {
		var (
			v   any
			err error
		)
		if local, ok := vars[name]; ok {
			v = local
		} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = e.getAtt(res, attr)
		} else {
			v, err = e.ref(name)
		}
		if err != nil {
			return fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := String(v)
		if err != nil {
			return fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.String(), nil
}

// scanSub walks a Fn::Sub template: lit gets the literal text (a ${!x}
// escape as the literal ${x}), name each variable name, trimmed. It fails
// on an unclosed ${ or when name does.
func scanSub(tmpl string, lit func(string), name func(string) error) error {
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			lit(tmpl)
			return nil
		}
		lit(tmpl[:i])
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return fmt.Errorf("Fn::Sub: unclosed ${ in %q", tmpl)
		}
		v := tmpl[i+2 : i+j]
		tmpl = tmpl[i+j+1:]
		if escaped, ok := strings.CutPrefix(v, "!"); ok {
			lit("${" + escaped + "}")
			continue
		}
		if err := name(strings.TrimSpace(v)); err != nil {
			return err
		}
	}
}

// condition evaluates the named condition once per evaluator.
func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	expr, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s: not defined", name)
	}
	if e.busy[name] {
		return false, fmt.Errorf("condition %s: refers to itself", name)
	}
	e.busy[name] = true
	defer delete(e.busy, name)
	v, err := e.condExpr(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	e.conds[name] = v
	return v, nil
}

func (e *evaluator) condExpr(expr any) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		if b, ok := expr.(bool); ok {
			return b, nil
		}
		return false, fmt.Errorf("want a condition function, got %s", describe(expr))
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, errors.New("Condition: name is not a string")
			}
			return e.condition(name)
		case "Fn::Equals":
			l, err := e.args(fn, arg, "", 2)
			if err != nil {
				return false, err
			}
			return equal(l[0], l[1]), nil
		case "Fn::Contains": // rules only: [list, value]
			l, err := e.args(fn, arg, "", 2)
			if err != nil {
				return false, err
			}
			list, ok := l[0].([]any)
			if !ok {
				return false, fmt.Errorf("Fn::Contains: want a list of values first, got %s", describe(l[0]))
			}
			return slices.ContainsFunc(list, func(x any) bool { return equal(x, l[1]) }), nil
		case "Fn::Not":
			l, ok := arg.([]any)
			if !ok || len(l) != 1 {
				return false, errors.New("Fn::Not: want a list of one condition")
			}
			v, err := e.condExpr(l[0])
			return !v, err
		case "Fn::And", "Fn::Or":
			l, ok := arg.([]any)
			if !ok || len(l) < 2 || len(l) > 10 {
				return false, fmt.Errorf("%s: want a list of 2 to 10 conditions", fn)
			}
			for _, c := range l {
				v, err := e.condExpr(c)
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" && !v {
					return false, nil
				}
				if fn == "Fn::Or" && v {
					return true, nil
				}
			}
			return fn == "Fn::And", nil
		}
		return false, fmt.Errorf("%s: not a condition function", fn)
	}
	return false, nil
}

// equal compares two evaluated values as CloudFormation does: scalars by
// their string form, lists element by element.
func equal(a, b any) bool {
	as, errA := String(a)
	bs, errB := String(b)
	if errA == nil && errB == nil {
		return as == bs
	}
	return reflect.DeepEqual(a, b)
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case noValue:
		return "AWS::NoValue"
	}
	return fmt.Sprintf("%T %v", v, v)
}

// String returns v as CloudFormation passes a scalar on: strings as they
// are, numbers and booleans formatted.
func String(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("want a scalar, got %s", describe(v))
}

// Int returns v as an integer: YAML numbers and numeric strings ("60") are
// accepted, as CloudFormation accepts both.
func Int(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		return int64(x), nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("want an integer, got %s", describe(v))
}

// Float returns v as a number; numeric strings are accepted.
func Float(v any) (float64, error) {
	switch x := v.(type) {
	case int, int64, uint64:
		n, _ := Int(x)
		return float64(n), nil
	case float64:
		return x, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", x)
		}
		return f, nil
	}
	return 0, fmt.Errorf("want a number, got %s", describe(v))
}

// Bool returns v as a boolean; "true" and "false" strings are accepted.
func Bool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("%q is not a boolean", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("want a boolean, got %s", describe(v))
}
