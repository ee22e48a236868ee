package provision

import (
	"cmp"
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
	p, err := resolve(t, logicalID, "AWS::DynamoDB::Table", env)
	if err != nil {
		return "", nil, err
	}
	in := createTableInput(p, name)
	ttl, hasTTL := p.Map("TimeToLiveSpecification")
	var (
		ttlAttr    string
		ttlEnabled bool
	)
	if hasTTL {
		ttlAttr, ttlEnabled = ttl.Required("AttributeName"), ttl.Bool("Enabled", false)
	}
	pitr, hasPITR := p.Map("PointInTimeRecoverySpecification")
	var pitrEnabled bool
	if hasPITR {
		pitrEnabled = pitr.Bool("PointInTimeRecoveryEnabled", false)
	}
	if err := p.Err(); err != nil {
		return "", nil, err
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

	if hasTTL {
		skip, err := setTTL(ctx, db, name, ttlAttr, ttlEnabled)
		if err != nil {
			return "", nil, err
		}
		if skip {
			skipped = append(skipped, "TimeToLiveSpecification")
		}
	}
	if hasPITR {
		_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: &name,
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: &pitrEnabled,
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

// createTableInput maps AWS::DynamoDB::Table properties onto CreateTable;
// the problems it finds are recorded in p.
func createTableInput(p *samtemplate.Props, name string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{TableName: &name}
	for _, a := range p.List("AttributeDefinitions") {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Required("AttributeName")), AttributeType: types.ScalarAttributeType(a.Required("AttributeType")),
		})
	}
	in.KeySchema = keySchema(p)
	in.BillingMode = types.BillingMode(cmp.Or(p.String("BillingMode"), string(types.BillingModeProvisioned)))
	in.ProvisionedThroughput = throughput(p)
	for _, g := range p.List("GlobalSecondaryIndexes") {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:             aws.String(g.Required("IndexName")),
			KeySchema:             keySchema(g),
			Projection:            projection(g),
			ProvisionedThroughput: throughput(g),
		})
	}
	for _, l := range p.List("LocalSecondaryIndexes") {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.Required("IndexName")),
			KeySchema:  keySchema(l),
			Projection: projection(l),
		})
	}
	if sse, ok := p.Map("SSESpecification"); ok {
		spec := &types.SSESpecification{Enabled: aws.Bool(sse.Bool("SSEEnabled", false))}
		if typ := sse.String("SSEType"); typ != "" {
			spec.SSEType = types.SSEType(typ)
		}
		if key := sse.String("KMSMasterKeyId"); key != "" {
			spec.KMSMasterKeyId = &key
		}
		in.SSESpecification = spec
	}
	if st, ok := p.Map("StreamSpecification"); ok {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(st.Required("StreamViewType")),
		}
	}
	if p.Has("DeletionProtectionEnabled") {
		in.DeletionProtectionEnabled = aws.Bool(p.Bool("DeletionProtectionEnabled", false))
	}
	if c := p.String("TableClass"); c != "" {
		in.TableClass = types.TableClass(c)
	}
	for _, tag := range p.List("Tags") {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(tag.Required("Key")), Value: aws.String(tag.String("Value"))})
	}
	return in
}

// keySchema reads the KeySchema of a table or an index.
func keySchema(p *samtemplate.Props) []types.KeySchemaElement {
	var out []types.KeySchemaElement
	for _, k := range p.List("KeySchema") {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.Required("AttributeName")), KeyType: types.KeyType(k.Required("KeyType"))})
	}
	if len(out) == 0 {
		p.Fail("KeySchema", errors.New("missing"))
	}
	return out
}

// projection reads the Projection of an index.
func projection(p *samtemplate.Props) *types.Projection {
	m, ok := p.Map("Projection")
	if !ok {
		p.Fail("Projection", errors.New("missing"))
		return nil
	}
	return &types.Projection{ProjectionType: types.ProjectionType(m.Required("ProjectionType")), NonKeyAttributes: m.Strings("NonKeyAttributes")}
}

// throughput reads the ProvisionedThroughput of a table or an index, nil
// when it has none (on-demand).
func throughput(p *samtemplate.Props) *types.ProvisionedThroughput {
	m, ok := p.Map("ProvisionedThroughput")
	if !ok {
		return nil
	}
	for _, k := range []string{"ReadCapacityUnits", "WriteCapacityUnits"} {
		if !m.Has(k) {
			m.Fail(k, errors.New("missing"))
		}
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(m.Int("ReadCapacityUnits", 0))),
		WriteCapacityUnits: aws.Int64(int64(m.Int("WriteCapacityUnits", 0))),
	}
}
