package samtemplate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/samtemplate"
)

const loopTemplate = `
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Parameters:
  Groups:
    Type: CommaDelimitedList
    Default: "/shop/api,/shop/worker"
  Kinds:
    Type: CommaDelimitedList
    Default: "Metric,Sub"
Conditions:
  Always: !Equals [a, a]
Resources:
  Key:
    Type: AWS::KMS::Key
  Fn::ForEach::Watched:
    - Group
    - !Ref Groups
    - Filter&{Group}:
        Type: AWS::Logs::SubscriptionFilter
        Condition: Always
        DependsOn: Key
        Properties:
          LogGroupName: ${Group}
          Arn: !Sub "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Group}"
      Fn::ForEach::Kinds:
        - Kind
        - !Ref Kinds
        - ${Kind}&{Group}:
            Type: AWS::Logs::MetricFilter
            Properties:
              Tag: "${Kind} of ${Group}"
  Fn::ForEach::Literal:
    - Name
    - [A1, B2]
    - Topic${Name}:
        Type: AWS::SNS::Topic
`

func TestForEachExpandsResources(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(loopTemplate))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"Filtershopapi", "Filtershopworker", "Key", "Metricshopapi", "Metricshopworker",
		"Subshopapi", "Subshopworker", "TopicA1", "TopicB2",
	}, tmpl.LogicalIDs())
	r, err := tmpl.Resource("Filtershopworker")
	require.NoError(t, err)
	assert.Equal(t, "Always", r.Condition)
	assert.Equal(t, []string{"Key"}, r.DependsOn)
	got, err := tmpl.ResolveProperties("Filtershopworker", &samtemplate.Env{StackName: "s"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"LogGroupName": "/shop/worker",
		"Arn":          "arn:aws:logs:us-east-1:123456789012:log-group:/shop/worker",
	}, got)
	got, err = tmpl.ResolveProperties("Subshopapi", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"Tag": "Sub of /shop/api"}, got)
}

// The collection is a parameter: new values expand again, and a value
// that would break the template leaves the old ones in force.
func TestForEachFollowsParameters(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(loopTemplate))
	require.NoError(t, err)
	require.NoError(t, tmpl.SetParameters(map[string]string{"Groups": "/aws/lambda/pay", "Kinds": "Metric"}))
	assert.Equal(t, []string{"Filterawslambdapay", "Key", "Metricawslambdapay", "TopicA1", "TopicB2"}, tmpl.LogicalIDs())

	// "/shop/api" and "/shopapi" differ only in what &{} removes.
	err = tmpl.SetParameters(map[string]string{"Groups": "/shop/api,/shopapi"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "logical id Filtershopapi is given twice")
	v, err := tmpl.Parameter("Groups")
	require.NoError(t, err)
	assert.Equal(t, "/aws/lambda/pay", v)
	assert.Equal(t, []string{"Filterawslambdapay", "Key", "Metricawslambdapay", "TopicA1", "TopicB2"}, tmpl.LogicalIDs())
}

func TestForEachErrors(t *testing.T) {
	tests := []struct{ name, resources, transform, want string }{
		{"no transform", "Fn::ForEach::L: [X, [a], {'R${X}': {Type: AWS::SNS::Topic}}]", "AWS::Serverless-2016-10-31",
			"Fn::ForEach::L: needs the AWS::LanguageExtensions transform"},
		{"not a triple", "Fn::ForEach::L: [X, [a]]", "AWS::LanguageExtensions",
			"Fn::ForEach::L: want [Identifier, Collection, {OutputKey: OutputValue}]"},
		{"key without identifier", "Fn::ForEach::L: [X, [a], {R: {Type: AWS::SNS::Topic}}]", "AWS::LanguageExtensions",
			"Fn::ForEach::L: OutputKey R contains neither ${X} nor &{X}"},
		{"non-alphanumeric id", "Fn::ForEach::L: [X, [a-b], {'R${X}': {Type: AWS::SNS::Topic}}]", "AWS::LanguageExtensions",
			`Fn::ForEach::L: value "a-b" gives the logical id "Ra-b", which is not alphanumeric: use &{X} in the OutputKey`},
		{"collection not a list", "Fn::ForEach::L: [X, a, {'R${X}': {Type: AWS::SNS::Topic}}]", "AWS::LanguageExtensions",
			"Fn::ForEach::L: Collection: want a list or a Ref to a CommaDelimitedList parameter, got string a"},
		{"collides with a resource", "{R: {Type: AWS::SNS::Topic}, Fn::ForEach::L: [X, [\"\"], {'R${X}': {Type: AWS::SNS::Topic}}]}", "AWS::LanguageExtensions",
			"logical id R is given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.resources
			if res[0] != '{' {
				res = "{" + res + "}"
			}
			_, err := samtemplate.Parse([]byte("Transform: [" + tc.transform + "]\nResources: " + res + "\n"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// refLoopTemplate (Ref to the identifier, Fn::Sub with a variable map,
// DependsOn in the fragment) watches each log group of a list parameter with a
// subscription filter and, per group and level, a metric filter.
const refLoopTemplate = `
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

func TestForEachRefTakesTheElement(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(refLoopTemplate))
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

func TestForEachRefusals(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{
			"no transform",
			"Resources:\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Type: T}}]\n",
			"parse template: Fn::ForEach::L: needs the AWS::LanguageExtensions transform",
		},
		{
			"key without identifier",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a, b], {R: {Type: T}}]\n",
			`parse template: Fn::ForEach::L: OutputKey R contains neither ${X} nor &{X}`,
		},
		{
			"logical id not alphanumeric",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, [a-b], {\"R${X}\": {Type: T}}]\n",
			`parse template: Fn::ForEach::L: value "a-b" gives the logical id "Ra-b", which is not alphanumeric: use &{X} in the OutputKey`,
		},
		{
			"collides with a declared resource",
			"Transform: AWS::LanguageExtensions\nResources:\n  Ra: {Type: T}\n  Fn::ForEach::L: [X, [a], {\"R${X}\": {Type: T}}]\n",
			"parse template: resource Ra: logical id Ra is given twice",
		},
		{
			"collection not a list",
			"Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::L: [X, {a: b}, {\"R${X}\": {Type: T}}]\n",
			"parse template: Fn::ForEach::L: Collection: want a list or a Ref to a CommaDelimitedList parameter, got a mapping",
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
	assert.EqualError(t, tmpl.SetParameters(map[string]string{"Names": "a,a"}), "parameters: Fn::ForEach::L: logical id Ra is given twice")
	assert.Equal(t, []string{"Fixed", "Ra", "Rb"}, tmpl.LogicalIDs(), "a rejected set changes nothing")
	v, err := tmpl.Parameter("Names")
	require.NoError(t, err)
	assert.Equal(t, "a,b", v)
}

// A template whose only resources come from a loop over a parameter
// without a Default loads with none, and has them once the parameter is
// set (member.yaml).
func TestForEachOverARequiredParameter(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(`
Transform: AWS::LanguageExtensions
Parameters:
  Groups:
    Type: CommaDelimitedList
Resources:
  Fn::ForEach::Groups:
    - Group
    - !Ref Groups
    - Filter&{Group}:
        Type: AWS::Logs::SubscriptionFilter
`))
	require.NoError(t, err)
	assert.Empty(t, tmpl.LogicalIDs())
	require.NoError(t, tmpl.SetParameters(map[string]string{"Groups": "/a,/b"}))
	assert.Equal(t, []string{"Filtera", "Filterb"}, tmpl.LogicalIDs())
}
