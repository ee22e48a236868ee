package pipeline

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/logalert/logalert/internal/awslogs"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/incident"
)

// DefaultPattern is the incident pattern when INCIDENT_PATTERN is unset; it
// equals the template's ErrorPattern default (a test keeps them equal).
const DefaultPattern = "?ERROR ?FATAL ?CRITICAL"

// accountID matches an AWS account id, or nothing.
var accountID = regexp.MustCompile(`^([0-9]{12})?$`)

// Config is the processor's environment, parsed and validated once.
type Config struct {
	Table     string                 // INCIDENTS_TABLE
	TopicARN  string                 // ALERTS_TOPIC_ARN; no alerts when empty
	Pattern   *filterpattern.Pattern // INCIDENT_PATTERN, compiled
	Namespace string                 // METRICS_NAMESPACE; no EMF when empty
	Limits    awslogs.Limits         // MAX_DECOMPRESSED_BYTES over awslogs.DefaultLimits
	Redactor  *incident.Redactor     // REDACT_PATTERNS, compiled, beside the built-in shapes
	// Stack, Alarm and Dashboard (STACK_NAME, ERROR_ALARM_NAME,
	// DASHBOARD_NAME; optional) name the deployment in the alerts, so
	// that their commands and links find it.
	Stack, Alarm, Dashboard string
	// OwnLogGroup is the processor's own log group
	// (AWS_LAMBDA_LOG_GROUP_NAME, which Lambda sets): deliveries from it are
	// dropped, never processed (see excluded).
	OwnLogGroup string
	// HomeAccount (HOME_ACCOUNT_ID, optional, 12 digits) is the account
	// the processor runs in: its incidents keep IDs made of log group and
	// fingerprint, while those of other accounts' payloads (owner) name the
	// account too (incident.AccountID). Unset, every account counts as
	// foreign: no two accounts ever share an incident, at the price of new
	// IDs for the incidents of the processor's own account.
	HomeAccount string
	// ExcludedPrefixes (EXCLUDED_LOG_GROUP_PREFIXES, comma-separated):
	// deliveries from log groups whose names start with one are dropped.
	ExcludedPrefixes []string
	// AlertBurst (ALERT_BURST) is how many alerts of a log group go out
	// alone per AlertWindow (ALERT_WINDOW_SECONDS, default
	// DefaultAlertWindow); the rest of the window's go out in one digest
	// when it ends. 0 (unset) sends every alert alone.
	AlertBurst  int
	AlertWindow time.Duration
}

// DefaultAlertWindow is the window of AlertBurst when ALERT_WINDOW_SECONDS
// is unset; it equals the template's AlertWindowSeconds default.
const DefaultAlertWindow = 5 * time.Minute

// LoadConfig reads the environment through getenv (see the processor
// command's documentation) and reports every problem at once.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Table:     getenv("INCIDENTS_TABLE"),
		TopicARN:  getenv("ALERTS_TOPIC_ARN"),
		Namespace: getenv("METRICS_NAMESPACE"),
		Limits:    awslogs.DefaultLimits,
		Stack:     getenv("STACK_NAME"),
		Alarm:     getenv("ERROR_ALARM_NAME"),
		Dashboard: getenv("DASHBOARD_NAME"),

		OwnLogGroup:      getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
		HomeAccount:      getenv("HOME_ACCOUNT_ID"),
		ExcludedPrefixes: awslogs.SplitGroups(getenv("EXCLUDED_LOG_GROUP_PREFIXES")),
	}
	var errs []error
	if c.Table == "" {
		errs = append(errs, errors.New("INCIDENTS_TABLE is required"))
	}
	if !accountID.MatchString(c.HomeAccount) {
		errs = append(errs, fmt.Errorf("HOME_ACCOUNT_ID %q: want a 12-digit AWS account id", c.HomeAccount))
	}
	pattern := getenv("INCIDENT_PATTERN")
	if pattern == "" {
		pattern = DefaultPattern
	}
	p, err := filterpattern.Parse(pattern)
	if err != nil {
		errs = append(errs, fmt.Errorf("INCIDENT_PATTERN %q: %w", pattern, err))
	}
	c.Pattern = p
	if v := getenv("MAX_DECOMPRESSED_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("MAX_DECOMPRESSED_BYTES %q: want a positive number of bytes", v))
		}
		c.Limits.MaxDecompressedBytes = n
	}
	c.AlertBurst, c.AlertWindow = 0, DefaultAlertWindow
	if v := getenv("ALERT_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("ALERT_BURST %q: want a number of alerts, 0 or more", v))
		}
		c.AlertBurst = n
	}
	if v := getenv("ALERT_WINDOW_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("ALERT_WINDOW_SECONDS %q: want a positive number of seconds", v))
		}
		c.AlertWindow = time.Duration(n) * time.Second
	}
	// REDACT_PATTERNS: regular expressions separated by white space (a
	// pattern writes a space as \s or \x20).
	r, err := incident.NewRedactor(strings.Fields(getenv("REDACT_PATTERNS")))
	if err != nil {
		errs = append(errs, fmt.Errorf("REDACT_PATTERNS: %w", err))
	}
	c.Redactor = r
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("processor config: %w", err)
	}
	return c, nil
}
