package samtemplate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a decoded template: its sections in long form plus the
// effective value of every parameter.
type Template struct {
	Description string
	// Transform lists the macros, e.g. AWS::Serverless-2016-10-31.
	Transform  []string
	Globals    map[string]any
	Parameters map[string]*Parameter
	// Conditions holds each condition's expression; see Condition.
	Conditions map[string]any
	// Rules holds the parameter rules; see checkRules.
	Rules map[string]*Rule
	// Resources holds the resources, Fn::ForEach loops expanded with the
	// parameters' effective values (see foreach.go).
	Resources map[string]*Resource
	Outputs   map[string]*Output

	rawResources map[string]any // the Resources section as written
}

// Rule is one entry of the Rules section: when RuleCondition holds (or is
// absent), every assertion must hold for the parameters to be accepted.
type Rule struct {
	Name          string
	RuleCondition any // a condition expression, or nil
	Assertions    []Assertion
}

// Assertion is one assertion of a Rule.
type Assertion struct {
	Assert      any // a condition expression
	Description string
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID           string
	Type                string
	Properties          map[string]any
	Condition           string   // name of the condition that gates it, or ""
	DependsOn           []string // explicit DependsOn only
	DeletionPolicy      string
	UpdateReplacePolicy string
	Metadata            map[string]any
}

// Output is one entry of the Outputs section.
type Output struct {
	Name        string
	Description string
	Value       any
	Condition   string
	Export      any
}

// Load reads and parses the template file at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	return t, nil
}

// Parse decodes a YAML (or JSON) template. Every problem found in the
// sections' shape is reported together.
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	raw, err := decode(&doc)
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("parse template: top level is not a mapping")
	}
	t := &Template{
		Parameters: map[string]*Parameter{},
		Resources:  map[string]*Resource{},
		Outputs:    map[string]*Output{},
		Conditions: map[string]any{},
		Rules:      map[string]*Rule{},
	}
	var errs []error
	if s, ok := top["Description"].(string); ok {
		t.Description = s
	}
	switch tr := top["Transform"].(type) {
	case nil:
	case string:
		t.Transform = []string{tr}
	case []any:
		for _, v := range tr {
			if s, ok := v.(string); ok {
				t.Transform = append(t.Transform, s)
			}
		}
	}
	t.Globals, errs = section(top, "Globals", errs)
	var conds map[string]any
	if conds, errs = section(top, "Conditions", errs); conds != nil {
		t.Conditions = conds
	}
	rules, errs := section(top, "Rules", errs)
	errs = parseEntries(rules, parseRule, t.Rules, errs)
	params, errs := section(top, "Parameters", errs)
	errs = parseEntries(params, parseParameter, t.Parameters, errs)
	t.rawResources, errs = section(top, "Resources", errs)
	outputs, errs := section(top, "Outputs", errs)
	for name, v := range outputs {
		m, ok := v.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("output %s: not a mapping", name))
			continue
		}
		o := &Output{Name: name, Value: m["Value"], Export: m["Export"]}
		o.Description, _ = m["Description"].(string)
		o.Condition, _ = m["Condition"].(string)
		if _, ok := m["Value"]; !ok {
			errs = append(errs, fmt.Errorf("output %s: no Value", name))
		}
		t.Outputs[name] = o
	}
	if err := t.buildResources(); err != nil {
		errs = append(errs, err)
	}
	if err := joinSorted(errs); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return t, nil
}

func section(top map[string]any, name string, errs []error) (map[string]any, []error) {
	v, ok := top[name]
	if !ok || v == nil {
		return nil, errs
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, append(errs, fmt.Errorf("section %s: not a mapping", name))
	}
	return m, errs
}

func parseResource(id string, v any) (*Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("resource %s: not a mapping", id)
	}
	r := &Resource{LogicalID: id}
	r.Type, _ = m["Type"].(string)
	if r.Type == "" {
		return nil, fmt.Errorf("resource %s: no Type", id)
	}
	switch p := m["Properties"].(type) {
	case nil:
		r.Properties = map[string]any{}
	case map[string]any:
		r.Properties = p
	default:
		return nil, fmt.Errorf("resource %s: Properties is not a mapping", id)
	}
	r.Condition, _ = m["Condition"].(string)
	r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
	r.UpdateReplacePolicy, _ = m["UpdateReplacePolicy"].(string)
	r.Metadata, _ = m["Metadata"].(map[string]any)
	switch d := m["DependsOn"].(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, x := range d {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("resource %s: DependsOn holds a non-string", id)
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return nil, fmt.Errorf("resource %s: DependsOn is neither a string nor a list", id)
	}
	return r, nil
}

// Resource returns the resource with the given logical id.
func (t *Template) Resource(logicalID string) (*Resource, error) {
	r, ok := t.Resources[logicalID]
	if !ok {
		return nil, fmt.Errorf("resource %s: not in the template", logicalID)
	}
	return r, nil
}

// ResourcesOfType returns the resources of type typ (e.g.
// "AWS::Logs::LogGroup"), sorted by logical id.
func (t *Template) ResourcesOfType(typ string) []*Resource {
	var out []*Resource
	for _, r := range t.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// LogicalIDs returns every resource's logical id, sorted.
func (t *Template) LogicalIDs() []string {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Property returns the raw (unevaluated) value at a dotted path below the
// resource's Properties, e.g. "EventInvokeConfig.DestinationConfig.OnFailure";
// list elements are addressed by index ("KeySchema.0.AttributeName").
func (r *Resource) Property(path string) (any, bool) { return lookup(r.Properties, path) }

// References returns the logical ids of the resources r refers to through
// Ref, Fn::GetAtt, Fn::Sub variables and DependsOn, sorted and without
// duplicates. Names of parameters and pseudo parameters are left out.
func (t *Template) References(r *Resource) []string {
	seen := map[string]bool{}
	for _, d := range r.DependsOn {
		seen[d] = true
	}
	walkRefs(r.Properties, func(name string) {
		if _, ok := t.Resources[name]; ok && name != r.LogicalID {
			seen[name] = true
		}
	})
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Order returns the logical ids in an order where every resource comes after
// the resources it references (see References), ties broken by name. It
// fails on a reference cycle.
func (t *Template) Order() ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var out []string
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("reference cycle: %s", strings.Join(append(path, id), " -> "))
		}
		state[id] = visiting
		for _, dep := range t.References(t.Resources[id]) {
			if err := visit(dep, append(slices.Clip(path), id)); err != nil {
				return err
			}
		}
		state[id] = done
		out = append(out, id)
		return nil
	}
	for _, id := range t.LogicalIDs() {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// walkRefs calls fn with every name v refers to.
func walkRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if s, ok := x["Ref"].(string); ok {
				fn(s)
				return
			}
			if l, ok := x["Fn::GetAtt"].([]any); ok && len(l) > 0 {
				if s, ok := l[0].(string); ok {
					fn(s)
				}
				return
			}
			if sub, ok := x["Fn::Sub"]; ok {
				var tmpl string
				local := map[string]bool{}
				switch s := sub.(type) {
				case string:
					tmpl = s
				case []any:
					if len(s) > 0 {
						tmpl, _ = s[0].(string)
					}
					if len(s) > 1 {
						if vars, ok := s[1].(map[string]any); ok {
							for k, val := range vars {
								local[k] = true
								walkRefs(val, fn)
							}
						}
					}
				}
				for _, name := range subVars(tmpl) {
					name, _, _ = strings.Cut(name, ".")
					if !local[name] {
						fn(name)
					}
				}
				return
			}
		}
		for _, val := range x {
			walkRefs(val, fn)
		}
	case []any:
		for _, val := range x {
			walkRefs(val, fn)
		}
	}
}

// subVars returns the variable names in an Fn::Sub template, skipping
// literal ${!...} escapes.
func subVars(s string) []string {
	var out []string
	// An unclosed ${ ends the scan; Eval reports it.
	_ = scanSub(s, func(string) {}, func(name string) error {
		out = append(out, name)
		return nil
	})
	return out
}

// joinSorted joins errs in a stable order so messages do not depend on map
// iteration.
func joinSorted(errs []error) error {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// parseEntries parses every entry of a section into dst, adding what fails
// to errs.
func parseEntries[T any](section map[string]any, parse func(name string, v any) (T, error), dst map[string]T, errs []error) []error {
	for name, v := range section {
		x, err := parse(name, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dst[name] = x
	}
	return errs
}

// parseRule reads one entry of the Rules section.
func parseRule(name string, v any) (*Rule, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rule %s: not a mapping", name)
	}
	r := &Rule{Name: name, RuleCondition: m["RuleCondition"]}
	list, ok := m["Assertions"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("rule %s: Assertions: want a list of assertions", name)
	}
	for i, a := range list {
		am, ok := a.(map[string]any)
		if !ok || am["Assert"] == nil {
			return nil, fmt.Errorf("rule %s: Assertions[%d]: want a mapping with Assert", name, i)
		}
		desc, _ := am["AssertDescription"].(string)
		r.Assertions = append(r.Assertions, Assertion{Assert: am["Assert"], Description: desc})
	}
	return r, nil
}
