package samtemplate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

// loopTemplate watches each log group of a list parameter with a
// subscription filter and, per group and level, a metric filter.
const loopTemplate = `
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  LogGroupNames: {Type: CommaDelimitedList, Default: "/app/api,/app/worker"}
Resources:
  Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: processor/}}
  Fn::ForEach::Groups:
    - Group
    - !Ref LogGroupNames
    - Watch&{Group}:
        Type: AWS::Logs::SubscriptionFilter
        DependsOn: Fn
        Properties:
          LogGroupName: !Ref Group
          FilterName: !Sub "${AWS::StackName}-${Group}"
          DestinationArn: !GetAtt Fn.Arn
      Fn::ForEach::Levels:
        - Level
        - [ERROR, FATAL]
        - Count${Level}In&{Group}:
            Type: AWS::Logs::MetricFilter
            Properties:
              LogGroupName: !Ref Group
              FilterPattern: !Ref Level
              MetricTransformations:
                - {MetricName: !Sub ["${Level}-${G}", {G: !Ref Group}], MetricNamespace: x, MetricValue: "1"}
`

func TestForEachExpandsResources(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(loopTemplate))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"CountERRORInappapi", "CountERRORInappworker", "CountFATALInappapi", "CountFATALInappworker",
		"Fn", "Watchappapi", "Watchappworker",
	}, tmpl.LogicalIDs(), "expanded with the Default")
	env := &samtemplate.Env{StackName: "s", GetAtt: func(id, attr string) (any, error) { return "arn:" + id, nil }}
	got, err := tmpl.ResolveProperties("Watchappworker", env)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"LogGroupName": "/app/worker", "FilterName": "s-/app/worker", "DestinationArn": "arn:Fn"}, got)
	r, err := tmpl.Resource("Watchappworker")
	require.NoError(t, err)
	assert.Equal(t, []string{"Fn"}, r.DependsOn)
	got, err = tmpl.ResolveProperties("CountFATALInappapi", env)
	require.NoError(t, err)
	assert.Equal(t, "FATAL", got["FilterPattern"])
	assert.Equal(t, "/app/api", got["LogGroupName"])
	assert.Equal(t, []any{map[string]any{"MetricName": "FATAL-/app/api", "MetricNamespace": "x", "MetricValue": "1"}}, got["MetricTransformations"])

	// Other values, other resources: those of the old ones go.
	require.NoError(t, tmpl.SetParameters(map[string]string{"LogGroupNames": "/app/billing"}))
	assert.Equal(t, []string{"CountERRORInappbilling", "CountFATALInappbilling", "Fn", "Watchappbilling"}, tmpl.LogicalIDs())
}

func TestForEachErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{
			"no transform",
			"Resources:\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Type: T}}]\n",
			"parse template: Fn::ForEach needs Transform: AWS::LanguageExtensions",
		},
		{
			"key without identifier",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a, b], {R: {Type: T}}]\n",
			`parse template: Fn::ForEach::L: OutputKey "R" uses neither ${X} nor &{X}`,
		},
		{
			"logical id not alphanumeric",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a-b], {\"R${X}\": {Type: T}}]\n",
			`parse template: Fn::ForEach::L: logical id "Ra-b" is not alphanumeric (&{X} drops the other characters)`,
		},
		{
			"collides with a declared resource",
			"Transform: AWS::LanguageExtensions\nResources:\n  Ra: {Type: T}\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Type: T}}]\n",
			"parse template: resource Ra: made by Fn::ForEach and declared too",
		},
		{
			"collection not a list",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, {a: b}, {\"R${X}\": {Type: T}}]\n",
			"parse template: Fn::ForEach::L: collection: want a list, got a mapping",
		},
		{
			"malformed",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a]]\n",
			"parse template: Fn::ForEach::L: want [Identifier, Collection, {OutputKey: OutputValue}]",
		},
		{
			"reported once with the declared resources' problems",
			"Transform: AWS::LanguageExtensions\nResources:\n  A: {Type: T, DependsOn: Nope}\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Type: T, DependsOn: Gone}}]\n",
			"parse template: resource A: DependsOn \"Nope\": no such resource\nresource Ra: DependsOn \"Gone\": no such resource",
		},
		{
			"made resource without Type",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Properties: {}}}]\n",
			"parse template: resource Ra: no Type",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := samtemplate.Parse([]byte(tc.yaml))
			assert.EqualError(t, err, tc.want)
		})
	}
}

// A loop over a parameter without a Default expands once SetParameters
// gives it a value; a value whose resources do not hold changes nothing.
func TestForEachWaitsForParameters(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList}
Resources:
  Fixed: {Type: T}
  Fn::ForEach::L: [N, !Ref Names, {"R&{N}": {Type: T, DependsOn: Fixed}}]
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"Fixed"}, tmpl.LogicalIDs())
	require.NoError(t, tmpl.SetParameters(map[string]string{"Names": "a,b"}))
	assert.Equal(t, []string{"Fixed", "Ra", "Rb"}, tmpl.LogicalIDs())
	assert.EqualError(t, tmpl.SetParameters(map[string]string{"Names": "a,a"}), "parameters: Fn::ForEach::L: resource Ra made twice")
	assert.Equal(t, []string{"Fixed", "Ra", "Rb"}, tmpl.LogicalIDs(), "a rejected set changes nothing")
	v, err := tmpl.Parameter("Names")
	require.NoError(t, err)
	assert.Equal(t, "a,b", v)
}
