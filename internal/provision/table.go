package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/logalert/logalert/internal/samtemplate"
)

// TableAPI is the subset of *dynamodb.Client that CreateTable calls.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
}

// tableWait bounds how long CreateTable waits for a new table to be ACTIVE
// (immediate on moto, seconds on DynamoDB).
const tableWait = 5 * time.Minute

// CreateTable creates the DynamoDB table named name from the properties of
// the template's AWS::DynamoDB::Table resource logicalID (key schema,
// attribute definitions, indexes, billing, SSE, streams, deletion
// protection; TableName is replaced by name), waits until it is ACTIVE, then
// applies its TimeToLiveSpecification and PointInTimeRecoverySpecification.
// A table that already exists is left as it is and only TTL and PITR are
// brought in line, so CreateTable can be run again; an existing table with
// another key schema is an error. Properties that refer to other resources
// cannot be resolved here; Apply handles those.
//
// The table gets the template's DeletionProtectionEnabled, which moto
// enforces too: turn it off with UpdateTable before deleting the table.
func CreateTable(ctx context.Context, db TableAPI, t *samtemplate.Template, logicalID, name string) error {
	_, _, err := createTable(ctx, db, t, logicalID, name, &samtemplate.Env{})
	return err
}

// createTable is CreateTable with an Env; it returns the table's ARN and the
// settings the endpoint does not support (not applied).
func createTable(ctx context.Context, db TableAPI, t *samtemplate.Template, logicalID, name string, env *samtemplate.Env) (arn string, skipped []string, err error) {
	props, err := resolve(t, logicalID, "AWS::DynamoDB::Table", env)
	if err != nil {
		return "", nil, err
	}
	in, err := createTableInput(props, name)
	if err != nil {
		return "", nil, fmt.Errorf("resource %s: %w", logicalID, err)
	}
	_, err = db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	existed := errors.As(err, &inUse)
	if err != nil && !existed {
		return "", nil, fmt.Errorf("create table %s: %w", name, err)
	}
	desc, err := dynamodb.NewTableExistsWaiter(db).WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: &name}, tableWait)
	if err != nil {
		return "", nil, fmt.Errorf("wait for table %s: %w", name, err)
	}
	if existed && !sameKeys(desc.Table.KeySchema, in.KeySchema) {
		return "", nil, fmt.Errorf("table %s exists with another key schema than %s's: delete it or use another name", name, logicalID)
	}
	arn = aws.ToString(desc.Table.TableArn)

	if spec, ok := props["TimeToLiveSpecification"].(map[string]any); ok {
		attr, _ := spec["AttributeName"].(string)
		enabled, err := optBool(spec, "Enabled", false)
		if err != nil || attr == "" {
			return "", nil, fmt.Errorf("resource %s: Properties.TimeToLiveSpecification: want AttributeName and Enabled", logicalID)
		}
		skip, err := setTTL(ctx, db, name, attr, enabled)
		if err != nil {
			return "", nil, err
		}
		if skip {
			skipped = append(skipped, "TimeToLiveSpecification")
		}
	}
	if spec, ok := props["PointInTimeRecoverySpecification"].(map[string]any); ok {
		enabled, err := optBool(spec, "PointInTimeRecoveryEnabled", false)
		if err != nil {
			return "", nil, fmt.Errorf("resource %s: Properties.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: %w", logicalID, err)
		}
		_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: &name,
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: &enabled,
			},
		})
		switch {
		case unsupported(err):
			skipped = append(skipped, "PointInTimeRecoverySpecification")
		case err != nil:
			return "", nil, fmt.Errorf("point-in-time recovery of table %s: %w", name, err)
		}
	}
	return arn, skipped, nil
}

func sameKeys(a, b []types.KeySchemaElement) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if aws.ToString(a[i].AttributeName) != aws.ToString(b[i].AttributeName) || a[i].KeyType != b[i].KeyType {
			return false
		}
	}
	return true
}

// setTTL enables or disables TTL unless the table already has that setting
// (DynamoDB rejects a repeated UpdateTimeToLive). skip reports an endpoint
// without TTL support.
func setTTL(ctx context.Context, db TableAPI, table, attr string, enabled bool) (skip bool, err error) {
	cur, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if unsupported(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("time to live of table %s: %w", table, err)
	}
	if d := cur.TimeToLiveDescription; d != nil {
		on := d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling
		if on == enabled && (!enabled || aws.ToString(d.AttributeName) == attr) {
			return false, nil
		}
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: &attr, Enabled: &enabled},
	})
	if unsupported(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("time to live of table %s: %w", table, err)
	}
	return false, nil
}

// createTableInput maps AWS::DynamoDB::Table properties onto CreateTable.
func createTableInput(p map[string]any, name string) (*dynamodb.CreateTableInput, error) {
	var errs []error
	in := &dynamodb.CreateTableInput{TableName: &name}

	for i, a := range list(p, "AttributeDefinitions") {
		m, _ := a.(map[string]any)
		n, _ := m["AttributeName"].(string)
		typ, _ := m["AttributeType"].(string)
		if n == "" || typ == "" {
			errs = append(errs, fmt.Errorf("Properties.AttributeDefinitions[%d]: want AttributeName and AttributeType", i))
			continue
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(n), AttributeType: types.ScalarAttributeType(typ),
		})
	}
	var err error
	if in.KeySchema, err = keySchema(p["KeySchema"], "Properties.KeySchema"); err != nil {
		errs = append(errs, err)
	}
	if len(in.KeySchema) == 0 {
		errs = append(errs, errors.New("Properties.KeySchema: missing"))
	}
	billing, _ := p["BillingMode"].(string)
	if billing == "" {
		billing = string(types.BillingModeProvisioned)
	}
	in.BillingMode = types.BillingMode(billing)
	if in.ProvisionedThroughput, err = throughput(p["ProvisionedThroughput"], "Properties.ProvisionedThroughput"); err != nil {
		errs = append(errs, err)
	}
	for i, g := range list(p, "GlobalSecondaryIndexes") {
		path := fmt.Sprintf("Properties.GlobalSecondaryIndexes[%d]", i)
		m, _ := g.(map[string]any)
		idx := types.GlobalSecondaryIndex{IndexName: aws.String(str(m, "IndexName"))}
		if idx.KeySchema, err = keySchema(m["KeySchema"], path+".KeySchema"); err != nil {
			errs = append(errs, err)
		}
		if idx.Projection, err = projection(m["Projection"], path+".Projection"); err != nil {
			errs = append(errs, err)
		}
		if idx.ProvisionedThroughput, err = throughput(m["ProvisionedThroughput"], path+".ProvisionedThroughput"); err != nil {
			errs = append(errs, err)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, idx)
	}
	for i, l := range list(p, "LocalSecondaryIndexes") {
		path := fmt.Sprintf("Properties.LocalSecondaryIndexes[%d]", i)
		m, _ := l.(map[string]any)
		idx := types.LocalSecondaryIndex{IndexName: aws.String(str(m, "IndexName"))}
		if idx.KeySchema, err = keySchema(m["KeySchema"], path+".KeySchema"); err != nil {
			errs = append(errs, err)
		}
		if idx.Projection, err = projection(m["Projection"], path+".Projection"); err != nil {
			errs = append(errs, err)
		}
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, idx)
	}
	if sse, ok := p["SSESpecification"].(map[string]any); ok {
		on, err := optBool(sse, "SSEEnabled", false)
		if err != nil {
			errs = append(errs, fmt.Errorf("Properties.SSESpecification.SSEEnabled: %w", err))
		}
		spec := &types.SSESpecification{Enabled: &on}
		if typ := str(sse, "SSEType"); typ != "" {
			spec.SSEType = types.SSEType(typ)
		}
		if key := str(sse, "KMSMasterKeyId"); key != "" {
			spec.KMSMasterKeyId = &key
		}
		in.SSESpecification = spec
	}
	if st, ok := p["StreamSpecification"].(map[string]any); ok {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(str(st, "StreamViewType")),
		}
	}
	if _, ok := p["DeletionProtectionEnabled"]; ok {
		on, err := optBool(p, "DeletionProtectionEnabled", false)
		if err != nil {
			errs = append(errs, fmt.Errorf("Properties.DeletionProtectionEnabled: %w", err))
		}
		in.DeletionProtectionEnabled = &on
	}
	if c := str(p, "TableClass"); c != "" {
		in.TableClass = types.TableClass(c)
	}
	for i, tag := range list(p, "Tags") {
		m, _ := tag.(map[string]any)
		k, v := str(m, "Key"), str(m, "Value")
		if k == "" {
			errs = append(errs, fmt.Errorf("Properties.Tags[%d]: no Key", i))
			continue
		}
		in.Tags = append(in.Tags, types.Tag{Key: &k, Value: &v})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

func keySchema(v any, path string) ([]types.KeySchemaElement, error) {
	l, _ := v.([]any)
	var out []types.KeySchemaElement
	for i, k := range l {
		m, _ := k.(map[string]any)
		n, typ := str(m, "AttributeName"), str(m, "KeyType")
		if n == "" || typ == "" {
			return nil, fmt.Errorf("%s[%d]: want AttributeName and KeyType", path, i)
		}
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(n), KeyType: types.KeyType(typ)})
	}
	return out, nil
}

func projection(v any, path string) (*types.Projection, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: missing", path)
	}
	p := &types.Projection{ProjectionType: types.ProjectionType(str(m, "ProjectionType"))}
	for _, a := range list(m, "NonKeyAttributes") {
		s, err := samtemplate.String(a)
		if err != nil {
			return nil, fmt.Errorf("%s.NonKeyAttributes: %w", path, err)
		}
		p.NonKeyAttributes = append(p.NonKeyAttributes, s)
	}
	return p, nil
}

func throughput(v any, path string) (*types.ProvisionedThroughput, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil
	}
	r, err1 := samtemplate.Int(m["ReadCapacityUnits"])
	w, err2 := samtemplate.Int(m["WriteCapacityUnits"])
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: &r, WriteCapacityUnits: &w}, nil
}
