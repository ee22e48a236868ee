package filterpattern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/filterpattern"
)

func ptr(v float64) *float64 { return &v }

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name, source, pattern, message string
		tr                             filterpattern.Transformation
		want                           filterpattern.Result
		wantOK                         bool
	}{
		{
			name: "literal value", source: srcMetricValues,
			pattern: `ERROR`, message: evBadRequest,
			tr:   filterpattern.Transformation{MetricValue: "1"},
			want: filterpattern.Result{Value: 1}, wantOK: true,
		},
		{
			name: "literal decimal value", source: srcMetricValues,
			pattern: `ERROR`, message: evBadRequest,
			tr:   filterpattern.Transformation{MetricValue: "2.5"},
			want: filterpattern.Result{Value: 2.5}, wantOK: true,
		},
		{
			name: "default value when no match", source: srcMetricValues,
			pattern: `ERROR`, message: evAuthorized,
			tr:   filterpattern.Transformation{MetricValue: "1", DefaultValue: ptr(0)},
			want: filterpattern.Result{Value: 0, Default: true}, wantOK: false,
		},
		{
			name: "no default value, no datapoint", source: srcMetricValues,
			pattern: `ERROR`, message: evAuthorized,
			tr:   filterpattern.Transformation{MetricValue: "1"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON field value", source: srcPublishValue,
			pattern: `{ $.latency = * }`, message: `{"latency": 50, "requestType": "GET"}`,
			tr:   filterpattern.Transformation{MetricValue: "$.latency", DefaultValue: ptr(0)},
			want: filterpattern.Result{Value: 50}, wantOK: true,
		},
		{
			name: "JSON field value that is a numeric string", source: srcPublishValue,
			pattern: `{ $.latency = * }`, message: `{"latency": "12.5"}`,
			tr:   filterpattern.Transformation{MetricValue: "$.latency"},
			want: filterpattern.Result{Value: 12.5}, wantOK: true,
		},
		{
			name: "JSON value field missing: no datapoint, no default", source: srcPublishValue,
			pattern: `{ $.requestType = * }`, message: `{"requestType": "GET"}`,
			tr:   filterpattern.Transformation{MetricValue: "$.latency", DefaultValue: ptr(0)},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON value field not numeric", source: srcPublishValue,
			pattern: `{ $.latency = * }`, message: `{"latency": "fast"}`,
			tr:   filterpattern.Transformation{MetricValue: "$.latency"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON value field is an object", source: srcMetricJSON,
			pattern: `{ $.latency NOT EXISTS || $.a = 1 }`, message: `{"a": 1, "latency": {"ms": 3}}`,
			tr:   filterpattern.Transformation{MetricValue: "$.latency"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON dimension", source: srcDimensions,
			pattern: `{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }`, message: evJSON,
			tr:   filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"eventType": "$.eventType"}},
			want: filterpattern.Result{Value: 1, Dimensions: map[string]string{"eventType": "UpdateTrail"}}, wantOK: true,
		},
		{
			name: "JSON dimension from array element and number", source: srcDimensions,
			pattern: `{ $.objectList[1].id = 2 }`, message: evJSON,
			tr: filterpattern.Transformation{MetricValue: "$.objectList[1].id", Dimensions: map[string]string{
				"name": "$.objectList[1].name", "id": "$.objectList[1].id", "flag": "$.ThisFlag",
			}},
			want:   filterpattern.Result{Value: 2, Dimensions: map[string]string{"name": "b", "id": "2", "flag": "true"}},
			wantOK: true,
		},
		{
			name: "JSON dimension missing: no datapoint", source: srcDimensions,
			pattern: `{ $.eventType = * }`, message: `{"eventType": "x"}`,
			tr:   filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"ip": "$.sourceIPAddress"}},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON dimension is null: no datapoint", source: srcDimensions,
			pattern: `{ $.eventType = * }`, message: `{"eventType": "x", "SomeObject": null}`,
			tr:   filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"o": "$.SomeObject"}},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "space-delimited field value and dimension", source: srcDimensions,
			pattern: `[ip, server, username, timestamp, request, status_code, bytes > 1000]`, message: evApacheProd,
			tr:   filterpattern.Transformation{MetricValue: "$bytes", Dimensions: map[string]string{"server": "$server"}},
			want: filterpattern.Result{Value: 1534, Dimensions: map[string]string{"server": "Prod"}}, wantOK: true,
		},
		{
			name: "space-delimited extracted fields", source: srcMetricDelim,
			pattern: `[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, message: evApacheProd,
			tr: filterpattern.Transformation{MetricValue: "$status_code", Dimensions: map[string]string{
				"request": "$request", "timestamp": "$timestamp", "user": "$user",
			}},
			want: filterpattern.Result{Value: 404, Dimensions: map[string]string{
				"request": "GET /index.html HTTP/1.0", "timestamp": "10/Oct/2000:13:25:15 -0700", "user": "Prod",
			}},
			wantOK: true,
		},
		{
			name: "space-delimited positional fields", source: src2019Delim,
			pattern: `[..., request=*.html*, status_code=4*,]`, message: evApache404,
			tr: filterpattern.Transformation{MetricValue: "$7", Dimensions: map[string]string{
				"ip": "$1", "user": "$2", "time": "$4",
			}},
			want: filterpattern.Result{Value: 1534, Dimensions: map[string]string{
				"ip": "127.0.0.1", "user": "-", "time": "10/Oct/2000:13:25:15 -0700",
			}},
			wantOK: true,
		},
		{
			name: "space-delimited value not numeric", source: srcMetricDelim,
			pattern: `[ip, user, username, timestamp, request, status_code, bytes]`, message: `127.0.0.1 - frank [t] "GET /" 200 -`,
			tr:   filterpattern.Transformation{MetricValue: "$bytes"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "space-delimited field past the end", source: srcMetricDelim,
			pattern: `[a, b]`, message: "x y",
			tr:   filterpattern.Transformation{MetricValue: "$9"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "space-delimited no match uses default", source: srcMetricValues,
			pattern: `[a, b = 5*]`, message: "x 404",
			tr:   filterpattern.Transformation{MetricValue: "$b", DefaultValue: ptr(0)},
			want: filterpattern.Result{Value: 0, Default: true}, wantOK: false,
		},
		{
			name: "unstructured pattern has no fields", source: srcDimensions,
			pattern: `ERROR`, message: evBadRequest,
			tr:   filterpattern.Transformation{MetricValue: "$.latency"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "value that is not a number or field", source: srcMetricValues,
			pattern: `ERROR`, message: evBadRequest,
			tr:   filterpattern.Transformation{MetricValue: "one"},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "bracket-key field value", source: srcJSON,
			pattern: `{ $.['http.latency'] = * }`, message: `{"http.latency": 42}`,
			tr:   filterpattern.Transformation{MetricValue: "$.['http.latency']", Dimensions: map[string]string{"d": "$.['http.latency']"}},
			want: filterpattern.Result{Value: 42, Dimensions: map[string]string{"d": "42"}}, wantOK: true,
		},
		{
			name: "wildcard selector names no value", source: srcJSON,
			pattern: `{ $.lat[*] = * }`, message: `{"lat": [42]}`,
			tr:   filterpattern.Transformation{MetricValue: "$.lat[*]", DefaultValue: ptr(0)},
			want: filterpattern.Result{}, wantOK: false,
		},
		{
			name: "JSON pattern on non-JSON event uses default", source: srcMetricValues,
			pattern: `{ $.latency = * }`, message: "latency=5",
			tr:   filterpattern.Transformation{MetricValue: "$.latency", DefaultValue: ptr(-1)},
			want: filterpattern.Result{Value: -1, Default: true}, wantOK: false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			got, ok := p.Evaluate(tc.message, tc.tr)
			assert.Equal(t, tc.wantOK, ok, tc.source)
			assert.Equal(t, tc.want, got, tc.source)
		})
	}
}

func TestValidateTransformation(t *testing.T) {
	tests := []struct {
		name, pattern string
		tr            filterpattern.Transformation
		wantErr       []string // substrings; nil means valid
	}{
		{"count", `ERROR`, filterpattern.Transformation{MetricValue: "1", DefaultValue: ptr(0)}, nil},
		{"JSON value in pattern", `{ $.latency = * }`, filterpattern.Transformation{MetricValue: "$.latency"}, nil},
		{"JSON dimensions in pattern", `{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }`,
			filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"eventType": "$.eventType"}}, nil},
		{"space-delimited names and positions", `[ip, server, ..., bytes]`,
			filterpattern.Transformation{MetricValue: "$bytes", Dimensions: map[string]string{"server": "$server", "third": "$3"}}, nil},
		{"empty value", `ERROR`, filterpattern.Transformation{},
			[]string{`metric value "": expected a number`}},
		{"field on unstructured pattern", `ERROR`, filterpattern.Transformation{MetricValue: "$.latency"},
			[]string{"only JSON and space-delimited patterns have fields"}},
		{"dimension on unstructured pattern", `ERROR`, filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"a": "$.a"}},
			[]string{`dimension "a" = "$.a"`}},
		{"JSON value not in pattern", `{ $.eventType = * }`, filterpattern.Transformation{MetricValue: "$.latency"},
			[]string{`metric value "$.latency": field is not in the filter pattern`}},
		{"JSON value not a selector", `{ $.eventType = * }`, filterpattern.Transformation{MetricValue: "latency"},
			[]string{"expected a number or a selector"}},
		{"space-delimited field unknown", `[a, b]`, filterpattern.Transformation{MetricValue: "$c"},
			[]string{`metric value "$c": field is not in the filter pattern`}},
		{"space-delimited without dollar", `[a, b]`, filterpattern.Transformation{MetricValue: "b"},
			[]string{"expected a number or a field such as $name"}},
		{"too many dimensions and default", `[a, b, c, d]`, filterpattern.Transformation{
			MetricValue: "1", DefaultValue: ptr(0),
			Dimensions: map[string]string{"a": "$a", "b": "$b", "c": "$c", "d": "$d"},
		}, []string{"4 dimensions, expected at most 3", "default value: not allowed with dimensions"}},
		{"bracket key and plain name are one field", `{ $.['latency'] = * }`, filterpattern.Transformation{MetricValue: "$.latency"}, nil},
		{"dotted key is not a nested field", `{ $.['a.b'] = * }`, filterpattern.Transformation{MetricValue: "$.a.b"},
			[]string{`metric value "$.a.b": field is not in the filter pattern`}},
		{"wildcard value", `{ $.a[*] = * }`, filterpattern.Transformation{MetricValue: "$.a[*]"},
			[]string{`metric value "$.a[*]": expected a selector without wildcards`}},
		{"wildcard dimension", `{ $.* = * }`, filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"any": "$.*"}},
			[]string{`dimension "any" = "$.*": expected a selector without wildcards`}},
		{"empty dimension name", `[a]`, filterpattern.Transformation{MetricValue: "1", Dimensions: map[string]string{"": "$a"}},
			[]string{"dimension with an empty name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := filterpattern.Parse(tc.pattern)
			require.NoError(t, err)
			err = p.ValidateTransformation(tc.tr)
			if tc.wantErr == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, filterpattern.ErrTransformation)
			for _, want := range tc.wantErr {
				assert.Contains(t, err.Error(), want)
			}
		})
	}
}
