package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// stackAPI is the subset of *cloudformation.Client that recordStack calls.
type stackAPI interface {
	CreateStack(ctx context.Context, in *cloudformation.CreateStackInput, optFns ...func(*cloudformation.Options)) (*cloudformation.CreateStackOutput, error)
	UpdateStack(ctx context.Context, in *cloudformation.UpdateStackInput, optFns ...func(*cloudformation.Options)) (*cloudformation.UpdateStackOutput, error)
}

// recordStack creates (or updates) in the endpoint's CloudFormation a stack
// of the same name that holds no real resource but carries the deployed
// stack's parameters and outputs, so that the commands that find a
// deployment by its stack (logalert incidents --stack, logalert redrive
// --stack, make incidents) work against the twin as against AWS.
func recordStack(ctx context.Context, cfn stackAPI, name string, params, outputs map[string]string) error {
	tmpl := map[string]any{
		"Description": "logalert demo: a record of the local twin's stack, its parameters and outputs (no resources)",
		"Resources":   map[string]any{"Record": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
	}
	declared := map[string]any{}
	var values []cfntypes.Parameter
	for _, k := range slices.Sorted(maps.Keys(params)) {
		declared[k] = map[string]any{"Type": "String"}
		values = append(values, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(params[k])})
	}
	outs := map[string]any{}
	for k, v := range outputs {
		outs[k] = map[string]any{"Value": v}
	}
	if len(declared) > 0 {
		tmpl["Parameters"] = declared
	}
	if len(outs) > 0 {
		tmpl["Outputs"] = outs
	}
	body, err := json.Marshal(tmpl)
	if err != nil {
		return fmt.Errorf("record stack %s: %w", name, err)
	}
	_, err = cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body)), Parameters: values})
	var exists *cfntypes.AlreadyExistsException
	if !errors.As(err, &exists) {
		if err != nil {
			return fmt.Errorf("record stack %s: %w", name, err)
		}
		return nil
	}
	_, err = cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body)), Parameters: values})
	var api smithy.APIError
	if err != nil && !(errors.As(err, &api) && strings.Contains(api.ErrorMessage(), "No updates")) {
		return fmt.Errorf("record stack %s: %w", name, err)
	}
	return nil
}
