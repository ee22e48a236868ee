package main

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/logalert/logalert/internal/incident"
)

func TestIncidentTableColumns(t *testing.T) {
	long := []incident.Incident{{LogGroup: "/aws/lambda/logalert-emitter", Occurrences: 120}} // 28 runes
	short := []incident.Incident{{LogGroup: "/app/api", Occurrences: 7}}
	tests := []struct {
		name     string
		width    int
		rows     []incident.Incident
		titles   []string
		group    int // LOG GROUP's width
		template int // TEMPLATE's width
	}{
		{"wide: the whole group name", 160, long,
			[]string{"ID", "STATUS", "SEV", "COUNT", "LAST SEEN", "LOG GROUP", "TEMPLATE"}, 28, 78},
		{"100 columns: the group shrinks, SEV stays", 100, long,
			[]string{"ID", "STATUS", "SEV", "COUNT", "LAST SEEN", "LOG GROUP", "TEMPLATE"}, 22, 24},
		{"narrow: SEV goes only once the group is at its minimum", 80, long,
			[]string{"ID", "STATUS", "COUNT", "LAST SEEN", "LOG GROUP", "TEMPLATE"}, 12, 21},
		{"short names leave room to the template", 100, short,
			[]string{"ID", "STATUS", "SEV", "COUNT", "LAST SEEN", "LOG GROUP", "TEMPLATE"}, 9, 37},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl := incidentTable(io.Discard, tc.width, tc.rows)
			titles, widths, total := []string{}, map[string]int{}, 0
			for _, c := range tbl.cols {
				titles = append(titles, c.title)
				widths[c.title] = c.width
				total += c.width + 2
			}
			assert.LessOrEqual(t, total-2, tc.width, "the table fits")
			assert.Equal(t, tc.titles, titles)
			assert.Equal(t, tc.group, widths["LOG GROUP"])
			assert.Equal(t, tc.template, widths["TEMPLATE"])
		})
	}
}
