package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/samtemplate"
)

// This file reads, from the template resolved against a Stack, what the
// local twin runs instead of AWS: the metric filters and subscription
// filters of the log groups, the account's subscription filter policy, the
// alarms on the filters' and the processor's metrics and a function's
// settings. Nothing here calls AWS.

// MetricTransformation is one metric transformation of a metric filter:
// where the values go and how an event becomes a value.
type MetricTransformation struct {
	Namespace, MetricName string
	Unit                  string // a CloudWatch standard unit, or ""
	filterpattern.Transformation
}

// MetricFilter is an AWS::Logs::MetricFilter of a log group.
type MetricFilter struct {
	Name            string // its physical name
	Group           string // the log group it filters
	Pattern         *filterpattern.Pattern
	Transformations []MetricTransformation
}

// SubscriptionFilter is an AWS::Logs::SubscriptionFilter of a log group
// that delivers to a function of the template or to a CloudWatch Logs
// destination (of another account's stack, as a member account's do).
type SubscriptionFilter struct {
	LogicalID, Name string
	Group           string // the log group it filters
	Pattern         *filterpattern.Pattern
	Destination     string // the logical id of the destination function, "" for a logs destination
	// DestinationARN is the logs destination's ARN when the filter
	// delivers to one ("" for a function).
	DestinationARN string
}

// Function is what the twin needs of a function: its code directory,
// environment, log group, timeout and asynchronous invocation settings.
type Function struct {
	ARN      string
	CodeURI  string
	Env      map[string]string
	LogGroup string // LoggingConfig.LogGroup
	Timeout  time.Duration
	// MaxRetries and MaxEventAge are EventInvokeConfig's
	// MaximumRetryAttempts and MaximumEventAgeInSeconds.
	MaxRetries  int
	MaxEventAge time.Duration
	// OnFailure is EventInvokeConfig.DestinationConfig.OnFailure.Destination.
	OnFailure string
	// Schedules are the periods of the function's Schedule events
	// (Events.<name>.Properties.Schedule, rate(N unit) expressions), in
	// event name order.
	Schedules []time.Duration
}

// Lambda's defaults for what a function leaves unset.
const (
	defaultTimeout     = 3 * time.Second
	defaultMaxRetries  = 2
	defaultMaxEventAge = 6 * time.Hour
)

// activeResources yields the logical id and a reader of the resolved
// properties of each active resource of type typ, in logical id order;
// the problems of the others go to *errs.
func (s *Stack) activeResources(t *samtemplate.Template, typ string, errs *[]error) iter.Seq2[string, *samtemplate.Props] {
	env := s.Env()
	return func(yield func(string, *samtemplate.Props) bool) {
		for _, r := range t.ResourcesOfType(typ) {
			if ok, err := t.Active(r.LogicalID, env); err != nil || !ok {
				*errs = append(*errs, err)
				continue
			}
			p, err := t.Props(r.LogicalID, env)
			if err != nil {
				*errs = append(*errs, err)
				continue
			}
			if !yield(r.LogicalID, p) {
				return
			}
		}
	}
}

// MetricFilters returns the metric filters of group, or of every group
// when group is "". Every problem of every filter is reported together.
func (s *Stack) MetricFilters(t *samtemplate.Template, group string) ([]MetricFilter, error) {
	var (
		out  []MetricFilter
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::MetricFilter", &errs) {
		g := p.Required("LogGroupName")
		if group != "" && g != group {
			continue
		}
		mf := MetricFilter{Name: s.PhysicalIDs[id], Group: g}
		pattern, err := filterpattern.Parse(p.String("FilterPattern"))
		if err != nil {
			p.Fail("FilterPattern", err)
		}
		mf.Pattern = pattern
		for _, tp := range p.List("MetricTransformations") {
			mt := MetricTransformation{
				Namespace:  tp.Required("MetricNamespace"),
				MetricName: tp.Required("MetricName"),
				Unit:       tp.String("Unit"),
			}
			mt.MetricValue = tp.Required("MetricValue")
			if tp.Has("DefaultValue") {
				v := tp.Float("DefaultValue")
				mt.DefaultValue = &v
			}
			for _, d := range tp.List("Dimensions") {
				if mt.Dimensions == nil {
					mt.Dimensions = map[string]string{}
				}
				mt.Dimensions[d.Required("Key")] = d.Required("Value")
			}
			mf.Transformations = append(mf.Transformations, mt)
		}
		if len(mf.Transformations) == 0 {
			p.Fail("MetricTransformations", errors.New("missing"))
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, mf)
	}
	return out, errors.Join(errs...)
}

// metric names a metric without dimensions; the name anyMetric stands for
// every metric of the namespace.
type metric struct{ namespace, name string }

const anyMetric = "*"

// Alarms returns the configurations of the active alarms on the metrics
// that filters produce or on any metric of the namespaces (those of the
// processor's embedded metric format records), and the logical ids of the
// other alarms, which the twin cannot evaluate (metrics of other services).
func (s *Stack) Alarms(t *samtemplate.Template, filters []MetricFilter, namespaces ...string) (cfgs []alarm.Config, others []string, err error) {
	metrics := map[metric]bool{}
	for _, f := range filters {
		for _, m := range f.Transformations {
			metrics[metric{m.Namespace, m.MetricName}] = true
		}
	}
	for _, ns := range namespaces {
		metrics[metric{ns, anyMetric}] = true
	}
	var errs []error
	for id, p := range s.activeResources(t, "AWS::CloudWatch::Alarm", &errs) {
		ns := p.String("Namespace")
		if !metrics[metric{ns, p.String("MetricName")}] && !metrics[metric{ns, anyMetric}] {
			others = append(others, id)
			continue
		}
		c := alarm.Config{
			Name:                    s.PhysicalIDs[id],
			Description:             p.String("AlarmDescription"),
			Namespace:               p.Required("Namespace"),
			MetricName:              p.Required("MetricName"),
			Statistic:               p.Required("Statistic"),
			Period:                  time.Duration(p.Int("Period", 0)) * time.Second,
			EvaluationPeriods:       p.Int("EvaluationPeriods", 0),
			DatapointsToAlarm:       p.Int("DatapointsToAlarm", 0),
			Threshold:               p.Float("Threshold"),
			ComparisonOperator:      p.Required("ComparisonOperator"),
			TreatMissingData:        p.String("TreatMissingData"),
			Unit:                    p.String("Unit"),
			AlarmActions:            p.Strings("AlarmActions"),
			OKActions:               p.Strings("OKActions"),
			InsufficientDataActions: p.Strings("InsufficientDataActions"),
			ARN:                     s.Attributes[id]["Arn"],
			AccountID:               s.AccountID,
			Region:                  s.Region,
		}
		for _, d := range p.List("Dimensions") {
			c.Dimensions = append(c.Dimensions, alarm.Dimension{Name: d.Required("Name"), Value: d.Required("Value")})
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("resource %s: %w", id, err))
			continue
		}
		cfgs = append(cfgs, c)
	}
	return cfgs, others, errors.Join(errs...)
}

// SubscriptionFilters returns the subscription filters of group (of every
// group when group is ""); each must deliver to a function of the template
// or to a logs destination.
func (s *Stack) SubscriptionFilters(t *samtemplate.Template, group string) ([]SubscriptionFilter, error) {
	var (
		out  []SubscriptionFilter
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::SubscriptionFilter", &errs) {
		g := p.Required("LogGroupName")
		if group != "" && g != group {
			continue
		}
		sf := SubscriptionFilter{LogicalID: id, Name: s.PhysicalIDs[id], Group: g}
		if name := p.String("FilterName"); name != "" {
			sf.Name = name
		}
		pattern, err := filterpattern.Parse(p.String("FilterPattern"))
		if err != nil {
			p.Fail("FilterPattern", err)
		}
		sf.Pattern = pattern
		if dest := p.Required("DestinationArn"); IsLogsDestination(dest) {
			sf.DestinationARN = dest
		} else {
			sf.Destination = s.destinationFunction(t, p, "DestinationArn", dest)
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sf)
	}
	return out, errors.Join(errs...)
}

// AccountPolicy is an AWS::Logs::AccountPolicy of type
// SUBSCRIPTION_FILTER_POLICY that delivers to a function of the template:
// every log group of the account but the excluded ones delivers its
// matching events to the destination.
type AccountPolicy struct {
	LogicalID, Name string
	Pattern         *filterpattern.Pattern
	Destination     string          // the logical id of the destination function
	Excluded        map[string]bool // SelectionCriteria's LogGroupName NOT IN [...]
}

// policyDocument is a SUBSCRIPTION_FILTER_POLICY's PolicyDocument.
type policyDocument struct {
	DestinationArn string `json:"DestinationArn"`
	FilterPattern  string `json:"FilterPattern"`
	Distribution   string `json:"Distribution"`
	RoleArn        string `json:"RoleArn"`
}

// AccountPolicies returns the template's active subscription filter
// policies; an account has room for one.
func (s *Stack) AccountPolicies(t *samtemplate.Template) ([]AccountPolicy, error) {
	var (
		out  []AccountPolicy
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::AccountPolicy", &errs) {
		if p.Required("PolicyType") != "SUBSCRIPTION_FILTER_POLICY" {
			continue
		}
		ap := AccountPolicy{LogicalID: id, Name: p.Required("PolicyName")}
		if scope := p.String("Scope"); scope != "" && scope != "ALL" {
			p.Fail("Scope", fmt.Errorf("%q: the only scope is ALL", scope))
		}
		var doc policyDocument
		if err := json.Unmarshal([]byte(p.Required("PolicyDocument")), &doc); err != nil {
			p.Fail("PolicyDocument", fmt.Errorf("not a JSON policy document: %w", err))
		}
		pattern, err := filterpattern.Parse(doc.FilterPattern)
		if err != nil {
			p.Fail("PolicyDocument.FilterPattern", err)
		}
		ap.Pattern = pattern
		ap.Destination = s.destinationFunction(t, p, "PolicyDocument.DestinationArn", doc.DestinationArn)
		excluded, err := ParseSelectionCriteria(p.String("SelectionCriteria"))
		if err != nil {
			p.Fail("SelectionCriteria", err)
		}
		ap.Excluded = map[string]bool{}
		for _, g := range excluded {
			ap.Excluded[g] = true
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ap)
	}
	if len(out) > 1 {
		errs = append(errs, fmt.Errorf("resources %s and %s: an account has one subscription filter policy", out[0].LogicalID, out[1].LogicalID))
	}
	return out, errors.Join(errs...)
}

// ParseSelectionCriteria reads a subscription filter policy's selection
// criteria, the only documented form being
//
//	LogGroupName NOT IN ["group1", "group2"]
//
// (exact names; no prefixes or wildcards), and returns the names left out.
// Empty criteria select every group.
func ParseSelectionCriteria(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	list, ok := strings.CutPrefix(s, "LogGroupName NOT IN ")
	if !ok {
		return nil, fmt.Errorf("%q: want LogGroupName NOT IN [\"name\", ...]", s)
	}
	var names []string
	if err := json.Unmarshal([]byte(list), &names); err != nil {
		return nil, fmt.Errorf("%q: the list is not a JSON list of names: %w", s, err)
	}
	return names, nil
}

// destinationFunction returns the logical id of the function whose ARN is
// dest; anything else fails key of p.
func (s *Stack) destinationFunction(t *samtemplate.Template, p *samtemplate.Props, key, dest string) string {
	for fn, a := range s.Attributes {
		if a["Arn"] == dest && isFunction(t, fn) {
			return fn
		}
	}
	if dest != "" {
		p.Fail(key, fmt.Errorf("%s is not a function of the template; only Lambda destinations run locally", dest))
	}
	return ""
}

// IsLogsDestination reports whether arn names a CloudWatch Logs
// destination (arn:aws:logs:REGION:ACCOUNT:destination:NAME).
func IsLogsDestination(arn string) bool {
	a, err := awsarn.Parse(arn)
	return err == nil && a.Service == "logs" && strings.HasPrefix(a.Resource, "destination:")
}

func isFunction(t *samtemplate.Template, id string) bool {
	r, err := t.Resource(id)
	return err == nil && (r.Type == "AWS::Serverless::Function" || r.Type == "AWS::Lambda::Function")
}

// FunctionByCode returns the logical id of the function whose CodeUri is
// the directory dir ("emitter" for CodeUri: emitter/); ok is false when
// there is none.
func FunctionByCode(t *samtemplate.Template, dir string) (id string, ok bool) {
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Lambda::Function"} {
		for _, r := range t.ResourcesOfType(typ) {
			if uri, _ := r.Properties["CodeUri"].(string); strings.Trim(uri, "./") == dir {
				return r.LogicalID, true
			}
		}
	}
	return "", false
}

// Function reads the settings of the function id, with the template's
// Globals.Function as defaults and Lambda's defaults for what both leave
// unset.
func (s *Stack) Function(t *samtemplate.Template, id string) (Function, error) {
	env := s.Env()
	p, err := t.Props(id, env)
	if err != nil {
		return Function{}, err
	}
	globals, err := t.Eval(t.Globals["Function"], env)
	if err != nil {
		return Function{}, fmt.Errorf("Globals.Function: %w", err)
	}
	g, _ := globals.(map[string]any)
	gp := samtemplate.NewProps("Globals.Function", g)
	logGroup := p.String("LoggingConfig.LogGroup")
	if logGroup == "" {
		logGroup = gp.String("LoggingConfig.LogGroup")
	}
	fn := Function{
		ARN:         s.Attributes[id]["Arn"],
		CodeURI:     p.String("CodeUri"),
		Env:         map[string]string{},
		LogGroup:    logGroup,
		Timeout:     time.Duration(p.Int("Timeout", gp.Int("Timeout", int(defaultTimeout/time.Second)))) * time.Second,
		MaxRetries:  p.Int("EventInvokeConfig.MaximumRetryAttempts", defaultMaxRetries),
		MaxEventAge: time.Duration(p.Int("EventInvokeConfig.MaximumEventAgeInSeconds", int(defaultMaxEventAge/time.Second))) * time.Second,
		OnFailure:   p.String("EventInvokeConfig.DestinationConfig.OnFailure.Destination"),
	}
	if vars, ok := p.Map("Environment.Variables"); ok {
		for _, k := range vars.Keys() {
			fn.Env[k] = vars.String(k)
		}
	}
	if events, ok := p.Map("Events"); ok {
		for _, name := range events.Keys() {
			if events.String(name+".Type") != "Schedule" {
				continue
			}
			path := "Events." + name + ".Properties.Schedule"
			d, err := ParseRate(p.String(path))
			if err != nil {
				p.Fail(path, err)
			}
			fn.Schedules = append(fn.Schedules, d)
		}
	}
	return fn, errors.Join(p.Err(), gp.Err())
}

// ParseRate reads an EventBridge rate expression, "rate(1 minute)" or
// "rate(N minutes|hours|days)", as its period. Cron expressions are not
// read: the twin runs schedules by period only.
func ParseRate(expr string) (time.Duration, error) {
	inner, prefixed := strings.CutPrefix(expr, "rate(")
	inner, suffixed := strings.CutSuffix(inner, ")")
	if !prefixed || !suffixed {
		return 0, fmt.Errorf("schedule %q: want rate(N unit); the twin runs no cron expressions", expr)
	}
	var (
		n    int
		unit string
	)
	if _, err := fmt.Sscanf(inner, "%d %s", &n, &unit); err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule %q: want a positive whole number and a unit", expr)
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	d, ok := units[strings.TrimSuffix(unit, "s")]
	if !ok || (n == 1) != !strings.HasSuffix(unit, "s") {
		return 0, fmt.Errorf("schedule %q: unit %q: want minute, hour or day for 1, minutes, hours or days for more", expr, unit)
	}
	return time.Duration(n) * d, nil
}
