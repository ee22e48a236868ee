package alarm_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/alarm"
)

// Sources of the missing-data tables.
const (
	// docMissingData is the current page; the same tables were in
	// AlarmThatSendsEmail.html#alarms-evaluating-missing-data before the
	// user guide split it.
	docMissingData = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html " +
		"(How alarm state is evaluated when data is missing)"
	// docMissingDataOld is an earlier revision of the section, kept in the
	// awsdocs/amazon-cloudwatch-user-guide repository, with two rows the
	// current page dropped.
	docMissingDataOld = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html " +
		"(earlier revision, awsdocs/amazon-cloudwatch-user-guide doc_source/AlarmThatSendsEmail.md)"
	// docPremature is the subsection that explains row 5 of both tables.
	docPremature = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html " +
		"(Avoiding premature transitions to alarm state)"
)

// retain marks a "Retain current state" cell.
const retain = "retain"

// docRow is one row of a documentation table: the five most recent
// datapoints (newest on the right) and the state for each treatment of
// missing data.
type docRow struct {
	source    string
	row       int
	points    string
	missing   string
	ignore    string
	breaching string
	notBreach string
}

// The first table: Datapoints to Alarm and Evaluation Periods both 3,
// evaluation range 5.
var table3of3 = []docRow{
	{docMissingData, 1, "0 - X - X", "OK", "OK", "OK", "OK"},
	{docMissingData, 2, "0 - - - -", "OK", "OK", "OK", "OK"},
	{docMissingData, 3, "- - - - -", "INSUFFICIENT_DATA", retain, "ALARM", "OK"},
	{docMissingData, 4, "0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"},
	{docMissingData, 5, "- - X - -", "ALARM", retain, "ALARM", "OK"},
	// Rows of the earlier revision that the current page no longer shows.
	{docMissingDataOld, 5, "- - - - X", "INSUFFICIENT_DATA", retain, "ALARM", "OK"},
	{docMissingDataOld, 6, "X - - - -", "ALARM", retain, "ALARM", "OK"},
}

// The second table: Datapoints to Alarm 2, Evaluation Periods 3 (2 out of
// 3), evaluation range 5.
var table2of3 = []docRow{
	{docMissingData, 1, "0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"},
	{docMissingData, 2, "0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"},
	{docMissingData, 3, "0 - X - -", "OK", "OK", "ALARM", "OK"},
	{docMissingData, 4, "- - - - 0", "OK", "OK", "ALARM", "OK"},
	{docMissingData, 5, "- - - X -", "ALARM", retain, "ALARM", "OK"},
}

// TestMissingDataTables reproduces the documentation's tables cell by cell,
// from each possible current state.
func TestMissingDataTables(t *testing.T) {
	tables := []struct {
		name string
		m    int
		rows []docRow
	}{
		{"3 out of 3", 3, table3of3},
		{"2 out of 3", 2, table2of3},
	}
	for _, table := range tables {
		for _, row := range table.rows {
			cells := []struct{ treat, want string }{
				{alarm.TreatMissing, row.missing},
				{alarm.TreatIgnore, row.ignore},
				{alarm.TreatBreaching, row.breaching},
				{alarm.TreatNotBreaching, row.notBreach},
			}
			for _, cell := range cells {
				for _, initial := range []alarm.State{alarm.StateInsufficientData, alarm.StateOK, alarm.StateAlarm} {
					name := fmt.Sprintf("%s/row %d [%s]/%s/from %s", table.name, row.row, row.points, cell.treat, initial)
					t.Run(name, func(t *testing.T) {
						c := baseConfig()
						c.DatapointsToAlarm = table.m
						c.TreatMissingData = cell.treat
						ev := newEvaluator(t, c, initial)

						tr, changed, err := ev.Evaluate(patternNow, patternSamples(t, c, row.points))
						require.NoError(t, err, row.source)

						want := alarm.State(cell.want)
						if cell.want == retain {
							want = initial
						}
						assert.Equal(t, want, ev.State(), "source: %s, row %d", row.source, row.row)
						assert.Equal(t, want != initial, changed, "source: %s, row %d", row.source, row.row)
						if changed {
							assert.Equal(t, initial, tr.Old)
							assert.Equal(t, want, tr.New)
							assert.NotEmpty(t, tr.Reason)
						}
					})
				}
			}
		}
	}
}

// TestMissingDataNextEvaluation checks the documentation's remark on row 2 of
// the first table: with breaching, the alarm stays OK while the non-breaching
// datapoint is in the evaluation range and goes to ALARM once it leaves.
func TestMissingDataNextEvaluation(t *testing.T) {
	c := baseConfig()
	c.TreatMissingData = alarm.TreatBreaching
	ev := newEvaluator(t, c, alarm.StateOK)
	samples := patternSamples(t, c, "0 - - - -")

	_, changed, err := ev.Evaluate(patternNow, samples)
	require.NoError(t, err, docMissingData)
	assert.False(t, changed)
	assert.Equal(t, alarm.StateOK, ev.State())

	tr, changed, err := ev.Evaluate(patternNow.Add(c.Period), samples)
	require.NoError(t, err)
	assert.True(t, changed, docMissingData)
	assert.Equal(t, alarm.StateAlarm, tr.New)
	assert.Equal(t, "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].", tr.Reason)
}

// TestPrematureAlarm follows the subsection on premature transitions: with
// missing data treated as missing, a lone breaching datapoint only moves the
// alarm to ALARM once it is at least DatapointsToAlarm periods old.
func TestPrematureAlarm(t *testing.T) {
	tests := []struct {
		name   string
		m      int
		points string
		want   alarm.State
	}{
		{"3 of 3, newest breaching", 3, "- - - - X", alarm.StateInsufficientData},
		{"3 of 3, second newest breaching", 3, "- - - X -", alarm.StateInsufficientData},
		{"3 of 3, breaching 3 periods old", 3, "- - X - -", alarm.StateAlarm},
		{"3 of 3, then a non-breaching datapoint", 3, "- - - X 0", alarm.StateOK},
		{"3 of 3, two recent breaching", 3, "- - - X X", alarm.StateInsufficientData},
		{"2 of 3, breaching 2 periods old", 2, "- - - X -", alarm.StateAlarm},
		{"2 of 3, newest breaching", 2, "- - - - X", alarm.StateInsufficientData},
		{"2 of 3, older non-breaching datapoint", 2, "0 - X - -", alarm.StateOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := baseConfig()
			c.DatapointsToAlarm = tc.m
			ev := newEvaluator(t, c, alarm.StateOK)

			_, _, err := ev.Evaluate(patternNow, patternSamples(t, c, tc.points))
			require.NoError(t, err)
			assert.Equal(t, tc.want, ev.State(), docPremature)
		})
	}
}
