package provision

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

// This file reads, from the template resolved against a Stack, what the
// local twin runs instead of AWS: the metric filters and subscription
// filters of a log group, the alarms on the filters' metrics and a
// function's settings. Nothing here calls AWS.

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
	Pattern         *filterpattern.Pattern
	Transformations []MetricTransformation
}

// SubscriptionFilter is an AWS::Logs::SubscriptionFilter of a log group
// that delivers to a function of the template.
type SubscriptionFilter struct {
	LogicalID, Name string
	Pattern         *filterpattern.Pattern
	Destination     string // the logical id of the destination function
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

// MetricFilters returns the metric filters of group. Every problem of
// every filter is reported together.
func (s *Stack) MetricFilters(t *samtemplate.Template, group string) ([]MetricFilter, error) {
	var (
		out  []MetricFilter
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::MetricFilter", &errs) {
		if p.Required("LogGroupName") != group {
			continue
		}
		mf := MetricFilter{Name: s.PhysicalIDs[id]}
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

// metric names a metric without dimensions.
type metric struct{ namespace, name string }

// Alarms returns the configurations of the active alarms on the metrics
// that filters produce, and the logical ids of the other alarms, which the
// twin cannot evaluate (metrics of other services).
func (s *Stack) Alarms(t *samtemplate.Template, filters []MetricFilter) (cfgs []alarm.Config, others []string, err error) {
	metrics := map[metric]bool{}
	for _, f := range filters {
		for _, m := range f.Transformations {
			metrics[metric{m.Namespace, m.MetricName}] = true
		}
	}
	var errs []error
	for id, p := range s.activeResources(t, "AWS::CloudWatch::Alarm", &errs) {
		if !metrics[metric{p.String("Namespace"), p.String("MetricName")}] {
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

// SubscriptionFilters returns the subscription filters of group; each must
// deliver to a function of the template.
func (s *Stack) SubscriptionFilters(t *samtemplate.Template, group string) ([]SubscriptionFilter, error) {
	var (
		out  []SubscriptionFilter
		errs []error
	)
	for id, p := range s.activeResources(t, "AWS::Logs::SubscriptionFilter", &errs) {
		if p.Required("LogGroupName") != group {
			continue
		}
		sf := SubscriptionFilter{LogicalID: id, Name: s.PhysicalIDs[id]}
		if name := p.String("FilterName"); name != "" {
			sf.Name = name
		}
		pattern, err := filterpattern.Parse(p.String("FilterPattern"))
		if err != nil {
			p.Fail("FilterPattern", err)
		}
		sf.Pattern = pattern
		dest := p.Required("DestinationArn")
		for fn, a := range s.Attributes {
			if a["Arn"] == dest && isFunction(t, fn) {
				sf.Destination = fn
			}
		}
		if sf.Destination == "" && dest != "" {
			p.Fail("DestinationArn", fmt.Errorf("%s is not a function of the template; only Lambda destinations run locally", dest))
		}
		if err := p.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, sf)
	}
	return out, errors.Join(errs...)
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
	return fn, errors.Join(p.Err(), gp.Err())
}
