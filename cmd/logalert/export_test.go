package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// newBucket creates a bucket in moto named after the test.
func newBucket(t *testing.T, endpoint string) (*s3.Client, string) {
	t.Helper()
	client := s3.NewFromConfig(testConfig(t, endpoint), func(o *s3.Options) {
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired // moto sends none
	})
	name := uniqueName(t, "cli", 63)
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &name})
	require.NoError(t, err)
	return client, name
}

func TestExportLocal(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)

	stdout, stderr, err := runCLI(t, "incidents", "export", "--table", table, "--status", "open")
	require.NoError(t, err)
	assert.Empty(t, stderr)
	var rep report
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.Equal(t, table, rep.Table)
	assert.Equal(t, "us-east-1", rep.Region)
	assert.Equal(t, reportFilter{Status: "OPEN"}, rep.Filter)
	assert.Equal(t, tallyView{Incidents: 2, Occurrences: 4}, rep.Summary.Total)
	require.Len(t, rep.Incidents, 2)
	assert.Equal(t, seedUpstream, rep.Incidents[0].ID, "most recently seen first")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, rep.GeneratedAt)

	out := filepath.Join(t.TempDir(), "report.yaml")
	stdout, stderr, err = runCLI(t, "incidents", "export", "--table", table, "-o", "yaml", "--out", out, "--log-group", seedWorker)
	require.NoError(t, err)
	assert.Empty(t, stdout)
	assert.Equal(t, "wrote "+out+": 1 incidents\n", stderr)
	body, err := os.ReadFile(out)
	require.NoError(t, err)
	var fromYAML report
	require.NoError(t, yaml.Unmarshal(body, &fromYAML))
	require.Len(t, fromYAML.Incidents, 1)
	assert.Equal(t, seedJob, fromYAML.Incidents[0].ID)
	assert.Equal(t, "bob", fromYAML.Incidents[0].ResolvedBy)
	assert.Equal(t, map[string]tallyView{"FATAL": {1, 2}}, fromYAML.Summary.BySeverity)
	assert.Contains(t, string(body), "incidents:\n  - incident_id: "+seedJob+"\n")
}

func TestExportTable(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	out := filepath.Join(t.TempDir(), "report.txt")
	stdout, stderr, err := runCLI(t, "incidents", "export", "--table", table, "-o", "table", "--out", out)
	require.NoError(t, err)
	assert.Empty(t, stdout)
	assert.Equal(t, "wrote "+out+": 4 incidents\n", stderr)
	body, err := os.ReadFile(out)
	require.NoError(t, err)
	list, _, err := runCLI(t, "incidents", "list", "--table", table, "--width", "100")
	require.NoError(t, err)
	stats, _, err := runCLI(t, "incidents", "stats", "--by-account", "--table", table) // a report counts accounts
	require.NoError(t, err)
	assert.Regexp(t, `^logalert report of `+regexp.QuoteMeta(table)+` in us-east-1, generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n\n`, string(body))
	assert.True(t, strings.HasSuffix(string(body), "\n"+stats+"\n"+list), "the stats, then the incidents as list shows them:\n%s", body)
}

var reportKey = regexp.MustCompile(`^reports/daily/logalert-report-\d{8}T\d{6}\.\d{3}Z\.yaml$`)

func TestExportToS3(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	client, bucket := newBucket(t, endpoint)

	stdout, stderr, err := runCLI(t, "incidents", "export", "--table", table, "--format", "yaml", "--s3", "s3://"+bucket+"/reports/daily/")
	require.NoError(t, err)
	objects, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	require.NoError(t, err)
	require.Len(t, objects.Contents, 1)
	key := aws.ToString(objects.Contents[0].Key)
	assert.Regexp(t, reportKey, key)
	assert.Equal(t, "uploaded s3://"+bucket+"/"+key+": 4 incidents, "+strconv.Itoa(len(stdout))+" bytes\n", stderr)
	obj, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	require.NoError(t, err)
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	assert.Equal(t, stdout, string(body), "the upload is the report written locally")
	assert.Equal(t, "application/yaml", aws.ToString(obj.ContentType))
}

func TestExportToMissingBucket(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	_, _, err := runCLI(t, "incidents", "export", "--table", table, "--out", filepath.Join(t.TempDir(), "r.json"), "--s3", "s3://logalert-no-such-bucket/x")
	require.Error(t, err)
	assert.Regexp(t, `^upload report to s3://logalert-no-such-bucket/x/logalert-report-\d{8}T\d{6}\.\d{3}Z\.json: bucket logalert-no-such-bucket does not exist: create it or fix --s3$`, err.Error())
}

// TestExportRetriesThrottling puts a proxy answering S3's 503 SlowDown to
// the first two uploads between the CLI and moto.
func TestExportRetriesThrottling(t *testing.T) {
	endpoint := useMoto(t)
	table := seed(t, endpoint)
	client, bucket := newBucket(t, endpoint)
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	forward := httputil.NewSingleHostReverseProxy(target)
	var puts atomic.Int32
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/"+bucket+"/") && puts.Add(1) <= 2 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	defer slow.Close()
	useEndpoint(t, slow.URL)

	_, stderr, err := runCLI(t, "incidents", "export", "--table", table, "--out", filepath.Join(t.TempDir(), "r.json"), "--s3", "s3://"+bucket)
	require.NoError(t, err)
	assert.Contains(t, stderr, "uploaded s3://"+bucket+"/logalert-report-")
	assert.Equal(t, int32(3), puts.Load(), "two throttled attempts, then the upload")
	objects, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	require.NoError(t, err)
	assert.Len(t, objects.Contents, 1)
}

// putFunc is an s3PutAPI made of a function.
type putFunc func(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)

func (f putFunc) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return f(ctx, in, optFns...)
}

func TestUploadReportErrors(t *testing.T) {
	tests := []struct {
		code, want string
	}{
		{"AccessDenied", "upload report to s3://b/k.json: access denied: the credentials in use need s3:PutObject on arn:aws:s3:::b/* (and kms:GenerateDataKey if the bucket encrypts with a KMS key): api error AccessDenied: no"},
		{"NoSuchBucket", "upload report to s3://b/k.json: bucket b does not exist: create it or fix --s3"},
		{"PermanentRedirect", "upload report to s3://b/k.json: the bucket is in another region: set AWS_REGION to its region: api error PermanentRedirect: no"},
		{"InternalError", "upload report to s3://b/k.json: api error InternalError: no"},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			put := putFunc(func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
				return nil, &smithy.GenericAPIError{Code: tc.code, Message: "no"}
			})
			err := uploadReport(t.Context(), put, "b", "k.json", []byte("{}"), "json")
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestReportKey(t *testing.T) {
	when := seedTime
	tests := []struct{ arg, want string }{
		{"s3://b", "logalert-report-20261125T140500.000Z.json"},
		{"s3://b/", "logalert-report-20261125T140500.000Z.json"},
		{"s3://b/reports", "reports/logalert-report-20261125T140500.000Z.json"},
		{"s3://b/reports/daily/", "reports/daily/logalert-report-20261125T140500.000Z.json"},
	}
	for _, tc := range tests {
		loc, err := parseS3(tc.arg)
		require.NoError(t, err)
		assert.Equal(t, "b", loc.bucket)
		assert.Equal(t, tc.want, loc.reportKey(when, "json"), tc.arg)
		assert.NotEqual(t, loc.reportKey(when, "json"), loc.reportKey(when.Add(time.Millisecond), "json"),
			"two reports in one second must not overwrite each other")
	}
}
