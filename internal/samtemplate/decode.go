package samtemplate

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// shortForms maps each short-form tag CloudFormation accepts to its long
// form key, so that any template parses; Eval evaluates only some of them.
var shortForms = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!Contains":     "Fn::Contains",
	"!Not":          "Fn::Not",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Join":         "Fn::Join",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Cidr":         "Fn::Cidr",
	"!Transform":    "Fn::Transform",
	"!Length":       "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// decode turns a YAML node into plain Go values with every short-form tag
// in long form.
func decode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return decode(n.Content[0])
	case yaml.AliasNode:
		return decode(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn, ok := shortForms[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		var arg any
		if n.Kind == yaml.ScalarNode {
			arg = n.Value // a tagged scalar is a string: !Ref 1 refers to "1"
		} else {
			var err error
			if arg, err = decodeUntagged(n); err != nil {
				return nil, err
			}
		}
		if s, ok := arg.(string); ok && fn == "Fn::GetAtt" {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			arg = []any{res, attr}
		}
		return map[string]any{fn: arg}, nil
	}
	return decodeUntagged(n)
}

// decodeUntagged decodes n as if it carried no custom tag.
func decodeUntagged(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a string", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			val, err := decode(v)
			if err != nil {
				return nil, err
			}
			m[k.Value] = val
		}
		for _, v := range merges {
			if err := merge(m, v); err != nil {
				return nil, err
			}
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decode(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!timestamp", "!!binary":
			return n.Value, nil // CloudFormation reads dates such as 2010-09-09 as strings
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.AliasNode:
		return decode(n.Alias)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// merge applies a YAML merge key (<<: *anchor) to m; keys already in m win.
func merge(m map[string]any, v *yaml.Node) error {
	srcs := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	}
	for _, s := range srcs {
		d, err := decode(s)
		if err != nil {
			return err
		}
		dm, ok := d.(map[string]any)
		if !ok {
			return fmt.Errorf("line %d: merge of a non-mapping", s.Line)
		}
		for k, val := range dm {
			if _, ok := m[k]; !ok {
				m[k] = val
			}
		}
	}
	return nil
}
