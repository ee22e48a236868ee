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
