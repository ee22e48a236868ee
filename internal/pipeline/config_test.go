package pipeline_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/pipeline"
	"github.com/logalert/logalert/internal/samtemplate"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantErr   []string
		wantCheck func(t *testing.T, c pipeline.Config)
	}{
		{"defaults", map[string]string{"INCIDENTS_TABLE": "t"}, nil, func(t *testing.T, c pipeline.Config) {
			assert.Equal(t, "t", c.Table)
			assert.Empty(t, c.TopicARN)
			assert.Equal(t, pipeline.DefaultPattern, c.Pattern.String())
			assert.Equal(t, awslogs.DefaultLimits, c.Limits)
			assert.Empty(t, c.HomeAccount, "unset: every account is foreign")
			assert.Equal(t, "key=<redacted> acme-abcdefgh", c.Redactor.Redact("key=AKIAIOSFODNN7EXAMPLE acme-abcdefgh"), "the built-in shapes only")
		}},
		{"everything set", map[string]string{
			"INCIDENTS_TABLE": "t", "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a",
			"INCIDENT_PATTERN": `{ $.level = "ERROR" }`, "METRICS_NAMESPACE": "LogAlert/x/Processor", "MAX_DECOMPRESSED_BYTES": "1048576",
			"STACK_NAME": "s", "ERROR_ALARM_NAME": "s-error-lines", "DASHBOARD_NAME": "s-overview",
			"HOME_ACCOUNT_ID": "123456789012",
		}, nil, func(t *testing.T, c pipeline.Config) {
			assert.Equal(t, "123456789012", c.HomeAccount)
			assert.Equal(t, []string{"s", "s-error-lines", "s-overview"}, []string{c.Stack, c.Alarm, c.Dashboard})
			assert.Equal(t, "arn:aws:sns:us-east-1:123456789012:a", c.TopicARN)
			assert.True(t, c.Pattern.Match(`{"level":"ERROR"}`))
			assert.Equal(t, "LogAlert/x/Processor", c.Namespace)
			assert.Equal(t, 1<<20, c.Limits.MaxDecompressedBytes)
		}},
		{"every problem reported at once", map[string]string{
			"INCIDENT_PATTERN": "[a, b", "MAX_DECOMPRESSED_BYTES": "lots",
			"REDACT_PATTERNS": "(", "HOME_ACCOUNT_ID": "12345",
		}, []string{`HOME_ACCOUNT_ID "12345": want a 12-digit AWS account id`, "INCIDENTS_TABLE is required", `INCIDENT_PATTERN "[a, b": filterpattern: at `, `MAX_DECOMPRESSED_BYTES "lots"`, `REDACT_PATTERNS: pattern "("`}, nil},
		{"redaction patterns", map[string]string{"INCIDENTS_TABLE": "t", "REDACT_PATTERNS": ` acme-[a-z]{8}	(?i)cust_\d{6} `}, nil, func(t *testing.T, c pipeline.Config) {
			assert.Equal(t, "ERROR <redacted> for <redacted>", c.Redactor.Redact("ERROR acme-abcdefgh for CUST_123456"))
		}},
		{"bad redaction patterns, each named", map[string]string{"INCIDENTS_TABLE": "t", "REDACT_PATTERNS": `ok-\d+ (unclosed x* [z-a]`},
			[]string{`REDACT_PATTERNS: pattern "(unclosed": error parsing regexp: missing closing )`, `pattern "x*" matches the empty string`, `pattern "[z-a]": error parsing regexp: invalid character class range`}, nil},
		{"zero cap", map[string]string{"INCIDENTS_TABLE": "t", "MAX_DECOMPRESSED_BYTES": "0"}, []string{"want a positive number of bytes"}, nil},
		{"alert grouping off when unset", map[string]string{"INCIDENTS_TABLE": "t"}, nil, func(t *testing.T, c pipeline.Config) {
			assert.Zero(t, c.AlertBurst)
			assert.Equal(t, pipeline.DefaultAlertWindow, c.AlertWindow)
		}},
		{"alert grouping", map[string]string{"INCIDENTS_TABLE": "t", "ALERT_BURST": "5", "ALERT_WINDOW_SECONDS": "60"}, nil, func(t *testing.T, c pipeline.Config) {
			assert.Equal(t, 5, c.AlertBurst)
			assert.Equal(t, time.Minute, c.AlertWindow)
		}},
		{"bad alert grouping", map[string]string{"INCIDENTS_TABLE": "t", "ALERT_BURST": "-1", "ALERT_WINDOW_SECONDS": "0"},
			[]string{`ALERT_BURST "-1": want a number of alerts, 0 or more`, `ALERT_WINDOW_SECONDS "0": want a positive number of seconds`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pipeline.LoadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != nil {
				require.Error(t, err)
				for _, w := range tc.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			tc.wantCheck(t, c)
		})
	}
}

func TestDefaultAlertWindowIsTheTemplateDefault(t *testing.T) {
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(t, err)
	v, err := tmpl.Parameter("AlertWindowSeconds")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(int(pipeline.DefaultAlertWindow/time.Second)), v)
}

func TestDefaultPatternIsTheTemplateDefault(t *testing.T) {
	tmpl, err := samtemplate.Load("../../template.yaml")
	require.NoError(t, err)
	v, err := tmpl.Parameter("ErrorPattern")
	require.NoError(t, err)
	assert.Equal(t, pipeline.DefaultPattern, v)
}
