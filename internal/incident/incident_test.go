package incident_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/incident"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain words stay", "ERROR database unavailable", "ERROR database unavailable"},
		{"numbers", "ERROR retry 3 of 5 took 1.25s", "ERROR retry <num> of <num> took <id>"},
		{"negative number", "ERROR balance -42", "ERROR balance <num>"},
		{"ipv4 with port", "ERROR connect 10.0.12.7:5432 refused", "ERROR connect <ip> refused"},
		{"uuid", "ERROR order 3f2b8c1e-9d4a-4b7e-8f00-12ab34cd56ef failed", "ERROR order <uuid> failed"},
		{"hex id", "ERROR trace 7f3a9c0b12de failed", "ERROR trace <num> failed"},
		{"0x hex", "FATAL segfault at 0x7ffd", "FATAL segfault at <num>"},
		{"hex id without digits", "ERROR client bfbcfece gone", "ERROR client <num> gone"},
		{"hex id without letters", "ERROR client 20261125 gone", "ERROR client <num> gone"},
		{"short hex-looking word stays", "ERROR cafe closed", "ERROR cafe closed"},
		{"iso timestamp", "2026-11-25T14:00:00.123Z ERROR boom", "<ts> ERROR boom"},
		{"date and time", "2026-11-25 14:00:00,123 ERROR boom", "<ts> <ts>,<num> ERROR boom"},
		{"lambda text line", "2026-11-25T14:00:00.000Z\t3f2b8c1e-9d4a-4b7e-8f00-12ab34cd56ef\tERROR\tpayment failed", "<ts>\t<uuid>\tERROR\tpayment failed"},
		{"mixed id", "ERROR user42 not found", "ERROR <id> not found"},
		{"double quoted value", `ERROR unknown field "colour"`, `ERROR unknown field "<*>"`},
		{"single quoted value", `ERROR table 'orders' missing`, `ERROR table '<*>' missing`},
		{"apostrophe is not a quote", `ERROR can't open file`, `ERROR can't open file`},
		{"unclosed quote kept", `ERROR bad "value`, `ERROR bad "value`},
		{"trailing dot is punctuation", "ERROR failed after 3.", "ERROR failed after <num>."},
		{"password pair", "ERROR login password=hunter2! user=bob", "ERROR login password=<redacted> user=bob"},
		{"password without digits", "ERROR login password=letmein", "ERROR login password=<redacted>"},
		{"secret key colon", "ERROR db_secret: s3cr3t", "ERROR db_secret: <redacted>"},
		{"bearer token", "ERROR Authorization: Bearer abc.def.ghi denied", "ERROR Authorization: Bearer <redacted> denied"},
		{"access key id", "ERROR key AKIAIOSFODNNEXAMPLEX denied", "ERROR key <redacted> denied"},
		{"json keeps keys and words", `{"level":"ERROR","msg":"db timeout after 30s","user":"u-9"}`, `{"level":"ERROR","msg":"db timeout after <id>","user":"<id>"}`},
		{"json secret value", `{"level":"ERROR","password":"letmein"}`, `{"level":"ERROR","password":"<redacted>"}`},
		{"logfmt message is text", `time=2026-11-25T14:00:00Z level=ERROR msg="payment failed" order=12 user="bob"`, `time=<ts> level=ERROR msg="payment failed" order=<num> user="<*>"`},
		{"logfmt message normalised", `level=ERROR msg="db timeout after 30s on 10.0.0.1" err='conn reset by "peer"'`, `level=ERROR msg="db timeout after <id> on <ip>" err='conn reset by "<*>"'`},
		{"logfmt quoted level", `level="CRITICAL" Msg="disk full"`, `level="CRITICAL" Msg="disk full"`},
		{"logfmt secret in a message key", `msg="retry password=hunter2"`, `msg="retry password=<redacted>"`},
		{"logfmt secret in escaped quotes", `level=ERROR msg="login failed password=\"hunter two\""`, `level=ERROR msg="login failed password="<redacted>""`},
		{"logfmt escaped json", `level=ERROR msg="request failed body={\"password\":\"letmein\"}"`, `level=ERROR msg="request failed body={"<*>":"<*>"}"`},
		{"a colon is no logfmt key", `ERROR: "config.yaml" not found`, `ERROR: "<*>" not found`},
		{"secret in escaped quotes at the top", `ERROR login failed password=\"open sesame\" user=bob`, `ERROR login failed password=\"<redacted>\" user=bob`},
		{"escaped-quote secret cut short", `ERROR login failed password=\"opensesame`, `ERROR login failed password=\"<redacted>\"`},
		{"quote never closed", `ERROR password="opensesame`, `ERROR password="<redacted>`},
		{"basic auth", "ERROR Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l denied", "ERROR Authorization: Basic <redacted> denied"},
		{"the word basic alone", "ERROR basic checks failed", "ERROR basic checks failed"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.Normalize(tc.in))
		})
	}
}

func TestNormalizeGroupsVariants(t *testing.T) {
	a := incident.Normalize(`2026-11-25T14:00:01Z ERROR order 17 for "alice" failed at 10.0.0.1 (req 3f2b8c1e-9d4a-4b7e-8f00-12ab34cd56ef)`)
	b := incident.Normalize(`2026-11-26T09:13:59Z ERROR order 90211 for "bob" failed at 192.168.1.20 (req 00000000-1111-2222-3333-444444444444)`)
	c := incident.Normalize(`2026-11-26T09:13:59Z ERROR refund 90211 for "bob" failed at 192.168.1.20 (req 00000000-1111-2222-3333-444444444444)`)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)

	// slog's text handler: the message tells incidents apart.
	pay := incident.Normalize(`time=2026-11-25T14:00:00.001Z level=ERROR msg="payment failed" order=12`)
	pay2 := incident.Normalize(`time=2026-11-25T15:30:00.120Z level=ERROR msg="payment failed" order=9931`)
	disk := incident.Normalize(`time=2026-11-25T14:00:00.001Z level=ERROR msg="disk full" order=12`)
	assert.Equal(t, pay, pay2)
	assert.NotEqual(t, pay, disk)
}

func TestNormalizeBounded(t *testing.T) {
	long := "ERROR " + strings.Repeat("é", incident.MaxTemplateInput)
	got := incident.Normalize(long)
	assert.LessOrEqual(t, len(got), incident.MaxTemplateInput)
	assert.True(t, strings.HasPrefix(got, "ERROR é"))
	assert.NotContains(t, got, "\uFFFD", "cut inside a UTF-8 sequence")
}

func TestSeverityOf(t *testing.T) {
	tests := []struct {
		in   string
		want incident.Severity
	}{
		{"ERROR disk full", incident.SeverityError},
		{"FATAL out of memory", incident.SeverityFatal},
		{"CRITICAL ERROR both present", incident.SeverityCritical},
		{"ERROR then FATAL", incident.SeverityFatal},
		{"WARN slow query", incident.SeverityWarn},
		{"WARNING slow query", incident.SeverityWarn},
		{"[ERR] short form", incident.SeverityError},
		{"ERRORS is not a level word", incident.SeverityError},
		{"TERRORS and WARN", incident.SeverityWarn},
		{"Exception in thread main", incident.SeverityError},
		{"level=critical lower case is not graded", incident.SeverityError},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.SeverityOf(tc.in))
		})
	}
}

func TestSeverityNames(t *testing.T) {
	for _, s := range []incident.Severity{incident.SeverityWarn, incident.SeverityError, incident.SeverityFatal, incident.SeverityCritical} {
		assert.Equal(t, s, incident.ParseSeverity(s.String()))
	}
	assert.Equal(t, "UNKNOWN", incident.Severity(0).String())
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"access key id", "using AKIAIOSFODNN7EXAMPLE now", "using <redacted> now"},
		{"temporary key id", "key=ASIAY34FZKBOKMUTVV7A", "key=<redacted>"},
		{"bearer", "Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig-nature", "Authorization: <redacted>"},
		{"bearer alone", "sent bearer abc123XYZ== upstream", "sent bearer <redacted> upstream"},
		{"jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln rejected", "token <redacted> rejected"},
		{"password pair", "login failed password=hunter2 user=bob", "login failed password=<redacted> user=bob"},
		{"password colon", "db_password: s3cr3t, host=db", "db_password: <redacted>, host=db"},
		{"json secret", `{"client_secret":"abc def","user":"bob"}`, `{"client_secret":"<redacted>","user":"bob"}`},
		{"api key", "api_key=0123456789abcdef", "api_key=<redacted>"},
		{"url credentials", "dial postgres://app:pa55w0rd@db:5432/x", "dial postgres://app:<redacted>@db:5432/x"},
		{"aws secret key in the environment", "ERROR AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY set", "ERROR AWS_SECRET_ACCESS_KEY=<redacted> set"},
		{"aws secret key in json", `{"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG", "region": "eu-west-1"}`, `{"aws_secret_access_key": "<redacted>", "region": "eu-west-1"}`},
		{"secret_key pair", "auth failed secret_key=abc123XYZ user=bob", "auth failed secret_key=<redacted> user=bob"},
		{"escaped quote in a secret", `{"password": "hunt\"er2", "user": "bob"}`, `{"password": "<redacted>", "user": "bob"}`},
		{"single-quoted secret", "retry with token='abc def' now", "retry with token='<redacted>' now"},
		{"secret in escaped quotes", `msg="login failed password=\"hunter two\"" user=bob`, `msg="login failed password=\"<redacted>\"" user=bob`},
		{"escaped json inside a message", `msg="body={\"password\":\"letmein\",\"user\":\"bob\"}"`, `msg="body={\"password\":\"<redacted>\",\"user\":\"bob\"}"`},
		{"escaped-quote secret then more", `password=\"hunter2\" user=\"bob\"`, `password=\"<redacted>\" user=\"bob\"`},
		{"doubly escaped json", `{"level":"ERROR","event":"{\"body\":\"{\\\"password\\\":\\\"opensesame\\\"}\"}"}`, `{"level":"ERROR","event":"{\"body\":\"{\\\"password\\\":\\\"<redacted>\\\"}\"}"}`},
		{"escaped single quotes", `msg="login failed password=\'open sesame\'"`, `msg="login failed password=\'<redacted>\'"`},
		{"quote never closed", `ERROR password="opensesame`, `ERROR password=<redacted>`},
		{"escaped quote never closed", `msg="login failed password=\"opensesame`, `msg="login failed password=<redacted>`},
		{"basic auth", "ERROR upstream 401 Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "ERROR upstream 401 Authorization: <redacted>"},
		{"the word basic alone", "ERROR basic checks failed", "ERROR basic checks failed"},
		{"nothing to redact", "ERROR disk full on /dev/sda1", "ERROR disk full on /dev/sda1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, incident.Redact(tc.in))
		})
	}
}

func TestSampleBounded(t *testing.T) {
	got := incident.Sample("ERROR " + strings.Repeat("€", 10_000) + " password=x")
	assert.LessOrEqual(t, len(got), incident.MaxSampleBytes)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.Equal(t, "ERROR bad \uFFFD byte", incident.Sample("ERROR bad \xff byte"))
}

type containsMatcher string

func (m containsMatcher) Match(s string) bool { return strings.Contains(s, string(m)) }

func TestGroup(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC).UnixMilli()
	p := &awslogs.Payload{
		MessageType: awslogs.MessageTypeData,
		LogGroup:    "/app/a",
		LogStream:   "s1",
		LogEvents: []awslogs.LogEvent{
			{ID: "1", Timestamp: t0 + 2000, Message: "ERROR order 17 failed password=x1"},
			{ID: "2", Timestamp: t0, Message: "ERROR order 18 failed password=x2"},
			{ID: "3", Timestamp: t0 + 1000, Message: "INFO order 19 ok"},
			{ID: "4", Timestamp: t0 + 500, Message: "FATAL disk 3 gone"},
			{ID: "5", Timestamp: t0 + 100, Message: "ERROR order 20 failed password=x3"},
		},
	}
	g := incident.Group(p, containsMatcher("ERROR"))
	assert.Equal(t, 3, g.Matched)
	require.Len(t, g.Deltas, 1)
	d := g.Deltas[0]
	assert.Equal(t, int64(3), d.Count)
	assert.Equal(t, time.UnixMilli(t0).UTC(), d.FirstSeen)
	assert.Equal(t, time.UnixMilli(t0+2000).UTC(), d.LastSeen)
	assert.Equal(t, "ERROR order 17 failed password=<redacted>", d.Sample, "sample is the latest event, redacted")
	assert.Equal(t, "ERROR order <num> failed password=<redacted>", d.Template)
	assert.Equal(t, incident.SeverityError, d.Severity)
	assert.Equal(t, incident.ID("/app/a", d.Fingerprint), d.ID)

	all := incident.Group(p, containsMatcher(""))
	assert.Equal(t, 5, all.Matched, "every event of the delivery is matched")
	require.Len(t, all.Deltas, 3)
	for i := 1; i < len(all.Deltas); i++ {
		assert.Less(t, all.Deltas[i-1].ID, all.Deltas[i].ID, "deltas sorted by id")
	}
}

// Group grades an incident from its template, so a quoted level must
// survive normalisation.
func TestGroupGradesQuotedLevels(t *testing.T) {
	p := &awslogs.Payload{LogGroup: "/app/a", LogEvents: []awslogs.LogEvent{
		{ID: "1", Timestamp: 1, Message: `level="CRITICAL" msg="db down"`},
		{ID: "2", Timestamp: 2, Message: `severity='FATAL' msg='worker died'`},
	}}
	g := incident.Group(p, containsMatcher(""))
	require.Len(t, g.Deltas, 2)
	got := map[string]incident.Severity{}
	for _, d := range g.Deltas {
		got[d.Template] = d.Severity
	}
	assert.Equal(t, map[string]incident.Severity{
		`level="CRITICAL" msg="db down"`:     incident.SeverityCritical,
		`severity='FATAL' msg='worker died'`: incident.SeverityFatal,
	}, got)
}

// TestGroupOutlivesAView groups a transient awslogs.View payload, as the
// processor does, then lets the next View overwrite the Decoder's buffers:
// the Grouping must not change.
func TestGroupOutlivesAView(t *testing.T) {
	payload := func(group, stream, msg string) string {
		data, err := awslogs.Encode(&awslogs.Payload{
			MessageType: awslogs.MessageTypeData, LogGroup: group, LogStream: stream,
			LogEvents: []awslogs.LogEvent{{ID: "1", Timestamp: 1, Message: msg}},
		})
		require.NoError(t, err)
		return data
	}
	group := func(data string) incident.Grouping {
		var g incident.Grouping
		require.NoError(t, awslogs.View(data, awslogs.DefaultLimits, func(p *awslogs.Payload) error {
			g = incident.Group(p, containsMatcher("ERROR"))
			return nil
		}))
		return g
	}
	first := group(payload("/app/first", "stream-1", "ERROR first failure"))
	want := []incident.Delta{first.Deltas[0]}
	want[0].LogGroup, want[0].LogStream, want[0].Sample = "/app/first", "stream-1", "ERROR first failure"
	require.Equal(t, want, first.Deltas)

	for range 3 { // a later View, on whichever idle Decoder, overwrites the buffers
		group(payload("/app/XXXXX", "XXXXXXXX", "ERROR XXXXX XXXXXXX")) // same lengths: same buffers
	}
	assert.Equal(t, want, first.Deltas, "the Grouping aliases the View's buffers")
}

func TestIDSeparatesLogGroups(t *testing.T) {
	fp := incident.Fingerprint("ERROR x")
	assert.NotEqual(t, incident.ID("/a", fp), incident.ID("/b", fp))
	assert.Equal(t, incident.ID("/a", fp), incident.ID("/a", fp))
	assert.NotEqual(t, incident.ID("/a"+fp[:1], fp[1:]), incident.ID("/a", fp))
}

func TestAccountID(t *testing.T) {
	fp := incident.Fingerprint("ERROR x")
	const home, member, other = "123456789012", "111111111111", "222222222222"
	assert.Equal(t, incident.ID("/a", fp), incident.AccountID(home, home, "/a", fp), "the home account keeps its IDs")
	assert.Equal(t, incident.ID("/a", fp), incident.AccountID(home, "", "/a", fp), "a payload without owner is home's")
	assert.NotEqual(t, incident.ID("/a", fp), incident.AccountID(home, member, "/a", fp))
	assert.NotEqual(t, incident.AccountID(home, other, "/a", fp), incident.AccountID(home, member, "/a", fp), "two accounts, one group name")
	assert.Equal(t, incident.AccountID(home, member, "/a", fp), incident.AccountID(other, member, "/a", fp), "the same for any foreign home")
	assert.NotEqual(t, incident.ID("/a", fp), incident.AccountID("", home, "/a", fp), "no home: every account is foreign")
	assert.Regexp(t, `^inc-[0-9a-f]{24}$`, incident.AccountID(home, member, "/a", fp))
}

func TestApplyFillsTheAccountOfAnOldIncident(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	d := incident.Delta{ID: "inc-1", AccountID: "123456789012", Count: 1, FirstSeen: now, LastSeen: now}
	old := incident.Open(d, now)
	assert.Equal(t, "123456789012", old.AccountID)
	old.AccountID = ""
	next, _ := old.Apply(d, now)
	assert.Equal(t, "123456789012", next.AccountID)
}

func TestDeliveryID(t *testing.T) {
	p := func(ids ...string) *awslogs.Payload {
		p := &awslogs.Payload{LogGroup: "/g", LogStream: "s"}
		for _, id := range ids {
			p.LogEvents = append(p.LogEvents, awslogs.LogEvent{ID: id})
		}
		return p
	}
	assert.Equal(t, incident.DeliveryID(p("1", "2")), incident.DeliveryID(p("1", "2")))
	assert.NotEqual(t, incident.DeliveryID(p("1", "2")), incident.DeliveryID(p("1", "3")))
	assert.NotEqual(t, incident.DeliveryID(p("12")), incident.DeliveryID(p("1", "2")))
}
