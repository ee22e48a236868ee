package local

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/logalert/logalert/internal/alarm"
	"github.com/logalert/logalert/internal/filterpattern"
	"github.com/logalert/logalert/internal/samtemplate"
)

// This file reads, from the resolved template, what the twin runs: the
// log group the emitter writes to, its metric filters and subscription
// filters, the alarms on the filters' metrics and the processor function's
// settings. Nothing here calls AWS.

// props reads the resolved properties of one resource and collects every
// problem, so that all of them are reported together.
type props struct {
	where string // where m is, ending in "." ("resource X: Properties.")
	m     map[string]any
	errs  []error
}

// sub returns the props of the mapping m found at path below p.
func (p *props) sub(path string, m map[string]any) *props {
	return &props{where: p.where + path + ".", m: m}
}

func resolved(t *samtemplate.Template, env *samtemplate.Env, id string) (*props, error) {
	m, err := t.ResolveProperties(id, env)
	if err != nil {
		return nil, err
	}
	return &props{where: "resource " + id + ": Properties.", m: m}, nil
}

func (p *props) fail(key string, err error) {
	p.errs = append(p.errs, fmt.Errorf("%s%s: %w", p.where, key, err))
}

// value returns the value at a dotted path (no list indexes).
func (p *props) value(path string) (any, bool) {
	var cur any = p.m
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (p *props) str(path string, required bool) string {
	v, ok := p.value(path)
	if !ok {
		if required {
			p.fail(path, errors.New("missing"))
		}
		return ""
	}
	s, err := samtemplate.String(v)
	if err != nil {
		p.fail(path, err)
	}
	return s
}

func (p *props) int(path string, def int) int {
	v, ok := p.value(path)
	if !ok {
		return def
	}
	n, err := samtemplate.Int(v)
	if err != nil {
		p.fail(path, err)
	}
	return int(n)
}

func (p *props) float(path string) float64 {
	v, ok := p.value(path)
	if !ok {
		p.fail(path, errors.New("missing"))
		return 0
	}
	f, err := samtemplate.Float(v)
	if err != nil {
		p.fail(path, err)
	}
	return f
}

func (p *props) strs(path string) []string {
	v, ok := p.value(path)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.fail(path, errors.New("want a list"))
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, err := samtemplate.String(x)
		if err != nil {
			p.fail(path, err)
		}
		out = append(out, s)
	}
	return out
}

func (p *props) list(path string) []map[string]any {
	v, ok := p.value(path)
	if !ok {
		return nil
	}
	l, _ := v.([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			p.fail(path, errors.New("want a list of mappings"))
			continue
		}
		out = append(out, m)
	}
	return out
}

func (p *props) err() error { return errors.Join(p.errs...) }

// activeResources yields the logical id and resolved properties of each
// active resource of type typ, in template order; the problems of the
// others go to *errs.
func activeResources(t *samtemplate.Template, env *samtemplate.Env, typ string, errs *[]error) iter.Seq2[string, *props] {
	return func(yield func(string, *props) bool) {
		for _, r := range t.ResourcesOfType(typ) {
			if ok, err := t.Active(r.LogicalID, env); err != nil || !ok {
				*errs = append(*errs, err)
				continue
			}
			p, err := resolved(t, env, r.LogicalID)
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

// metricFilterSpec is an AWS::Logs::MetricFilter of a watched log group.
type metricFilterSpec struct {
	name, group string
	pattern     *filterpattern.Pattern
	transforms  []MetricTransformation
}

// metricFilters returns the metric filters of group, or of every group
// when group is "".
func metricFilters(t *samtemplate.Template, env *samtemplate.Env, group string) ([]metricFilterSpec, error) {
	var (
		out  []metricFilterSpec
		errs []error
	)
	for id, p := range activeResources(t, env, "AWS::Logs::MetricFilter", &errs) {
		g := p.str("LogGroupName", true)
		if group != "" && g != group {
			continue
		}
		spec := metricFilterSpec{name: env.PhysicalIDs[id], group: g}
		pattern, err := filterpattern.Parse(p.str("FilterPattern", false))
		if err != nil {
			p.fail("FilterPattern", err)
		}
		spec.pattern = pattern
		for i, m := range p.list("MetricTransformations") {
			tp := p.sub(fmt.Sprintf("MetricTransformations[%d]", i), m)
			mt := MetricTransformation{
				Namespace:  tp.str("MetricNamespace", true),
				MetricName: tp.str("MetricName", true),
				Unit:       tp.str("Unit", false),
			}
			mt.MetricValue = tp.str("MetricValue", true)
			if _, ok := m["DefaultValue"]; ok {
				v := tp.float("DefaultValue")
				mt.DefaultValue = &v
			}
			for j, d := range tp.list("Dimensions") {
				if mt.Dimensions == nil {
					mt.Dimensions = map[string]string{}
				}
				dp := tp.sub(fmt.Sprintf("Dimensions[%d]", j), d)
				mt.Dimensions[dp.str("Key", true)] = dp.str("Value", true)
				tp.errs = append(tp.errs, dp.errs...)
			}
			p.errs = append(p.errs, tp.errs...)
			spec.transforms = append(spec.transforms, mt)
		}
		if len(spec.transforms) == 0 {
			p.fail("MetricTransformations", errors.New("missing"))
		}
		if err := p.err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, spec)
	}
	return out, errors.Join(errs...)
}

// metricKey names a metric without dimensions; the name anyMetric stands
// for every metric of the namespace.
type metricKey struct{ namespace, name string }

const anyMetric = "*"

// alarmConfigs returns the configurations of the active alarms on the
// metrics the metric filters produce, and the logical ids of the alarms the
// twin cannot evaluate (metrics of other services).
func alarmConfigs(t *samtemplate.Template, env *samtemplate.Env, attrs map[string]map[string]string, metrics map[metricKey]bool) (cfgs []alarm.Config, others []string, err error) {
	var errs []error
	for id, p := range activeResources(t, env, "AWS::CloudWatch::Alarm", &errs) {
		ns := p.str("Namespace", false)
		if !metrics[metricKey{ns, p.str("MetricName", false)}] && !metrics[metricKey{ns, anyMetric}] {
			others = append(others, id)
			continue
		}
		c := alarm.Config{
			Name:                    env.PhysicalIDs[id],
			Description:             p.str("AlarmDescription", false),
			Namespace:               p.str("Namespace", true),
			MetricName:              p.str("MetricName", true),
			Statistic:               p.str("Statistic", true),
			Period:                  time.Duration(p.int("Period", 0)) * time.Second,
			EvaluationPeriods:       p.int("EvaluationPeriods", 0),
			DatapointsToAlarm:       p.int("DatapointsToAlarm", 0),
			Threshold:               p.float("Threshold"),
			ComparisonOperator:      p.str("ComparisonOperator", true),
			TreatMissingData:        p.str("TreatMissingData", false),
			Unit:                    p.str("Unit", false),
			AlarmActions:            p.strs("AlarmActions"),
			OKActions:               p.strs("OKActions"),
			InsufficientDataActions: p.strs("InsufficientDataActions"),
			ARN:                     attrs[id]["Arn"],
			AccountID:               env.AccountID,
			Region:                  env.Region,
		}
		for i, d := range p.list("Dimensions") {
			dp := p.sub(fmt.Sprintf("Dimensions[%d]", i), d)
			c.Dimensions = append(c.Dimensions, alarm.Dimension{Name: dp.str("Name", true), Value: dp.str("Value", true)})
			p.errs = append(p.errs, dp.errs...)
		}
		if err := p.err(); err != nil {
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

// subscriptionSpec is an AWS::Logs::SubscriptionFilter of a watched log
// group.
type subscriptionSpec struct {
	id, name    string
	group       string
	pattern     *filterpattern.Pattern
	destination string // the logical id of the destination function
}

// subscriptionFilters returns the subscription filters of group (of every
// group when group is ""); each must deliver to a function of the template.
func subscriptionFilters(t *samtemplate.Template, env *samtemplate.Env, attrs map[string]map[string]string, group string) ([]subscriptionSpec, error) {
	var (
		out  []subscriptionSpec
		errs []error
	)
	for id, p := range activeResources(t, env, "AWS::Logs::SubscriptionFilter", &errs) {
		g := p.str("LogGroupName", true)
		if group != "" && g != group {
			continue
		}
		spec := subscriptionSpec{id: id, name: env.PhysicalIDs[id], group: g}
		if name := p.str("FilterName", false); name != "" {
			spec.name = name
		}
		pattern, err := filterpattern.Parse(p.str("FilterPattern", false))
		if err != nil {
			p.fail("FilterPattern", err)
		}
		spec.pattern = pattern
		spec.destination = destinationFunction(t, attrs, p, "DestinationArn", p.str("DestinationArn", true))
		if err := p.err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, spec)
	}
	return out, errors.Join(errs...)
}

// destinationFunction returns the logical id of the function whose ARN is
// dest; anything else fails key of p.
func destinationFunction(t *samtemplate.Template, attrs map[string]map[string]string, p *props, key, dest string) string {
	for fn, a := range attrs {
		if a["Arn"] == dest && isFunction(t, fn) {
			return fn
		}
	}
	if dest != "" {
		p.fail(key, fmt.Errorf("%s is not a function of the template; only Lambda destinations run locally", dest))
	}
	return ""
}

func isFunction(t *samtemplate.Template, id string) bool {
	r, err := t.Resource(id)
	return err == nil && (r.Type == "AWS::Serverless::Function" || r.Type == "AWS::Lambda::Function")
}

// functionSpec is what the twin needs of a function: its code directory,
// environment, timeout and asynchronous invocation settings.
type functionSpec struct {
	codeURI  string
	env      map[string]string
	logGroup string // LoggingConfig.LogGroup
	invoke   InvokeConfig
	dlqARN   string // EventInvokeConfig.DestinationConfig.OnFailure.Destination
}

// Lambda's defaults for what a function leaves unset.
const (
	defaultTimeout     = 3 * time.Second
	defaultMaxRetries  = 2
	defaultMaxEventAge = 6 * time.Hour
)

// function reads a function's settings, with the template's
// Globals.Function as defaults.
func function(t *samtemplate.Template, env *samtemplate.Env, attrs map[string]map[string]string, id string) (functionSpec, error) {
	p, err := resolved(t, env, id)
	if err != nil {
		return functionSpec{}, err
	}
	globals, err := t.Eval(t.Globals["Function"], env)
	if err != nil {
		return functionSpec{}, fmt.Errorf("Globals.Function: %w", err)
	}
	g, _ := globals.(map[string]any)
	gp := &props{where: "Globals.Function.", m: g}
	timeout := p.int("Timeout", gp.int("Timeout", int(defaultTimeout/time.Second)))
	logGroup := p.str("LoggingConfig.LogGroup", false)
	if logGroup == "" {
		logGroup = gp.str("LoggingConfig.LogGroup", false)
	}
	spec := functionSpec{
		codeURI:  p.str("CodeUri", false),
		env:      map[string]string{},
		logGroup: logGroup,
		invoke: InvokeConfig{
			FunctionARN: attrs[id]["Arn"],
			MaxRetries:  p.int("EventInvokeConfig.MaximumRetryAttempts", defaultMaxRetries),
			MaxEventAge: time.Duration(p.int("EventInvokeConfig.MaximumEventAgeInSeconds", int(defaultMaxEventAge/time.Second))) * time.Second,
			Timeout:     time.Duration(timeout) * time.Second,
		},
		dlqARN: p.str("EventInvokeConfig.DestinationConfig.OnFailure.Destination", false),
	}
	if vars, ok := p.value("Environment.Variables"); ok {
		m, _ := vars.(map[string]any)
		for k, v := range m {
			s, err := samtemplate.String(v)
			if err != nil {
				p.fail("Environment.Variables."+k, err)
			}
			spec.env[k] = s
		}
	}
	return spec, errors.Join(p.err(), gp.err())
}

// shortestPeriod is the shortest alarm period, or a minute without alarms.
func shortestPeriod(cfgs []alarm.Config) time.Duration {
	p := time.Minute
	for i, c := range cfgs {
		if i == 0 || c.Period < p {
			p = c.Period
		}
	}
	return p
}
