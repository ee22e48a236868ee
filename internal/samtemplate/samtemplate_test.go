package samtemplate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

func load(tb testing.TB) *samtemplate.Template {
	tb.Helper()
	t, err := samtemplate.Load("testdata/app.yaml")
	require.NoError(tb, err)
	return t
}

// env resolves Queue and Group like a deployed stack would.
func env() *samtemplate.Env {
	return &samtemplate.Env{
		StackName: "demo",
		PhysicalIDs: map[string]string{
			"Queue": "https://sqs.local/123456789012/demo-Queue",
			"Group": "/app/demo",
			"Topic": "arn:aws:sns:us-east-1:123456789012:demo-Topic",
		},
		GetAtt: func(id, attr string) (any, error) {
			switch id + "." + attr {
			case "Queue.Arn":
				return "arn:aws:sqs:us-east-1:123456789012:demo-Queue", nil
			case "Queue.QueueName":
				return "demo-Queue", nil
			}
			return nil, fmt.Errorf("no attribute %s", attr)
		},
	}
}

func TestTemplateParseShortForms(t *testing.T) {
	tests := []struct {
		name, value string
		want        any
	}{
		{"Ref", `!Ref Bucket`, map[string]any{"Ref": "Bucket"}},
		{"GetAtt dotted", `!GetAtt Fn.Arn`, map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
		{"GetAtt nested attribute", `!GetAtt Db.Endpoint.Address`, map[string]any{"Fn::GetAtt": []any{"Db", "Endpoint.Address"}}},
		{"GetAtt list", `!GetAtt [Fn, Arn]`, map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
		{"Sub string", `!Sub "a-${AWS::Region}"`, map[string]any{"Fn::Sub": "a-${AWS::Region}"}},
		{"Sub list", "!Sub\n  - x${A}\n  - A: 1", map[string]any{"Fn::Sub": []any{"x${A}", map[string]any{"A": 1}}}},
		{"nested", `!Join ["", [!Ref A, !Sub "${B}"]]`, map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Ref": "A"}, map[string]any{"Fn::Sub": "${B}"}}}}},
		{"If", `!If [C, 1, !Ref AWS::NoValue]`, map[string]any{"Fn::If": []any{"C", 1, map[string]any{"Ref": "AWS::NoValue"}}}},
		{"condition functions", `!Not [!Equals [!Ref A, ""]]`, map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "A"}, ""}}}}},
		{"Condition", `!Condition IsProd`, map[string]any{"Condition": "IsProd"}},
		{"Select Split", `!Select [0, !Split [",", "a,b"]]`, map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::Split": []any{",", "a,b"}}}}},
		{"FindInMap", `!FindInMap [M, K, V]`, map[string]any{"Fn::FindInMap": []any{"M", "K", "V"}}},
		{"Base64 of a number stays a string", `!Base64 12`, map[string]any{"Fn::Base64": "12"}},
		{"long form untouched", `{"Fn::GetAtt": [Fn, Arn]}`, map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}},
		{"anchor and merge", "{a: &x {k: 1, j: 2}, b: {<<: *x, j: 3}}", map[string]any{"a": map[string]any{"k": 1, "j": 2}, "b": map[string]any{"k": 1, "j": 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := samtemplate.Parse([]byte("Resources:\n  R:\n    Type: X\n    Properties:\n      V: " + indent(tc.value) + "\n"))
			require.NoError(t, err)
			got, ok := tmpl.Resources["R"].Property("V")
			require.True(t, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func indent(s string) string {
	out := ""
	for i, line := range splitLines(s) {
		if i > 0 {
			out += "\n        "
		}
		out += line
	}
	return out
}

func splitLines(s string) []string {
	var lines []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			lines = append(lines, s[start:i])
			start = i + 1
		}
	}
	return append(lines, s[start:])
}

func TestTemplateParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown tag", "Resources:\n  R:\n    Type: X\n    Properties: {V: !Nope x}\n", "parse template: line 4: unknown tag !Nope"},
		{"duplicate key", "Resources:\n  R:\n    Type: X\n  R:\n    Type: Y\n", `parse template: line 4: duplicate key "R"`},
		{"no resources", "Parameters: {}\n", "parse template: template has no Resources"},
		{"no type", "Resources:\n  R: {Properties: {}}\n", "parse template: resource R: no Type"},
		{"GetAtt without attribute", "Resources:\n  R:\n    Type: X\n    Properties: {V: !GetAtt Fn}\n", `parse template: line 4: !GetAtt "Fn": want Resource.Attribute`},
		{
			"problems reported together",
			"Parameters:\n  P: {Type: Number, Default: x}\nResources:\n  R: {Type: X, Condition: Missing, DependsOn: Nope}\n",
			"parse template: parameter P: Default \"x\": \"x\" is not a number\n" +
				"resource R: Condition \"Missing\" is not defined\n" +
				"resource R: DependsOn \"Nope\": no such resource",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tc.yaml))
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestTemplateLoad(t *testing.T) {
	tmpl := load(t)
	assert.Equal(t, []string{"AWS::Serverless-2016-10-31"}, tmpl.Transform)
	r, err := tmpl.Resource("Fn")
	require.NoError(t, err)
	assert.Equal(t, "AWS::Serverless::Function", r.Type)
	assert.Equal(t, []string{"Group"}, r.DependsOn)
	sub, err := tmpl.Resource("Sub")
	require.NoError(t, err)
	assert.Equal(t, "HasEmail", sub.Condition)

	var ids []string
	for _, r := range tmpl.ResourcesOfType("AWS::SNS::Topic") {
		ids = append(ids, r.LogicalID)
	}
	assert.Equal(t, []string{"Topic"}, ids)

	_, err = tmpl.Resource("Nope")
	assert.EqualError(t, err, "resource Nope: not in the template")
	_, err = samtemplate.Load("testdata/missing.yaml")
	assert.ErrorContains(t, err, "load template: open testdata/missing.yaml")
}

func TestTemplateParseOverrides(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
		wantErr  string
	}{
		{"empty", "", map[string]string{}, ""},
		{"plain", "A=1 B=two", map[string]string{"A": "1", "B": "two"}, ""},
		{"double quotes", `ErrorPattern="?ERROR ?FATAL" X=1`, map[string]string{"ErrorPattern": "?ERROR ?FATAL", "X": "1"}, ""},
		{"single quotes", `P='a "b" c'`, map[string]string{"P": `a "b" c`}, ""},
		{"escaped quote", `P="say \"hi\""`, map[string]string{"P": `say "hi"`}, ""},
		{"empty value", `AlarmEmail="" B=`, map[string]string{"AlarmEmail": "", "B": ""}, ""},
		{"value with equals", `Q=a=b`, map[string]string{"Q": "a=b"}, ""},
		{"CloudFormation form", `ParameterKey=A,ParameterValue=x ParameterKey=B,ParameterValue=y`, map[string]string{"A": "x", "B": "y"}, ""},
		{"extra spaces and newlines", "  A=1 \n\t B=2  ", map[string]string{"A": "1", "B": "2"}, ""},
		{"missing equals", "A=1 oops", nil, `parameter overrides: "oops": want Key=Value`},
		{"unterminated", `A="x`, nil, `parameter overrides: unterminated " quote`},
		{"twice", "A=1 A=2", nil, "parameter overrides: A given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := samtemplate.ParseOverrides(tc.in)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTemplateSetParameters(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		want      map[string]string // effective values checked
		wantErr   string
	}{
		{"defaults", nil, map[string]string{"Email": "", "Period": "60", "Stage": "dev", "Days": "14"}, ""},
		{"valid", map[string]string{"Email": "ops@example.com", "Period": "300", "Stage": "prod"}, map[string]string{"Email": "ops@example.com", "Period": "300", "Stage": "prod"}, ""},
		{
			"all problems together",
			map[string]string{"Email": "not-an-email", "Period": "45", "Days": "0", "Stage": "qa", "Nope": "1"},
			nil,
			"parameters: parameter Days=\"0\": 0 is below MinValue 1\n" +
				"parameter Email=\"not-an-email\": does not match AllowedPattern ^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$\n" +
				"parameter Nope: not in the template (known: Days, Email, Period, Stage, Zones)\n" +
				"parameter Period=\"45\": not one of the AllowedValues [60, 300]\n" +
				"parameter Stage=\"qa\": not one of the AllowedValues [dev, prod]",
		},
		{"not a number", map[string]string{"Days": "ten"}, nil, "parameters: parameter Days=\"ten\": \"ten\" is not a number"},
		{"rules hold", map[string]string{"Stage": "prod", "Email": "ops@example.com", "Days": "90"}, map[string]string{"Stage": "prod", "Days": "90"}, ""},
		{"rules fail", map[string]string{"Stage": "prod", "Days": "30"}, nil, "parameters: rule ProdNeedsEmail: prod needs an Email"},
		{"a rule without a condition", map[string]string{"Days": "30"}, nil, "parameters: rule ShortRetentionInDev: dev keeps logs 1, 7 or 14 days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := load(t)
			err := tmpl.SetParameters(tc.overrides)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				v, _ := tmpl.Parameter("Stage")
				assert.Equal(t, "dev", v, "a rejected set changes nothing")
				return
			}
			require.NoError(t, err)
			for k, want := range tc.want {
				got, err := tmpl.Parameter(k)
				require.NoError(t, err)
				assert.Equal(t, want, got, k)
			}
		})
	}
	_, err := load(t).Parameter("Nope")
	assert.EqualError(t, err, "parameter Nope: not in the template")
}

func TestTemplateParameterWithoutDefault(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte("Parameters:\n  Need: {Type: String}\nResources:\n  R: {Type: X}\n"))
	require.NoError(t, err)
	assert.EqualError(t, tmpl.SetParameters(nil), "parameters: parameter Need: no value and no Default")
	require.NoError(t, tmpl.SetParameters(map[string]string{"Need": "x"}))
	v, err := tmpl.Parameter("Need")
	require.NoError(t, err)
	assert.Equal(t, "x", v)
}

func TestTemplateConditions(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		region    string
		want      map[string]bool
	}{
		{"defaults", nil, "", map[string]bool{"HasEmail": false, "IsProd": false, "ProdWithEmail": false, "InUsEast1": true}},
		{"prod with email", map[string]string{"Stage": "prod", "Email": "a@b.co"}, "eu-west-1", map[string]bool{"HasEmail": true, "IsProd": true, "ProdWithEmail": true, "InUsEast1": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := load(t)
			require.NoError(t, tmpl.SetParameters(tc.overrides))
			e := env()
			e.Region = tc.region
			for name, want := range tc.want {
				got, err := tmpl.Condition(name, e)
				require.NoError(t, err)
				assert.Equal(t, want, got, name)
			}
			active, err := tmpl.Active("Sub", e)
			require.NoError(t, err)
			assert.Equal(t, tc.want["HasEmail"], active)
		})
	}
	_, err := load(t).Condition("Nope", env())
	assert.EqualError(t, err, "condition Nope: not defined")
}

func TestTemplateEval(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr string
	}{
		{"scalar", 3, 3, ""},
		{"Ref parameter", map[string]any{"Ref": "Stage"}, "dev", ""},
		{"Ref number parameter is a string", map[string]any{"Ref": "Period"}, "60", ""},
		{"Ref list parameter", map[string]any{"Ref": "Zones"}, []any{"a", "b", "c"}, ""},
		{"Ref resource", map[string]any{"Ref": "Group"}, "/app/demo", ""},
		{"pseudo parameters", map[string]any{"Fn::Sub": "${AWS::StackName} ${AWS::Region} ${AWS::AccountId} ${AWS::Partition} ${AWS::URLSuffix}"}, "demo us-east-1 123456789012 aws amazonaws.com", ""},
		{"Sub escape", map[string]any{"Fn::Sub": "${!Literal}-${Stage}"}, "${Literal}-dev", ""},
		{"Sub GetAtt", map[string]any{"Fn::Sub": "${Queue.Arn}"}, "arn:aws:sqs:us-east-1:123456789012:demo-Queue", ""},
		{"Sub variables shadow", map[string]any{"Fn::Sub": []any{"${Stage}-${X}", map[string]any{"Stage": "s", "X": map[string]any{"Ref": "Period"}}}}, "s-60", ""},
		{"GetAtt", map[string]any{"Fn::GetAtt": []any{"Queue", "QueueName"}}, "demo-Queue", ""},
		{"If false drops key", map[string]any{"A": map[string]any{"Fn::If": []any{"IsProd", "x", map[string]any{"Ref": "AWS::NoValue"}}}, "B": 1}, map[string]any{"B": 1}, ""},
		{"NoValue drops element", []any{1, map[string]any{"Ref": "AWS::NoValue"}, 2}, []any{1, 2}, ""},
		{"plain map with Condition key is data", map[string]any{"Condition": map[string]any{"StringEquals": map[string]any{"k": "v"}}}, map[string]any{"Condition": map[string]any{"StringEquals": map[string]any{"k": "v"}}}, ""},
		{"unknown Ref", map[string]any{"X": map[string]any{"Ref": "Nope"}}, nil, `X: Ref Nope: no parameter, pseudo parameter or resource named "Nope"`},
		{"Ref of a disabled resource", map[string]any{"Ref": "Sub"}, nil, "Ref Sub: resource is not created: its condition HasEmail is false"},
		{"Ref without physical id", map[string]any{"Ref": "Fn"}, nil, "Ref Fn: no physical id for the resource in the Env"},
		{"GetAtt unknown attribute", map[string]any{"Fn::GetAtt": []any{"Queue", "Nope"}}, nil, "Fn::GetAtt Queue.Nope: no attribute Nope"},
		{"GetAtt unknown resource", map[string]any{"Fn::GetAtt": []any{"Nope", "Arn"}}, nil, `Fn::GetAtt Nope.Arn: no resource named "Nope"`},
		{"unsupported function", map[string]any{"Fn::ImportValue": "x"}, nil, "Fn::ImportValue: not supported outside CloudFormation"},
		{"unsupported function in a list", []any{map[string]any{"Fn::Select": []any{0, []any{"a"}}}}, nil, "[0]: Fn::Select: not supported outside CloudFormation"},
		{"unsupported function in a property", map[string]any{"X": map[string]any{"Fn::Base64": "a"}}, nil, "X: Fn::Base64: not supported outside CloudFormation"},
		{"Join", map[string]any{"Fn::Join": []any{"-", []any{"a", map[string]any{"Ref": "Stage"}, 3}}}, "a-dev-3", ""},
		{"Join a list parameter", map[string]any{"Fn::Join": []any{"' | '", map[string]any{"Ref": "Zones"}}}, "a' | 'b' | 'c", ""},
		{"Join of a mapping", map[string]any{"Fn::Join": []any{"-", []any{map[string]any{"k": 1}}}}, nil, "Fn::Join: value 0: want a scalar, got a mapping"},
		{"ToJsonString", map[string]any{"Fn::ToJsonString": map[string]any{"Pattern": `{ $.level = "error" }`, "Stage": map[string]any{"Ref": "Stage"}}}, `{"Pattern":"{ $.level = \"error\" }","Stage":"dev"}`, ""},
		{"Join of a scalar", map[string]any{"Fn::Join": []any{"-", "a"}}, nil, "Fn::Join: want a list of values, got string a"},
		{"If on unknown condition", map[string]any{"Fn::If": []any{"Nope", 1, 2}}, nil, "Fn::If: condition Nope: not defined"},
	}
	tmpl := load(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tmpl.Eval(tc.in, env())
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The functions no template of ours uses are parsed (so References and
// Order see through them) but not evaluated: each is refused by name.
func TestTemplateEvalUnsupported(t *testing.T) {
	tmpl := load(t)
	for _, fn := range []string{"Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::Base64", "Fn::GetAZs", "Fn::Length", "Fn::ImportValue", "Fn::Cidr"} {
		_, err := tmpl.Eval(map[string]any{fn: []any{"a", "b"}}, env())
		assert.EqualError(t, err, fn+": not supported outside CloudFormation")
	}
}

func TestTemplateEvalWithoutStackName(t *testing.T) {
	_, err := load(t).Eval(map[string]any{"Ref": "AWS::StackName"}, nil)
	assert.EqualError(t, err, "Ref AWS::StackName: no stack name in the Env")
}

func TestTemplateResolveProperties(t *testing.T) {
	tmpl := load(t)
	require.NoError(t, tmpl.SetParameters(map[string]string{"Stage": "prod", "Email": "ops@example.com"}))
	got, err := tmpl.ResolveProperties("Fn", env())
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"MemorySize": 1024,
		"Tracing":    "Active",
		"Zones":      []any{"a", "b", "c"},
		"Environment": map[string]any{"Variables": map[string]any{
			"QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:demo-Queue",
			"QUEUE_URL": "https://sqs.local/123456789012/demo-Queue",
			"LOG":       "/app/demo:y ${Literal} demo-Queue",
		}},
	}, got)

	e := env()
	delete(e.PhysicalIDs, "Queue")
	_, err = tmpl.ResolveProperties("Fn", e)
	assert.EqualError(t, err, "resource Fn: Properties.Environment.Variables.QUEUE_URL: Ref Queue: no physical id for the resource in the Env")
}

func TestTemplateOrderAndReferences(t *testing.T) {
	tmpl := load(t)
	fn, err := tmpl.Resource("Fn")
	require.NoError(t, err)
	assert.Equal(t, []string{"Group", "Queue"}, tmpl.References(fn))
	order, err := tmpl.Order()
	require.NoError(t, err)
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	assert.Len(t, order, 5)
	assert.Less(t, pos["Queue"], pos["Fn"])
	assert.Less(t, pos["Group"], pos["Fn"])
	assert.Less(t, pos["Topic"], pos["Sub"])

	cyclic, err := samtemplate.Parse([]byte("Resources:\n  A: {Type: X, Properties: {V: !Ref B}}\n  B: {Type: X, Properties: {V: !GetAtt A.Arn}}\n"))
	require.NoError(t, err)
	_, err = cyclic.Order()
	assert.EqualError(t, err, "reference cycle: A -> B -> A")
}

func TestTemplateEvalOutputs(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  On: {Type: String, Default: "no"}
Conditions:
  IsOn: !Equals [!Ref On, "yes"]
Resources:
  R: {Type: X}
Outputs:
  Name: {Value: !Sub "${AWS::StackName}-${R}"}
  Gated: {Condition: IsOn, Value: x}
  Count: {Value: 3}
`))
	require.NoError(t, err)
	e := &samtemplate.Env{StackName: "s", PhysicalIDs: map[string]string{"R": "r1"}}
	got, err := tmpl.EvalOutputs(e)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"Name": "s-r1", "Count": "3"}, got)

	_, err = tmpl.EvalOutputs(&samtemplate.Env{StackName: "s"})
	assert.EqualError(t, err, "output Name: Value: Fn::Sub ${R}: Ref R: no physical id for the resource in the Env")
}

func TestTemplateValueHelpers(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		wantInt int64
		wantErr string
	}{
		{"int", 60, 60, ""},
		{"numeric string", "1209600", 1209600, ""},
		{"integral float", 2.0, 2, ""},
		{"fraction", 2.5, 0, "2.5 is not an integer"},
		{"word", "ten", 0, `"ten" is not an integer`},
		{"list", []any{1}, 0, "want an integer, got a list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := samtemplate.Int(tc.in)
			if tc.wantErr != "" {
				assert.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantInt, got)
		})
	}
	b, err := samtemplate.Bool("true")
	require.NoError(t, err)
	assert.True(t, b)
	s, err := samtemplate.String(1.5)
	require.NoError(t, err)
	assert.Equal(t, "1.5", s)
}

// The repository's own template must load and resolve with its defaults.
func TestTemplateRepositoryTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(t, err)
	require.NoError(t, tmpl.SetParameters(nil))
	for _, id := range []string{"IncidentsTable", "AppLogGroup", "ProcessorFunction", "AlertsTopic", "ProcessorDeadLetterQueue"} {
		_, err := tmpl.Resource(id)
		assert.NoError(t, err, id)
	}
	active, err := tmpl.Active("AlertsEmailSubscription", &samtemplate.Env{StackName: "logalert"})
	require.NoError(t, err)
	assert.False(t, active, "no subscription without AlarmEmail")
	_, err = tmpl.Order()
	assert.NoError(t, err)
}

// On a CommaDelimitedList, AllowedPattern applies to each value, as
// CloudFormation applies it; the error names the values that fail.
func TestListAllowedPattern(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  Accounts:
    Type: CommaDelimitedList
    Default: ""
    AllowedPattern: '^$|^[0-9]{12}$'
Resources:
  Topic:
    Type: AWS::SNS::Topic
`))
	require.NoError(t, err, "the empty default is one empty value, which the pattern allows")
	require.NoError(t, tmpl.SetParameters(map[string]string{"Accounts": "111111111111, 222222222222"}))
	err = tmpl.SetParameters(map[string]string{"Accounts": "111111111111,12345,x"})
	require.Error(t, err)
	assert.ErrorContains(t, err, `value "12345" does not match AllowedPattern`)
	assert.ErrorContains(t, err, `value "x" does not match AllowedPattern`)
	assert.Equal(t, 2, strings.Count(err.Error(), "does not match"), "the valid id is not named")
}
