package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		fmt.Fprintln(os.Stderr, "logalert:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "logalert:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
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

// run is the whole CLI: it dispatches args to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return cli.dispatch(ctx, args, stdout, stderr)
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
func (cs commandSet) dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		cs.usage(stderr)
		if len(args) == 0 {
			return usagef("%smissing %s", cs.errors, cs.item)
		}
		return flag.ErrHelp
	}
	cmd, ok := cs.commands[args[0]]
	if !ok {
		cs.usage(stderr)
		return usagef("%sunknown %s %q", cs.errors, cs.item, args[0])
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
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

// newFlagSet returns a flag set for a subcommand that reports to stderr and
// returns errors instead of exiting.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: logalert %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, flags and positional arguments in any order
// ("--" ends the flags), and returns the positional ones. A bad flag is a
// usageError.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
