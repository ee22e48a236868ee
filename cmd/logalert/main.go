package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errNoMatch): // like grep: the count on stderr says it
		os.Exit(1)
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "logalert:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "logalert:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line; it exits with status 2.
// It wraps what it was made of, for errors.Is and errors.As.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

func (e usageError) Unwrap() error { return e.err }

// usagef is a usageError formatted as fmt.Errorf does (%w wraps).
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// env is what a command reads and writes instead of the process's globals:
// run's parameters, and who the OS says the user is.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	username       func() (string, error) // the OS user, for --by when $USER is unset
}

// osUsername is the name of the OS user running the CLI.
func osUsername() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, e *env) error
}

// commands lists the subcommands.
var commands = map[string]command{
	"test-pattern": {"test a CloudWatch Logs filter pattern against log lines", runTestPattern},
	"incidents":    {"list, show, acknowledge, resolve, count and export incidents", runIncidents},
	"redrive":      {"feed the deliveries in the dead-letter queue back to the processor", runRedrive},
	"demo":         {"run the whole pipeline on this machine against moto_server (no AWS account)", runDemo},
	"check-groups": {"before a deploy: check that the LogGroupNames exist and can take the stack's filters", runCheckGroups},
}

// cli is the top level of the command line.
var cli = commandSet{
	prefix: "logalert", item: "command", commands: commands,
	footer: "\nRun 'logalert <command> -h' for a command's flags.\n",
}

// run is the whole CLI: it dispatches args to a subcommand, which reads
// stdin and the environment (getenv) and writes stdout and stderr, and
// nothing else of the process's.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	return cli.dispatch(ctx, args, &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, username: osUsername})
}

// commandSet is a level of the command line: commands chosen by the first
// argument.
type commandSet struct {
	prefix   string // "logalert", "logalert incidents"
	item     string // "command" or "subcommand"
	commands map[string]command
	footer   string // after the list in the usage text
	errors   string // prefix of usage errors ("incidents: "), "" at the top
}

// dispatch runs the command args[0] names with the rest of args.
func (cs commandSet) dispatch(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		cs.usage(e.stderr)
		if len(args) == 0 {
			return usagef("%smissing %s", cs.errors, cs.item)
		}
		return flag.ErrHelp
	}
	cmd, ok := cs.commands[args[0]]
	if !ok {
		cs.usage(e.stderr)
		return usagef("%sunknown %s %q", cs.errors, cs.item, args[0])
	}
	return cmd.run(ctx, args[1:], e)
}

// usage lists the commands with their summaries.
func (cs commandSet) usage(w io.Writer) {
	names := make([]string, 0, len(cs.commands))
	width := 0
	for n := range cs.commands {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s <%s> [flags] [args]\n\n%ss:\n", cs.prefix, cs.item, cs.item)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s %s\n", width+1, n, cs.commands[n].summary)
	}
	b.WriteString(cs.footer)
	io.WriteString(w, b.String())
}

// newFlagSet returns a flag set for a subcommand whose synopsis (after
// "logalert ") lists every flag. Parse errors are returned, not printed:
// run's caller reports them once.
func newFlagSet(name, synopsis string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: logalert %s\n\nflags:\n%s", synopsis, fs.FlagUsages())
	}
	return fs
}

// parseFlags parses args, flags and positional arguments in any order
// ("--" ends the flags), and returns the positional ones. A bad flag is a
// usageError, after the command's usage; -h and --help are flag.ErrHelp.
func parseFlags(fs *pflag.FlagSet, args []string) ([]string, error) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return fs.Args(), nil
	case errors.Is(err, pflag.ErrHelp):
		return nil, flag.ErrHelp
	}
	fs.Usage()
	var unknown *pflag.NotExistError
	if errors.As(err, &unknown) {
		name := "--" + unknown.GetSpecifiedName()
		if unknown.GetSpecifiedShortnames() != "" {
			name = "-" + unknown.GetSpecifiedName()
		}
		return nil, usagef("flag provided but not defined: %s", name)
	}
	return nil, usageError{err}
}

// Output formats: every command takes -o, --output with these values.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// addOutputFlag adds -o, --output: table, json or yaml, def by default;
// about says what each shows, if that needs saying.
func addOutputFlag(fs *pflag.FlagSet, def, about string) *string {
	return fs.StringP("output", "o", def, "output `format`: table, json or yaml"+about)
}

// checkOutput reports an --output value that is none of the formats.
func checkOutput(o string) error {
	switch o {
	case formatTable, formatJSON, formatYAML:
		return nil
	}
	return usagef("--output must be table, json or yaml, not %q", o)
}
