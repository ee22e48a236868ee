package awslogs

import "strings"

// SplitGroups splits a comma-separated list of log group names (or name
// prefixes), as WATCHED_LOG_GROUPS, EXCLUDED_LOG_GROUP_PREFIXES and the
// template's LogGroupNames hold them, dropping blanks.
func SplitGroups(s string) []string {
	var out []string
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}
