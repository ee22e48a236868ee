package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/logalert/logalert/internal/incident"
)

// report is what export writes.
type report struct {
	GeneratedAt string         `json:"generated_at" yaml:"generated_at"`
	Table       string         `json:"table" yaml:"table"`
	Region      string         `json:"region,omitempty" yaml:"region,omitempty"`
	Filter      reportFilter   `json:"filter" yaml:"filter"`
	Summary     statsView      `json:"summary" yaml:"summary"`
	Incidents   []incidentView `json:"incidents" yaml:"incidents"`
}

// reportFilter records the filters a report was made with.
type reportFilter struct {
	Status   string `json:"status,omitempty" yaml:"status,omitempty"`
	LogGroup string `json:"log_group,omitempty" yaml:"log_group,omitempty"`
	Account  string `json:"account,omitempty" yaml:"account,omitempty"`
	Since    string `json:"since,omitempty" yaml:"since,omitempty"`
	Limit    int    `json:"limit,omitempty" yaml:"limit,omitempty"`
}

// s3Location is an s3://bucket/prefix argument.
type s3Location struct{ bucket, prefix string }

func parseS3(s string) (s3Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return s3Location{}, usagef("--s3 %q: want s3://bucket or s3://bucket/prefix", s)
	}
	return s3Location{bucket: bucket, prefix: strings.Trim(prefix, "/")}, nil
}

// reportKey is where a report made at t goes:
// prefix/logalert-report-<UTC time, to the millisecond>.ext, so that two
// reports never share a key.
func (l s3Location) reportKey(t time.Time, ext string) string {
	return path.Join(l.prefix, "logalert-report-"+t.UTC().Format("20060102T150405.000Z")+"."+ext)
}

// runExport is `logalert incidents export`.
func runExport(ctx context.Context, args []string, e *env) error {
	stdout, stderr := e.stdout, e.stderr
	fs := newFlagSet("incidents export", "incidents export [-o json|yaml|table] [--out FILE] [--s3 s3://bucket/prefix] [--status S] [--log-group G] [--account ID] [--since 24h] [--limit N] "+stackSynopsis, stderr)
	sf := addStackFlags(fs, e)
	ff := addFilterFlags(fs, 0)
	format := addOutputFlag(fs, formatJSON, " (table: the summary and the incidents, 100 columns wide)")
	fs.StringVar(format, "format", formatJSON, "the former name of --output")
	fs.MarkHidden("format")
	out := fs.String("out", "-", "write the report to `FILE` (-: stdout)")
	dest := fs.String("s3", "", "also upload it to `s3://bucket/prefix`/logalert-report-<UTC time>.<json|yaml|txt>")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*format); err != nil {
		return err
	}
	var loc s3Location
	if *dest != "" {
		var err error
		if loc, err = parseS3(*dest); err != nil {
			return err
		}
	}
	now := time.Now().UTC()
	filter, err := ff.filter(now)
	if err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	ins, err := st.List(ctx, filter)
	if err != nil {
		return explainTable(err, table, d)
	}
	rep := report{
		GeneratedAt: stamp(now), Table: table, Region: d.aws.Region,
		Filter:    reportFilter{Status: string(filter.Status), LogGroup: filter.LogGroup, Account: filter.Account, Since: stamp(filter.Since), Limit: filter.Limit},
		Summary:   statsViewOf(statsOf(ins)),
		Incidents: viewsOf(ins, d.aws.Region),
	}
	body, err := encodeReport(rep, ins, *format)
	if err != nil {
		return err
	}
	if *out == "-" {
		if _, err := stdout.Write(body); err != nil {
			return err
		}
	} else {
		if err := os.WriteFile(*out, body, 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		fmt.Fprintf(stderr, "wrote %s: %d incidents\n", *out, len(ins))
	}
	if *dest == "" {
		return nil
	}
	client := s3.NewFromConfig(d.aws, func(o *s3.Options) {
		// A local endpoint (AWS_ENDPOINT_URL) serves buckets by path, not as
		// bucket.host names.
		o.UsePathStyle = d.aws.BaseEndpoint != nil
	})
	key := loc.reportKey(now, reportExt(*format))
	if err := uploadReport(ctx, client, loc.bucket, key, body, *format); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "uploaded s3://%s/%s: %d incidents, %d bytes\n", loc.bucket, key, len(ins), len(body))
	return nil
}

// encodeReport writes rep as format; table is the summary's tables and
// the incidents (ins) as list shows them, 100 columns wide.
func encodeReport(rep report, ins []incident.Incident, format string) ([]byte, error) {
	var buf bytes.Buffer
	if format != formatTable {
		if err := writeValue(&buf, format, rep); err != nil {
			return nil, fmt.Errorf("encode report: %w", err)
		}
		return buf.Bytes(), nil
	}
	fmt.Fprintf(&buf, "logalert report of %s", rep.Table)
	if rep.Region != "" {
		fmt.Fprintf(&buf, " in %s", rep.Region)
	}
	fmt.Fprintf(&buf, ", generated %s\n\n", rep.GeneratedAt)
	if err := writeStats(&buf, statsOf(ins)); err != nil {
		return nil, err
	}
	buf.WriteString("\n")
	t := incidentTable(&buf, defaultWidth, ins)
	t.header()
	for _, in := range ins {
		t.incident(in)
	}
	return buf.Bytes(), nil
}

// reportExt is the file extension of a report in format.
func reportExt(format string) string {
	if format == formatTable {
		return "txt"
	}
	return format
}

// s3PutAPI is the subset of *s3.Client that uploadReport calls.
type s3PutAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// uploadReport puts body at bucket/key. Throttling (503 SlowDown) and
// server errors are retried by the SDK's retryer (internal/awsconfig);
// what cannot succeed gets a message saying what to fix.
func uploadReport(ctx context.Context, client s3PutAPI, bucket, key string, body []byte, format string) error {
	contentType := map[string]string{formatJSON: "application/json", formatYAML: "application/yaml", formatTable: "text/plain; charset=utf-8"}[format]
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(body), ContentType: &contentType,
	})
	if err == nil {
		return nil
	}
	where := "s3://" + bucket + "/" + key
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchBucket":
			return fmt.Errorf("upload report to %s: bucket %s does not exist: create it or fix --s3", where, bucket)
		case "AccessDenied", "AllAccessDisabled":
			return fmt.Errorf("upload report to %s: access denied: the credentials in use need s3:PutObject on arn:aws:s3:::%s/* (and kms:GenerateDataKey if the bucket encrypts with a KMS key): %w", where, bucket, err)
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return fmt.Errorf("upload report to %s: the bucket is in another region: set AWS_REGION to its region: %w", where, err)
		}
	}
	return fmt.Errorf("upload report to %s: %w", where, err)
}
