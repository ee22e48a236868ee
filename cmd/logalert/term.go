package main

import (
	"os"

	"golang.org/x/term"
)

// terminalColumns returns the width of the terminal f is, if it is one.
func terminalColumns(f *os.File) (int, bool) {
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 {
		return 0, false
	}
	return cols, true
}

// isTerminal tells whether v, one of run's stdin, stdout or stderr, is a
// terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
