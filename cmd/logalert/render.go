package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/notify"
	"github.com/logalert/logalert/internal/store"
)

// incidentView is an incident as -o json and export write it: the table's
// attribute names, times in UTC (store.TimeFormat), and the Logs Insights
// link of show.
type incidentView struct {
	ID             string `json:"incident_id" yaml:"incident_id"`
	AccountID      string `json:"account_id" yaml:"account_id"`
	Status         string `json:"status" yaml:"status"`
	Severity       string `json:"severity" yaml:"severity"`
	LogGroup       string `json:"log_group" yaml:"log_group"`
	LogStream      string `json:"log_stream,omitempty" yaml:"log_stream,omitempty"`
	Fingerprint    string `json:"fingerprint" yaml:"fingerprint"`
	Template       string `json:"template,omitempty" yaml:"template,omitempty"`
	Occurrences    int64  `json:"occurrences" yaml:"occurrences"`
	FirstSeen      string `json:"first_seen" yaml:"first_seen"`
	LastSeen       string `json:"last_seen" yaml:"last_seen"`
	SampleMessage  string `json:"sample_message" yaml:"sample_message"`
	ReopenCount    int64  `json:"reopen_count" yaml:"reopen_count"`
	CreatedAt      string `json:"created_at,omitempty" yaml:"created_at,omitempty"`
	UpdatedAt      string `json:"updated_at,omitempty" yaml:"updated_at,omitempty"`
	AcknowledgedBy string `json:"acknowledged_by,omitempty" yaml:"acknowledged_by,omitempty"`
	AcknowledgedAt string `json:"acknowledged_at,omitempty" yaml:"acknowledged_at,omitempty"`
	ResolvedBy     string `json:"resolved_by,omitempty" yaml:"resolved_by,omitempty"`
	ResolvedAt     string `json:"resolved_at,omitempty" yaml:"resolved_at,omitempty"`
	Version        int64  `json:"version" yaml:"version"`
	InsightsURL    string `json:"insights_url,omitempty" yaml:"insights_url,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(store.TimeFormat)
}

func viewOf(in incident.Incident, region string) incidentView {
	return incidentView{
		ID: in.ID, AccountID: in.AccountID, Status: string(in.Status), Severity: in.Severity.String(),
		LogGroup: in.LogGroup, LogStream: in.LogStream, Fingerprint: in.Fingerprint, Template: in.Template,
		Occurrences: in.Occurrences, FirstSeen: stamp(in.FirstSeen), LastSeen: stamp(in.LastSeen),
		SampleMessage: in.SampleMessage, ReopenCount: in.ReopenCount,
		CreatedAt: stamp(in.CreatedAt), UpdatedAt: stamp(in.UpdatedAt),
		AcknowledgedBy: in.AcknowledgedBy, AcknowledgedAt: stamp(in.AcknowledgedAt),
		ResolvedBy: in.ResolvedBy, ResolvedAt: stamp(in.ResolvedAt),
		Version: in.Version, InsightsURL: notify.IncidentInsightsURL(in, region),
	}
}

func viewsOf(ins []incident.Incident, region string) []incidentView {
	out := make([]incidentView, len(ins))
	for i, in := range ins {
		out[i] = viewOf(in, region)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeValue writes v as format: json or yaml.
func writeValue(w io.Writer, format string, v any) error {
	if format == formatYAML {
		return writeYAML(w, v)
	}
	return writeJSON(w, v)
}

// writeYAML writes v as YAML with the keys and key order of its JSON form,
// so that -o yaml and -o json always show the same fields.
func writeYAML(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil { // JSON is YAML
		return fmt.Errorf("encode yaml: %w", err)
	}
	blockStyle(&doc)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	return enc.Close()
}

// blockStyle drops the flow style and quotes that n had as JSON: the
// encoder quotes only the strings that need it.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// column is one column of a fixed-width table.
type column struct {
	title string
	width int
	right bool // numbers
	tail  bool // truncate on the left: the end of a log group names it
}

// table writes rows that fit a terminal: every cell padded or truncated to
// the width of its column, trailing blanks trimmed.
type table struct {
	w    io.Writer
	cols []column
}

func (t table) header() error {
	cells := make([]string, len(t.cols))
	for i, c := range t.cols {
		cells[i] = c.title
	}
	return t.row(cells...)
}

func (t table) row(cells ...string) error {
	var b strings.Builder
	for i, c := range t.cols {
		cell := truncate(oneLine(cells[i]), c.width, c.tail)
		pad := strings.Repeat(" ", c.width-utf8.RuneCountInString(cell))
		if c.right {
			b.WriteString(pad + cell)
		} else {
			b.WriteString(cell + pad)
		}
		if i < len(t.cols)-1 {
			b.WriteString("  ")
		}
	}
	_, err := io.WriteString(t.w, strings.TrimRight(b.String(), " ")+"\n")
	return err
}

// oneLine replaces control characters (newlines, tabs) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to width runes, marking the cut with "…".
func truncate(s string, width int, keepTail bool) string {
	n := utf8.RuneCountInString(s)
	if n <= width {
		return s
	}
	if width <= 0 {
		return ""
	}
	if width == 1 {
		return "…"
	}
	r := []rune(s)
	if keepTail {
		return "…" + string(r[n-width+1:])
	}
	return string(r[:width-1]) + "…"
}

// shortID is the part of an incident ID a listing shows ("inc-" and 8 hex
// digits); Find accepts it.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// statusLabel is the status as the table shows it.
func statusLabel(s incident.Status) string {
	if s == incident.StatusAcknowledged {
		return "ACKED"
	}
	return string(s)
}

// defaultWidth is the width of a table written anywhere but a terminal.
const defaultWidth = 100

// tableWidth is --width, or else the width of the terminal w is, or else
// defaultWidth.
func tableWidth(flagWidth int, w io.Writer) int {
	if flagWidth > 0 {
		return flagWidth
	}
	if f, ok := w.(*os.File); ok {
		if n, ok := terminalColumns(f); ok {
			return max(n, 60)
		}
	}
	return defaultWidth
}

// lastSeenLayout is the LAST SEEN column: UTC, to the minute.
const lastSeenLayout = "Jan _2 15:04"

// incidentTable lays out the incidents table in width columns. With rows,
// the COUNT and LOG GROUP columns fit them (LOG GROUP up to maxGroup), and
// an ACCOUNT column comes before LOG GROUP when they are of more than one
// account (none, for incidents stored before accounts were recorded,
// counting as one); without (watch), they are fixed and there is no
// ACCOUNT column. TEMPLATE takes the rest. When it would
// get narrower than minTemplate columns, LOG GROUP gives way first, down to
// minGroup columns (keeping the end of the name), and only then SEV goes
// (the template mostly starts with the level anyway).
func incidentTable(w io.Writer, width int, rows []incident.Incident) table {
	const minTemplate, minGroup, maxGroup = 24, 12, 48
	count, group := 5, 22
	accounts := map[string]bool{}
	if rows != nil {
		count, group = len("COUNT"), len("LOG GROUP")
		for _, in := range rows {
			count = max(count, len(strconv.FormatInt(in.Occurrences, 10)))
			group = max(group, utf8.RuneCountInString(in.LogGroup))
			accounts[in.AccountID] = true
		}
		group = min(group, maxGroup)
	}
	used := func(cols []column) int {
		n := 0
		for _, c := range cols {
			n += c.width + 2
		}
		return n
	}
	cols := []column{
		{title: "ID", width: 12},
		{title: "STATUS", width: 8},
		{title: "SEV", width: 5},
		{title: "COUNT", width: count, right: true},
		{title: "LAST SEEN", width: len(lastSeenLayout)},
		{title: "LOG GROUP", width: group, tail: true},
	}
	if len(accounts) > 1 {
		cols = slices.Insert(cols, len(cols)-1, column{title: "ACCOUNT", width: 12})
	}
	shrinkGroup := func() {
		if short := minTemplate - (width - used(cols)); short > 0 {
			g := &cols[len(cols)-1]
			g.width -= min(short, max(g.width-minGroup, 0))
		}
	}
	shrinkGroup()
	if width-used(cols) < minTemplate {
		cols = slices.Delete(cols, 2, 3)
		cols[len(cols)-1].width = group
		shrinkGroup()
	}
	return table{w: w, cols: append(cols, column{title: "TEMPLATE", width: max(width-used(cols), 8)})}
}

// severityLabel is the severity as the table shows it, in five columns.
func severityLabel(s incident.Severity) string {
	if s == incident.SeverityCritical {
		return "CRIT"
	}
	return s.String()
}

func (t table) incident(in incident.Incident) error {
	cells := make([]string, 0, len(t.cols))
	for _, c := range t.cols {
		switch c.title {
		case "ID":
			cells = append(cells, shortID(in.ID))
		case "STATUS":
			cells = append(cells, statusLabel(in.Status))
		case "SEV":
			cells = append(cells, severityLabel(in.Severity))
		case "COUNT":
			cells = append(cells, strconv.FormatInt(in.Occurrences, 10))
		case "LAST SEEN":
			cells = append(cells, in.LastSeen.UTC().Format(lastSeenLayout))
		case "ACCOUNT":
			cells = append(cells, accountLabel(in.AccountID))
		case "LOG GROUP":
			cells = append(cells, in.LogGroup)
		case "TEMPLATE":
			cells = append(cells, in.Template)
		}
	}
	return t.row(cells...)
}

// writeIncident writes every field of in, the sample message and the Logs
// Insights link (show).
func writeIncident(w io.Writer, in incident.Incident, region string) error {
	var b strings.Builder
	row := func(k, v string) {
		if v == "" {
			v = "-"
		}
		fmt.Fprintf(&b, "%-16s %s\n", k, v)
	}
	who := func(by string, at time.Time) string {
		if by == "" && at.IsZero() {
			return ""
		}
		return by + " at " + stamp(at)
	}
	row("Incident", in.ID)
	row("Account", in.AccountID)
	row("Status", string(in.Status))
	row("Severity", in.Severity.String())
	row("Log group", in.LogGroup)
	row("Log stream", in.LogStream)
	row("Occurrences", strconv.FormatInt(in.Occurrences, 10))
	row("First seen", stamp(in.FirstSeen))
	row("Last seen", stamp(in.LastSeen))
	row("Reopened", fmt.Sprintf("%d times", in.ReopenCount))
	row("Acknowledged", who(in.AcknowledgedBy, in.AcknowledgedAt))
	row("Resolved", who(in.ResolvedBy, in.ResolvedAt))
	row("Created", stamp(in.CreatedAt))
	row("Updated", stamp(in.UpdatedAt))
	row("Version", strconv.FormatInt(in.Version, 10))
	row("Fingerprint", in.Fingerprint)
	row("Template", in.Template)
	fmt.Fprintf(&b, "\nSample message (secrets redacted):\n  %s\n", strings.ReplaceAll(in.SampleMessage, "\n", "\n  "))
	if u := notify.IncidentInsightsURL(in, region); u != "" {
		from, to := notify.IncidentWindow(in)
		fmt.Fprintf(&b, "\nLogs Insights, %s to %s:\n  %s\n", stamp(from), stamp(to), u)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
