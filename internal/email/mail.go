package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// SNS's sender address for email subscriptions, and the name it shows when
// the topic has no DisplayName.
const (
	snsSender     = "no-reply@sns.amazonaws.com"
	snsSenderName = "AWS Notifications"
)

// maxLine is the longest line RFC 5322 allows, without CRLF.
const maxLine = 998

// Mail is one email as SNS sends it to an email subscriber.
type Mail struct {
	FromName  string // the topic's DisplayName, or "AWS Notifications"
	To        string
	Subject   string
	Date      time.Time
	MessageID string            // without angle brackets
	Headers   map[string]string // extra headers (x-amz-sns-...)
	Body      string            // plain text, "\n" line ends
}

// Bytes returns the message in RFC 5322 form with MIME headers and CRLF
// line ends. The body is sent as 7bit when it is ASCII with short lines,
// as quoted-printable otherwise; a non-ASCII subject or sender name is
// encoded as RFC 2047 words.
func (m *Mail) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	from := mail.Address{Name: m.FromName, Address: snsSender}
	h("From", from.String())
	h("To", (&mail.Address{Address: m.To}).String())
	h("Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	h("Date", m.Date.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+m.MessageID+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=UTF-8")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if plain(body) {
		h("Content-Transfer-Encoding", "7bit")
	} else {
		h("Content-Transfer-Encoding", "quoted-printable")
		var q bytes.Buffer
		w := quotedprintable.NewWriter(&q)
		_, _ = w.Write([]byte(body)) // writes to a bytes.Buffer do not fail
		_ = w.Close()
		body = q.String()
	}
	for _, k := range slices.Sorted(maps.Keys(m.Headers)) {
		h(k, m.Headers[k])
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// plain reports whether s can go as 7bit: ASCII, no NUL, no bare CR, lines
// of at most maxLine bytes.
func plain(s string) bool {
	line := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0 || c >= utf8.RuneSelf:
			return false
		case c == '\n':
			line = 0
		case c == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				return false
			}
		default:
			line++
			if line > maxLine {
				return false
			}
		}
	}
	return true
}

// Mailer delivers mails.
type Mailer interface {
	// Send delivers m and returns where it went (a file path, an SMTP
	// address); it fails with the I/O or SMTP error.
	Send(ctx context.Context, m *Mail) (string, error)
}

// Outbox writes each mail to a .eml file. Every run (every Outbox) gets a
// folder of its own below Dir, named after the real time of its first mail
// (20261125T140301Z, with -2, -3, ... appended when another run has that
// name already), so that a rerun never overwrites an earlier run's mails,
// even when its clock starts at the same time. In that folder, the files
// are named after the mail's date, a sequence number, its subject and its
// recipient, so that they sort in the order they were sent. It is safe for
// concurrent use.
type Outbox struct {
	Dir string
	// Now names the run's folder; nil is time.Now.
	Now func() time.Time

	mu  sync.Mutex
	seq int
	run string // the run's folder, once the first Send created it
}

// maxRunsPerSecond bounds the folders tried for one run's name.
const maxRunsPerSecond = 1000

// RunDir returns the folder of this run's mails, or "" before the first
// Send.
func (o *Outbox) RunDir() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.run
}

// Send writes m to a new file in the run's folder and returns its path.
func (o *Outbox) Send(_ context.Context, m *Mail) (string, error) {
	o.mu.Lock()
	if o.run == "" {
		run, err := o.newRun()
		if err != nil {
			o.mu.Unlock()
			return "", fmt.Errorf("outbox: %w", err)
		}
		o.run = run
	}
	o.seq++
	seq, run := o.seq, o.run
	o.mu.Unlock()
	name := fmt.Sprintf("%s-%03d-%s-%s.eml", m.Date.UTC().Format("20060102T150405Z"), seq, slug(m.Subject, 48, ""), slug(m.To, 64, ".@"))
	path := filepath.Join(run, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	if _, err := f.Write(m.Bytes()); err != nil {
		f.Close()
		return "", fmt.Errorf("outbox: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("outbox: write %s: %w", path, err)
	}
	return path, nil
}

// newRun creates the run's folder: the first of Dir/<now>, Dir/<now>-2,
// ... that does not exist yet.
func (o *Outbox) newRun() (string, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	stamp := now().UTC().Format("20060102T150405Z")
	for i := 1; i <= maxRunsPerSecond; i++ {
		dir := filepath.Join(o.Dir, stamp)
		if i > 1 {
			dir += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s holds %d runs of %s already", o.Dir, maxRunsPerSecond, stamp)
}

// slug keeps the ASCII letters and digits of s and the runes of keep, in
// lower case, turns runs of anything else into one '-' and cuts the result
// to about n bytes.
func slug(s string, n int, keep string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', strings.ContainsRune(keep, r):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= n {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// SMTP sends each mail to an SMTP server without authentication, as to a
// local development mail catcher (MailHog, Mailpit).
type SMTP struct {
	Addr string // host:port
}

// Send delivers m through the server and returns "smtp://Addr".
func (s SMTP) Send(_ context.Context, m *Mail) (string, error) {
	if err := smtp.SendMail(s.Addr, nil, snsSender, []string{m.To}, m.Bytes()); err != nil {
		return "", fmt.Errorf("send mail to %s through %s: %w", m.To, s.Addr, err)
	}
	return "smtp://" + s.Addr, nil
}
