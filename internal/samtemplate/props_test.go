package samtemplate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

func TestPropsReadsTypedValues(t *testing.T) {
	p := samtemplate.NewProps("resource T: Properties", map[string]any{
		"Name":    "incidents",
		"Port":    8080,
		"Days":    "14",
		"Ratio":   "0.5",
		"On":      "true",
		"Actions": []any{"a", 1},
		"Config":  map[string]any{"Retries": 2, "Nested": map[string]any{"Leaf": "x"}},
		"Keys":    []any{map[string]any{"Name": "pk"}, map[string]any{"Name": "sk"}},
	})
	assert.Equal(t, "incidents", p.String("Name"))
	assert.Equal(t, "8080", p.String("Port"), "numbers are formatted")
	assert.Equal(t, "", p.String("Absent"))
	assert.Equal(t, "incidents", p.Required("Name"))
	assert.Equal(t, 14, p.Int("Days", 0), "numeric strings are numbers")
	assert.Equal(t, 3, p.Int("Absent", 3), "the default")
	assert.Equal(t, 0.5, p.Float("Ratio"))
	assert.True(t, p.Bool("On", false))
	assert.True(t, p.Bool("Absent", true))
	assert.Equal(t, []string{"a", "1"}, p.Strings("Actions"))
	assert.Equal(t, 2, p.Int("Config.Retries", 0), "dotted path")
	assert.Equal(t, "x", p.String("Config.Nested.Leaf"))
	assert.Equal(t, "sk", p.String("Keys.1.Name"), "list index")
	assert.True(t, p.Has("Config.Nested"))
	assert.False(t, p.Has("Keys.2.Name"))
	cfg, ok := p.Map("Config")
	require.True(t, ok)
	assert.Equal(t, 2, cfg.Int("Retries", 0))
	_, ok = p.Map("Absent")
	assert.False(t, ok)
	var names []string
	for _, k := range p.List("Keys") {
		names = append(names, k.Required("Name"))
	}
	assert.Equal(t, []string{"pk", "sk"}, names)
	assert.NoError(t, p.Err())
}

// Every problem is reported, with its place, and none is dropped: a value
// that does not convert is an error, not an empty string.
func TestPropsReportsEveryProblem(t *testing.T) {
	p := samtemplate.NewProps("resource T: Properties", map[string]any{
		"Name":    map[string]any{"not": "a string"},
		"Period":  "sixty",
		"On":      "maybe",
		"Actions": []any{"a", []any{"b"}},
		"Keys":    []any{map[string]any{"Name": "pk"}, "sk", map[string]any{}},
		"Config":  "flat",
		"Plain":   "x",
	})
	assert.Equal(t, "", p.String("Name"))
	assert.Equal(t, 0, p.Int("Period", 60))
	assert.False(t, p.Bool("On", true))
	assert.Equal(t, 0.0, p.Float("Threshold"))
	p.Required("Missing")
	p.Strings("Actions")
	p.Strings("Plain")
	for _, k := range p.List("Keys") {
		k.Required("Name")
	}
	_, ok := p.Map("Config")
	assert.False(t, ok)
	p.List("Plain")
	assert.EqualError(t, p.Err(), `resource T: Properties.Name: want a scalar, got a mapping
resource T: Properties.Period: "sixty" is not an integer
resource T: Properties.On: "maybe" is not a boolean
resource T: Properties.Threshold: missing
resource T: Properties.Missing: missing
resource T: Properties.Actions[1]: want a scalar, got a list
resource T: Properties.Plain: want a list, got string x
resource T: Properties.Keys[1]: want a mapping, got string sk
resource T: Properties.Keys[2].Name: missing
resource T: Properties.Config: want a mapping, got string flat
resource T: Properties.Plain: want a list, got string x`)
}

func TestTemplateProps(t *testing.T) {
	tmpl := load(t)
	p, err := tmpl.Props("Group", env())
	require.NoError(t, err)
	assert.Equal(t, "/app/demo", p.Required("LogGroupName"))
	assert.Equal(t, 14, p.Int("RetentionInDays", 0), "Ref of a Number parameter, a string, read as a number")
	assert.NoError(t, p.Err())

	_, err = tmpl.Props("Nope", env())
	assert.EqualError(t, err, "resource Nope: not in the template")
}
