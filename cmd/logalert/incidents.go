package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/logalert/logalert/internal/incident"
	"github.com/logalert/logalert/internal/store"
)

// incidentCommands are the subcommands of `logalert incidents`.
var incidentCommands = map[string]command{
	"list":          {"list incidents, most recently seen first (--watch follows changes)", runList},
	"show":          {"show every field of an incident, its sample message and a Logs Insights link", runShow},
	"ack":           {"acknowledge OPEN incidents", runAck},
	"resolve":       {"resolve OPEN or ACKNOWLEDGED incidents", runResolve},
	"stats":         {"count incidents by status, severity and log group", runStats},
	"export":        {"write a JSON or YAML report of incidents, locally and optionally to S3", runExport},
	"migrate-index": {"once, after upgrading: give incidents written before the sharded status index its key", runMigrateIndex},
}

// incidentsCLI is `logalert incidents`.
var incidentsCLI = commandSet{
	prefix: "logalert incidents", item: "subcommand", commands: incidentCommands, errors: "incidents: ",
	footer: "\nThe table comes from --table, --stack (its IncidentsTableName output) or $" + tableEnv + ",\n" +
		"else from the stack $" + stackEnv + " or " + samconfigFile + "'s stack_name names.\n" +
		"Run 'logalert incidents <subcommand> -h' for its flags.\n",
}

// runIncidents is `logalert incidents`: it dispatches to its subcommands.
func runIncidents(ctx context.Context, args []string, e *env) error {
	return incidentsCLI.dispatch(ctx, args, e)
}

// filterFlags are the incident filters of list, stats and export.
type filterFlags struct {
	status, logGroup, since, account string
	limit                            int
}

func addFilterFlags(fs *pflag.FlagSet, limit int) *filterFlags {
	f := &filterFlags{}
	fs.StringVar(&f.status, "status", "", "only incidents with this `status`: open, acknowledged (ack) or resolved")
	fs.StringVar(&f.logGroup, "log-group", "", "only incidents of this log `group` (exact name)")
	addAccountFlag(fs, &f.account)
	fs.StringVar(&f.since, "since", "", "only incidents last seen since `when`: a duration (90m, 24h, 7d) or a time (2026-11-25, RFC 3339)")
	if limit >= 0 {
		fs.IntVar(&f.limit, "limit", limit, "show at most `N` incidents, the most recently seen (0: all)")
	}
	return f
}

// addAccountFlag adds --account to fs.
func addAccountFlag(fs *pflag.FlagSet, account *string) {
	fs.StringVar(account, "account", "", "only incidents of this AWS `account` (12 digits; incidents stored before accounts were recorded have none)")
}

// checkAccount checks an --account value.
func checkAccount(account string) error {
	if account != "" && !accountPattern.MatchString(account) {
		return usagef("--account %q: want a 12-digit AWS account id", account)
	}
	return nil
}

// accountPattern matches an AWS account id.
var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

func (f *filterFlags) filter(now time.Time) (store.Filter, error) {
	out := store.Filter{LogGroup: f.logGroup, Account: f.account, Limit: f.limit}
	if f.limit < 0 {
		return out, usagef("--limit must be 0 or more")
	}
	if err := checkAccount(f.account); err != nil {
		return out, err
	}
	if f.status != "" {
		s, err := parseStatus(f.status)
		if err != nil {
			return out, err
		}
		out.Status = s
	}
	if f.since != "" {
		t, err := parseSince(f.since, now)
		if err != nil {
			return out, err
		}
		out.Since = t
	}
	return out, nil
}

func parseStatus(s string) (incident.Status, error) {
	switch strings.ToUpper(s) {
	case "OPEN":
		return incident.StatusOpen, nil
	case "ACKNOWLEDGED", "ACK", "ACKED":
		return incident.StatusAcknowledged, nil
	case "RESOLVED":
		return incident.StatusResolved, nil
	}
	return "", usagef("--status must be open, acknowledged or resolved, not %q", s)
}

// parseSince reads a duration back from now (Go syntax, plus whole days:
// 7d) or a time: RFC 3339, or a UTC date or date and minute.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("--since %q: want a duration (90m, 24h, 7d) or a time (2026-11-25, 2026-11-25T14:00:00Z)", s)
}

// parseNoArgs parses args for a subcommand that takes flags only: a
// positional argument is a usageError.
func parseNoArgs(fs *pflag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return usagef("%s takes no arguments, got %q", fs.Name(), pos[0])
	}
	return nil
}

// runList is `logalert incidents list`.
func runList(ctx context.Context, args []string, e *env) error {
	stdout, stderr := e.stdout, e.stderr
	fs := newFlagSet("incidents list", "incidents list [--status S] [--log-group G] [--account ID] [--since 24h] [--limit N] [--watch [--interval 5s]] [--width N] [-o table|json|yaml] "+stackSynopsis, stderr)
	sf := addStackFlags(fs, e)
	ff := addFilterFlags(fs, 50)
	output := addOutputFlag(fs, formatTable, "")
	watch := fs.Bool("watch", false, "keep running and print incidents as they are opened or change, until Ctrl-C (json: one object a line; yaml: one list item each)")
	interval := fs.Duration("interval", 5*time.Second, "how often --watch polls")
	width := fs.Int("width", 0, "width of the table in `columns`, the template cut to fit (default: the terminal's, or 100)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if *interval <= 0 {
		return usagef("--interval must be positive")
	}
	if *width < 0 {
		return usagef("--width must be positive")
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	cols := tableWidth(*width, stdout)
	if *watch {
		return watchIncidents(ctx, st, filter, *interval, *output, cols, d.aws.Region, stdout, stderr)
	}
	f := filter
	if f.Limit > 0 {
		f.Limit++ // one more tells whether there are more
	}
	ins, err := st.List(ctx, f)
	if err != nil {
		return explainTable(err, table, d)
	}
	more := filter.Limit > 0 && len(ins) > filter.Limit
	if more {
		ins = ins[:filter.Limit]
	}
	if *output != formatTable {
		return writeValue(stdout, *output, viewsOf(ins, d.aws.Region))
	}
	if len(ins) == 0 {
		fmt.Fprintln(stderr, "no incidents")
		return nil
	}
	t := incidentTable(stdout, cols, ins)
	if err := t.header(); err != nil {
		return err
	}
	for _, in := range ins {
		if err := t.incident(in); err != nil {
			return err
		}
	}
	if more {
		fmt.Fprintf(stderr, "showing the %d most recently seen incidents; --limit 0 lists them all\n", filter.Limit)
	}
	return nil
}

// watchIncidents is list --watch: the list, then every change, until ctx
// ends (Ctrl-C), which is not an error.
func watchIncidents(ctx context.Context, st *store.Store, f store.Filter, interval time.Duration, output string, width int, region string, stdout, stderr io.Writer) error {
	t := incidentTable(stdout, width, nil)
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if output == formatTable {
		if err := t.header(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "watching for new and changed incidents every %s; Ctrl-C stops\n", interval)
	err := st.Watch(ctx, f, interval, func(ins []incident.Incident) error {
		for _, in := range ins {
			var err error
			switch output {
			case formatJSON:
				err = enc.Encode(viewOf(in, region))
			case formatYAML:
				err = writeYAML(stdout, []incidentView{viewOf(in, region)})
			default:
				err = t.incident(in)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// runShow is `logalert incidents show`.
func runShow(ctx context.Context, args []string, e *env) error {
	stdout := e.stdout
	fs := newFlagSet("incidents show", "incidents show [--account ID] [-o table|json|yaml] "+stackSynopsis+" ID", e.stderr)
	sf := addStackFlags(fs, e)
	var account string
	addAccountFlag(fs, &account)
	output := addOutputFlag(fs, formatTable, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usagef("incidents show takes one incident ID (or a unique prefix of one)")
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	if err := checkAccount(account); err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	in, err := st.FindIn(ctx, pos[0], account)
	if err != nil {
		return explainFind(err, table, d)
	}
	if *output != formatTable {
		return writeValue(stdout, *output, viewOf(in, d.aws.Region))
	}
	return writeIncident(stdout, in, d.aws.Region)
}

func explainFind(err error, table string, d *deployment) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w in table %s", err, table)
	case errors.Is(err, store.ErrAmbiguous):
		// The store's text starts with its package name; the candidates
		// follow it.
		detail, ok := strings.CutPrefix(err.Error(), store.ErrAmbiguous.Error()+": ")
		if !ok {
			detail = strings.TrimPrefix(err.Error(), "store: ")
		}
		return reworded{"ambiguous incident ID prefix: " + detail + ": type more of the ID", err}
	}
	return explainTable(err, table, d)
}

// reworded is an error with a message for people that keeps what it
// wraps for errors.Is and errors.As.
type reworded struct {
	msg string
	err error
}

func (e reworded) Error() string { return e.msg }

func (e reworded) Unwrap() error { return e.err }

// runAck is `logalert incidents ack`.
func runAck(ctx context.Context, args []string, e *env) error {
	return runTransition(ctx, args, e, "ack", incident.StatusAcknowledged, "acknowledged", (*store.Store).Acknowledge)
}

// runResolve is `logalert incidents resolve`.
func runResolve(ctx context.Context, args []string, e *env) error {
	return runTransition(ctx, args, e, "resolve", incident.StatusResolved, "resolved", (*store.Store).Resolve)
}

// runTransition moves each incident named in args to status target and
// reports every one that could not be moved. One already there is not an
// error (a notice on stderr says so, and -o json lists it) unless --strict.
func runTransition(ctx context.Context, args []string, e *env, name string, target incident.Status, done string,
	move func(*store.Store, context.Context, string, string) (incident.Incident, error)) error {
	stdout := e.stdout
	fs := newFlagSet("incidents "+name, "incidents "+name+" [--by NAME] [--strict] [-o table|json|yaml] "+stackSynopsis+" ID...", e.stderr)
	sf := addStackFlags(fs, e)
	output := addOutputFlag(fs, formatTable, "")
	by := fs.String("by", "", "who is acting (default $USER, else the OS user's name)")
	strict := fs.Bool("strict", false, "fail (exit 1) on an incident that is already "+done+", as on any other status that does not allow the change")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("incidents %s takes one or more incident IDs (or unique prefixes)", name)
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	who, err := actor(*by, fs.Changed("by"), e)
	if err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	var (
		moved []incidentView
		errs  []error
	)
	for _, ref := range pos {
		in, err := st.Find(ctx, ref)
		already := err == nil && in.Status == target && !*strict
		if err == nil && !already {
			id := in.ID
			in, err = move(st, ctx, id, who)
			if errors.Is(err, incident.ErrTransition) && !*strict {
				// Someone may have made the same change since Find.
				if now, ferr := st.Get(ctx, id); ferr == nil && now.Status == target {
					in, err, already = now, nil, true
				}
			}
		}
		if already {
			by, at := in.AcknowledgedBy, in.AcknowledgedAt
			if target == incident.StatusResolved {
				by, at = in.ResolvedBy, in.ResolvedAt
			}
			fmt.Fprintf(e.stderr, "%s is already %s (by %s at %s): nothing to do\n", in.ID, done, by, at.UTC().Format(time.RFC3339))
		}
		if err != nil {
			errs = append(errs, explainFind(err, table, d))
			continue
		}
		if *output != formatTable {
			moved = append(moved, viewOf(in, d.aws.Region))
			continue
		}
		if !already {
			fmt.Fprintf(stdout, "%s %s by %s: %s\n", done, in.ID, who, truncate(oneLine(in.Template), 80, false))
		}
	}
	if *output != formatTable {
		if moved == nil {
			moved = []incidentView{}
		}
		if err := writeValue(stdout, *output, moved); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// actor is who acknowledges or resolves: --by when given (and not blank),
// else $USER, else the OS user's name (containers often set no $USER).
func actor(by string, given bool, e *env) (string, error) {
	if given {
		if strings.TrimSpace(by) == "" {
			return "", usagef("--by is required: name who is acting")
		}
		return by, nil
	}
	if u := strings.TrimSpace(e.getenv("USER")); u != "" {
		return u, nil
	}
	u, err := e.username()
	switch {
	case err != nil:
		return "", usagef("--by is required: $USER is not set and the OS user is unknown (%v)", err)
	case strings.TrimSpace(u) == "":
		return "", usagef("--by is required: $USER is not set and the OS user has no name")
	}
	return u, nil
}

// runMigrateIndex is `logalert incidents migrate-index`: it gives every
// incident written before the status index was sharded its status_shard
// (store.MigrateIndex), printing progress on stderr and the counts on
// stdout. Running it again is safe and continues what an interrupted run
// left.
func runMigrateIndex(ctx context.Context, args []string, e *env) error {
	fs := newFlagSet("incidents migrate-index", "incidents migrate-index "+stackSynopsis, e.stderr)
	sf := addStackFlags(fs, e)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	m, err := st.MigrateIndex(ctx, func(m store.Migration) {
		fmt.Fprintf(e.stderr, "scanned %d incidents without status_shard so far\n", m.Scanned)
	})
	fmt.Fprintf(e.stdout, "%s: %d incidents lacked status_shard: %d migrated, %d already had it by then\n", table, m.Scanned, m.Migrated, m.Skipped)
	if err != nil {
		return explainTable(err, table, d)
	}
	return nil
}

// runStats is `logalert incidents stats`.
func runStats(ctx context.Context, args []string, e *env) error {
	stdout := e.stdout
	fs := newFlagSet("incidents stats", "incidents stats [--status S] [--log-group G] [--account ID] [--by-account] [--since 24h] [-o table|json|yaml] "+stackSynopsis, e.stderr)
	sf := addStackFlags(fs, e)
	ff := addFilterFlags(fs, -1)
	byAccount := fs.Bool("by-account", false, "count by account too (reads every counted incident from the table; --account implies it)")
	output := addOutputFlag(fs, formatTable, "")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	filter, err := ff.filter(time.Now())
	if err != nil {
		return err
	}
	st, d, table, err := sf.openStore(ctx)
	if err != nil {
		return err
	}
	count := st.Stats
	if *byAccount {
		count = st.StatsByAccount
	}
	s, err := count(ctx, filter)
	if err != nil {
		return explainTable(err, table, d)
	}
	if *output != formatTable {
		return writeValue(stdout, *output, statsViewOf(s))
	}
	return writeStats(stdout, s)
}

// tallyView is a store.Tally in JSON.
type tallyView struct {
	Incidents   int   `json:"incidents" yaml:"incidents"`
	Occurrences int64 `json:"occurrences" yaml:"occurrences"`
}

// statsView is store.Stats in JSON and in export's summary.
type statsView struct {
	Total      tallyView            `json:"total" yaml:"total"`
	ByStatus   map[string]tallyView `json:"by_status" yaml:"by_status"`
	BySeverity map[string]tallyView `json:"by_severity" yaml:"by_severity"`
	ByLogGroup map[string]tallyView `json:"by_log_group" yaml:"by_log_group"`
	// ByAccount counts by AWS account, when counted (stats --by-account or
	// --account, export); "" holds incidents stored before accounts were
	// recorded.
	ByAccount map[string]tallyView `json:"by_account,omitempty" yaml:"by_account,omitempty"`
}

func statsViewOf(s store.Stats) statsView {
	v := statsView{
		Total:      tallyView(s.Total),
		ByStatus:   map[string]tallyView{},
		BySeverity: map[string]tallyView{},
		ByLogGroup: map[string]tallyView{},
	}
	for _, st := range []incident.Status{incident.StatusOpen, incident.StatusAcknowledged, incident.StatusResolved} {
		v.ByStatus[string(st)] = tallyView(s.ByStatus[st])
	}
	for sev, t := range s.BySeverity {
		v.BySeverity[sev.String()] = tallyView(t)
	}
	for g, t := range s.ByLogGroup {
		v.ByLogGroup[g] = tallyView(t)
	}
	if s.ByAccount != nil {
		v.ByAccount = map[string]tallyView{}
		for a, t := range s.ByAccount {
			v.ByAccount[a] = tallyView(t)
		}
	}
	return v
}

// statsOf counts incidents already read (export's summary).
func statsOf(ins []incident.Incident) store.Stats {
	s := store.NewStats()
	for _, in := range ins {
		s.Add(in)
	}
	return s
}

// writeStats writes three tables: by status (all three, in life-cycle
// order), by severity (most severe first) and by log group (most incidents
// first), and a fourth by account (most incidents first; "-" for none)
// when s counts accounts.
func writeStats(w io.Writer, s store.Stats) error {
	var buf strings.Builder
	section := func(title string, width int) table {
		return table{w: &buf, cols: []column{{title: title, width: width}, {title: "INCIDENTS", width: 9, right: true}, {title: "OCCURRENCES", width: 11, right: true}}}
	}
	tally := func(t table, name string, n store.Tally) {
		t.row(name, strconv.Itoa(n.Incidents), strconv.FormatInt(n.Occurrences, 10))
	}
	t := section("STATUS", 12)
	t.header()
	for _, st := range []incident.Status{incident.StatusOpen, incident.StatusAcknowledged, incident.StatusResolved} {
		tally(t, string(st), s.ByStatus[st])
	}
	tally(t, "total", s.Total)

	buf.WriteString("\n")
	t = section("SEVERITY", 12)
	t.header()
	sevs := make([]incident.Severity, 0, len(s.BySeverity))
	for sev := range s.BySeverity {
		sevs = append(sevs, sev)
	}
	slices.SortFunc(sevs, func(a, b incident.Severity) int { return cmp.Compare(b, a) })
	for _, sev := range sevs {
		tally(t, sev.String(), s.BySeverity[sev])
	}

	buf.WriteString("\n")
	byCount := func(title string, m map[string]store.Tally, label func(string) string) {
		keys := make([]string, 0, len(m))
		width := len(title)
		for k := range m {
			keys = append(keys, k)
			width = max(width, len(label(k)))
		}
		slices.SortFunc(keys, func(a, b string) int {
			return cmp.Or(cmp.Compare(m[b].Incidents, m[a].Incidents), strings.Compare(a, b))
		})
		t := section(title, min(width, 60))
		t.cols[0].tail = true
		t.header()
		for _, k := range keys {
			tally(t, label(k), m[k])
		}
	}
	byCount("LOG GROUP", s.ByLogGroup, func(g string) string { return g })
	if s.ByAccount != nil {
		buf.WriteString("\n")
		byCount("ACCOUNT", s.ByAccount, accountLabel)
	}
	_, err := io.WriteString(w, buf.String())
	return err
}

// accountLabel is an account as the tables show it: "-" for none.
func accountLabel(account string) string {
	if account == "" {
		return "-"
	}
	return account
}
