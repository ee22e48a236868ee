package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/pflag"

	"github.com/logalert/logalert/internal/awsconfig"
	"github.com/logalert/logalert/internal/store"
)

// Stack outputs the CLI reads (template.yaml's Outputs).
const (
	outputTable    = "IncidentsTableName"
	outputDLQ      = "DeadLetterQueueUrl"
	outputFunction = "ProcessorFunctionName"
	outputTopic    = "AlertsTopicArn"
)

// tableEnv names the incidents table when neither --table nor --stack does.
const tableEnv = "LOGALERT_TABLE"

// stackEnv names the stack when no flag and no $LOGALERT_TABLE name the
// table; samconfig.toml's stack_name comes after it.
const stackEnv = "LOGALERT_STACK"

// samconfigFile is where `sam deploy` keeps its settings, in the directory
// it runs in; the CLI reads its stack_name from there.
const samconfigFile = "samconfig.toml"

// stackFlags are the flags that locate a deployment's resources, and the
// environment they fall back on.
type stackFlags struct {
	table, stack    string
	region, profile string
	getenv          func(string) string
	stackFrom       string // where a default stack name came from: "$LOGALERT_STACK", "samconfig.toml"
}

// stackSynopsis is how the synopses list the stack flags.
const stackSynopsis = "[--table T | --stack S] [--region R] [--profile P]"

func addStackFlags(fs *pflag.FlagSet, e *env) *stackFlags {
	f := &stackFlags{getenv: e.getenv}
	fs.StringVar(&f.table, "table", "", "incidents table `name` (default $"+tableEnv+")")
	fs.StringVar(&f.stack, "stack", "", "CloudFormation stack `name` whose outputs name the table, queue and function")
	fs.StringVar(&f.region, "region", "", "AWS `region` (default $AWS_REGION, $AWS_DEFAULT_REGION or the profile's)")
	fs.StringVar(&f.profile, "profile", "", "named AWS `profile` of the shared config and credentials files (default $AWS_PROFILE)")
	return f
}

// check reports flag combinations that cannot work, before any AWS call.
// When the table is needed and neither a flag nor $LOGALERT_TABLE names
// it, the stack is the default one (defaultStack).
func (f *stackFlags) check(needTable bool) error {
	if f.table != "" && f.stack != "" {
		return usagef("--table and --stack are exclusive: the stack names its table")
	}
	if needTable && f.table == "" && f.stack == "" && f.getenv(tableEnv) == "" && !f.defaultStack() {
		return usagef("no incidents table: pass --table NAME or --stack NAME, or set %s or %s (or run where %s names the stack)", tableEnv, stackEnv, samconfigFile)
	}
	return nil
}

// defaultStack sets the stack, if no flag did, from $LOGALERT_STACK or
// else the stack_name of samconfig.toml in the working directory, as `sam
// deploy` would; it reports whether there is a stack now.
func (f *stackFlags) defaultStack() bool {
	if f.stack != "" {
		return true
	}
	if s := f.getenv(stackEnv); s != "" {
		f.stack, f.stackFrom = s, "$"+stackEnv
	} else if s := samconfigStack(samconfigFile); s != "" {
		f.stack, f.stackFrom = s, samconfigFile
	}
	return f.stack != ""
}

// stackLabel names the stack for messages, with where a default came from.
func (f *stackFlags) stackLabel() string {
	if f.stackFrom != "" {
		return f.stack + " (from " + f.stackFrom + ")"
	}
	return f.stack
}

// samconfigStack returns the stack_name that samconfig.toml at path gives
// `sam deploy` (its [default.deploy.parameters], else its
// [default.global.parameters]), or "" when there is none. It reads only
// that key, a quoted string on its own line, as samconfig.toml writes it.
func samconfigStack(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	names := map[string]string{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "stack_name" {
			continue
		}
		if v, err := strconv.Unquote(strings.TrimSpace(value)); err == nil {
			names[section] = v
		} else if v := strings.TrimSpace(value); len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			names[section] = v[1 : len(v)-1]
		}
	}
	return cmp.Or(names["default.deploy.parameters"], names["default.global.parameters"])
}

// deployment is what the CLI found: the SDK configuration and, with
// --stack, the stack's outputs and parameters.
type deployment struct {
	aws     aws.Config
	stack   string
	account string // the stack's account (from its StackId); empty without --stack
	outputs map[string]string
	params  map[string]string
}

// sdkOptions are the SDK settings of the standard chain read through
// getenv (so that run's environment, not the process's, decides), with
// --region and --profile taking precedence: the region, the profile or
// else static credentials from AWS_ACCESS_KEY_ID, and AWS_ENDPOINT_URL for
// a local endpoint such as moto_server.
func sdkOptions(getenv func(string) string, region, profile string) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	if region = cmp.Or(region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile = cmp.Or(profile, getenv("AWS_PROFILE")); profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	} else if id := getenv("AWS_ACCESS_KEY_ID"); id != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"))))
	}
	if url := getenv("AWS_ENDPOINT_URL"); url != "" {
		opts = append(opts, config.WithBaseEndpoint(url))
	}
	return opts
}

// connect loads the SDK configuration (the standard chain, with
// --region and --profile) and, with --stack, describes the stack.
func (f *stackFlags) connect(ctx context.Context) (*deployment, error) {
	cfg, err := awsconfig.Load(ctx, sdkOptions(f.getenv, f.region, f.profile)...)
	if err != nil {
		return nil, err
	}
	d := &deployment{aws: cfg, stack: f.stack}
	if f.stack == "" {
		return d, nil
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &f.stack})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError" && strings.Contains(apiErr.ErrorMessage(), "does not exist") {
			return nil, fmt.Errorf("stack %s not found in %s (check --stack and AWS_REGION)", f.stackLabel(), regionOf(cfg))
		}
		return nil, fmt.Errorf("describe stack %s: %w", f.stackLabel(), err)
	}
	if len(out.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s not found in %s", f.stackLabel(), regionOf(cfg))
	}
	d.outputs, d.params = map[string]string{}, map[string]string{}
	if id, err := arn.Parse(aws.ToString(out.Stacks[0].StackId)); err == nil {
		d.account = id.AccountID
	}
	for _, o := range out.Stacks[0].Outputs {
		d.outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, p := range out.Stacks[0].Parameters {
		d.params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return d, nil
}

// output returns the stack output key, or an error naming the flag that
// replaces it.
func (d *deployment) output(key, flagName string) (string, error) {
	if v := d.outputs[key]; v != "" {
		return v, nil
	}
	return "", fmt.Errorf("stack %s has no %s output: pass --%s", d.stack, key, flagName)
}

// tableName resolves the incidents table: --table, the stack's output,
// then $LOGALERT_TABLE (check has made sure one is there).
func (d *deployment) tableName(f *stackFlags) (string, error) {
	switch {
	case f.table != "":
		return f.table, nil
	case f.stack != "":
		return d.output(outputTable, "table")
	case f.getenv(tableEnv) != "":
		return f.getenv(tableEnv), nil
	}
	return "", usagef("no incidents table: pass --table NAME or --stack NAME, or set %s or %s", tableEnv, stackEnv)
}

// openStore connects and returns the incident store.
func (f *stackFlags) openStore(ctx context.Context) (*store.Store, *deployment, string, error) {
	if err := f.check(true); err != nil {
		return nil, nil, "", err
	}
	d, err := f.connect(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	table, err := d.tableName(f)
	if err != nil {
		return nil, nil, "", err
	}
	return store.New(dynamodb.NewFromConfig(d.aws), table), d, table, nil
}

func regionOf(cfg aws.Config) string {
	if cfg.Region == "" {
		return "the default region (none set: --region or AWS_REGION)"
	}
	return cfg.Region
}

// explainTable turns "no such table" into advice.
func explainTable(err error, table string, d *deployment) error {
	var missing *dbtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return fmt.Errorf("table %s (or its %s index) not found in %s: check --table/--stack/$%s and AWS_REGION: %w",
			table, store.StatusIndex, regionOf(d.aws), tableEnv, err)
	}
	return err
}
