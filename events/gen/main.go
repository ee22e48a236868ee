// Command gen writes the sample events of package events (see
// events.Files) as files into a directory. It is run by
//
//	go generate ./events
//
// which writes into the events directory itself.
//
// Usage:
//
//	go run ./events/gen [-dir DIR]
//
// The -dir flag names the directory to write to (default: the current
// directory). Existing files of the same names are overwritten; files the
// generator no longer produces are left alone (the events tests report
// them).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/logalert/logalert/events"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the sample events to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run writes every sample event into dir.
func run(dir string) error {
	files, err := events.Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return fmt.Errorf("write sample event: %w", err)
		}
	}
	return nil
}
