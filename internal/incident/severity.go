package incident

import "strings"

// Severity grades an incident. Higher values are more severe.
type Severity int

// Severities, from least to most severe.
const (
	SeverityWarn Severity = iota + 1
	SeverityError
	SeverityFatal
	SeverityCritical
)

var severityNames = map[Severity]string{
	SeverityWarn:     "WARN",
	SeverityError:    "ERROR",
	SeverityFatal:    "FATAL",
	SeverityCritical: "CRITICAL",
}

// String returns the name stored in the incident table, e.g. "ERROR".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return "UNKNOWN"
}

// ParseSeverity is the inverse of String; unknown names give SeverityError.
func ParseSeverity(name string) Severity {
	for s, n := range severityNames {
		if n == name {
			return s
		}
	}
	return SeverityError
}

// levelWords maps the level keywords found in log lines to a severity.
// WARNING and ERR are common spellings of the same levels.
var levelWords = []struct {
	word string
	sev  Severity
}{
	{"CRITICAL", SeverityCritical},
	{"FATAL", SeverityFatal},
	{"ERROR", SeverityError},
	{"ERR", SeverityError},
	{"WARNING", SeverityWarn},
	{"WARN", SeverityWarn},
}

// SeverityOf grades a log line by the most severe level keyword it contains
// as a whole word, in upper case (CRITICAL > FATAL > ERROR > WARN). A line
// with no keyword matched the error pattern by other terms and is graded
// SeverityError.
func SeverityOf(message string) Severity {
	best := Severity(0)
	for _, lw := range levelWords {
		if lw.sev > best && containsWord(message, lw.word) {
			best = lw.sev
		}
	}
	if best == 0 {
		return SeverityError
	}
	return best
}

// containsWord reports whether word occurs in s delimited by non-letters.
func containsWord(s, word string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isLetter(s[start-1])) && (end == len(s) || !isLetter(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
