//go:build !(linux || darwin)

package main

import "os"

// terminalColumns does not know terminal widths on this system.
func terminalColumns(*os.File) (int, bool) { return 0, false }
