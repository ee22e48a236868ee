// Package awstest supports tests and benchmarks that run the real AWS SDK
// against moto_server: RunWithMoto, which starts one for a TestMain, an SDK
// configuration for a local endpoint, Name, which gives each test its own
// resource names so that runs against one moto never meet, and Proxy, an
// HTTP proxy between the SDK and moto that counts requests per operation,
// adds latency, injects faults (throttling, server errors, the conflicts of
// overlapping writes) and can serve moto one request at a time.
//
// It is a test helper in the manner of net/http/httptest: no product code
// imports it.
package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/logalert/logalert/internal/awsconfig"
)

// Region is the region every test uses.
const Region = "us-east-1"

// Config returns an SDK configuration for endpoint with static test
// credentials, Region and the product's tuned retryer.
func Config(ctx context.Context, endpoint string) (aws.Config, error) {
	return awsconfig.Load(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithBaseEndpoint(endpoint),
		config.WithSharedConfigProfile(""),
	)
}

// Fault is what the proxy answers instead of forwarding a request.
type Fault struct {
	Status int    // HTTP status, e.g. 400 or 500
	Type   string // the error's __type, e.g. "ThrottlingException"
	// Reasons are the CancellationReasons codes of a
	// TransactionCanceledException, one per item, e.g. "ThrottlingError".
	Reasons []string
}

// Throttle is DynamoDB's throttling answer, which the SDK retries.
var Throttle = Fault{Status: http.StatusBadRequest, Type: "com.amazonaws.dynamodb.v20120810#ThrottlingException"}

// TransactionThrottled is how DynamoDB reports a transaction throttled on
// one of its items: a TransactionCanceledException, which the SDK does not
// retry, whose cancellation reason is ThrottlingError.
var TransactionThrottled = Fault{
	Status:  http.StatusBadRequest,
	Type:    "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
	Reasons: []string{"ThrottlingError", "None"},
}

// TransactionConflict is how DynamoDB cancels a transaction when another
// request is in progress on one of its items: a
// TransactionCanceledException whose cancellation reason is
// TransactionConflict. The SDK does not retry it.
var TransactionConflict = Fault{
	Status:  http.StatusBadRequest,
	Type:    "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
	Reasons: []string{"TransactionConflict"},
}

// ItemConflict is how DynamoDB answers a single-item write (PutItem,
// UpdateItem, DeleteItem) to an item that a transaction is writing: a
// TransactionConflictException, which the SDK does not retry.
var ItemConflict = Fault{Status: http.StatusBadRequest, Type: "com.amazonaws.dynamodb.v20120810#TransactionConflictException"}

// Rejected is a 400 ValidationException, which the SDK does not retry: a
// write that fails for good.
var Rejected = Fault{Status: http.StatusBadRequest, Type: "com.amazonaws.dynamodb.v20120810#ValidationException"}

// FaultFunc decides per request: op is the operation ("TransactWriteItems",
// from the X-Amz-Target header, or the Action form field of query APIs) and
// n counts the requests of that operation so far, from 1. It runs before
// the request is forwarded, so a test can also use one that returns nil to
// act at a given request, while the request waits.
type FaultFunc func(op string, n int) *Fault

// Proxy forwards requests to an AWS endpoint.
type Proxy struct {
	URL string // give this to the SDK

	server    *http.Server
	mu        sync.Mutex // guards the fields below
	serialize sync.Mutex
	counts    map[string]int
	injected  int
	faults    FaultFunc
	latency   time.Duration
	serial    bool
	rnd       *rand.Rand
}

// NewProxy starts a proxy to target on a free loopback port.
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("proxy target %q: %w", target, err)
	}
	p := &Proxy{counts: map[string]int{}, rnd: rand.New(rand.NewPCG(1, 2))}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.server = &http.Server{Handler: p.handler(rp), ReadHeaderTimeout: 10 * time.Second}
	addr, err := listen(p.server)
	if err != nil {
		return nil, err
	}
	p.URL = "http://" + addr
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.server.Close() }

// Serialize makes the proxy forward one request at a time. moto checks a
// DynamoDB condition and then writes without a lock, so two concurrent
// conditional writes can both succeed there, which DynamoDB never allows;
// serialized, a race in our code still shows and moto's own does not.
func (p *Proxy) Serialize(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial = on
}

// SetFaults installs f (nil removes it).
func (p *Proxy) SetFaults(f FaultFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

// SetLatency delays every forwarded request by d.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Count returns how many requests of op the proxy has seen, faulted ones
// included.
func (p *Proxy) Count(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Injected returns how many faults the proxy has answered.
func (p *Proxy) Injected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected
}

// ResetCounts zeroes every count.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
	p.injected = 0
}

// Chance returns a FaultFunc that answers f to a fraction of the requests
// whose operation passes match, drawn from a seeded generator so runs repeat.
func (p *Proxy) Chance(fraction float64, f Fault, match func(op string) bool) FaultFunc {
	return func(op string, _ int) *Fault {
		if !match(op) {
			return nil
		}
		p.mu.Lock()
		hit := p.rnd.Float64() < fraction
		p.mu.Unlock()
		if hit {
			return &f
		}
		return nil
	}
}

// Conflicts returns a FaultFunc that behaves like DynamoDB under overlapping
// writes, which moto never does: it answers a fraction of the
// TransactWriteItems requests with TransactionConflict and of the
// single-item writes with ItemConflict, drawn from the proxy's seeded
// generator so runs repeat.
func (p *Proxy) Conflicts(fraction float64) FaultFunc {
	txn := p.Chance(fraction, TransactionConflict, func(op string) bool { return op == "TransactWriteItems" })
	item := p.Chance(fraction, ItemConflict, func(op string) bool {
		return op == "UpdateItem" || op == "PutItem" || op == "DeleteItem"
	})
	return func(op string, n int) *Fault {
		if f := txn(op, n); f != nil {
			return f
		}
		return item(op, n)
	}
}

func (p *Proxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := operation(r)
		p.mu.Lock()
		p.counts[op]++
		n, faults, latency, serial := p.counts[op], p.faults, p.latency, p.serial
		p.mu.Unlock()
		if serial {
			p.serialize.Lock()
			defer p.serialize.Unlock()
		}
		if latency > 0 {
			time.Sleep(latency)
		}
		if faults != nil {
			if f := faults(op, n); f != nil {
				p.mu.Lock()
				p.injected++
				p.mu.Unlock()
				body := faultBody(f)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.Header().Set("X-Amzn-ErrorType", f.Type)
				w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(body))), 10))
				w.WriteHeader(f.Status)
				io.WriteString(w, body)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// faultBody is the JSON error document of f.
func faultBody(f *Fault) string {
	doc := map[string]any{"__type": f.Type, "message": "injected by awstest.Proxy"}
	if len(f.Reasons) > 0 {
		reasons := make([]map[string]string, len(f.Reasons))
		for i, code := range f.Reasons {
			reasons[i] = map[string]string{"Code": code}
		}
		doc["CancellationReasons"] = reasons
	}
	body, _ := json.Marshal(doc) // strings and maps of strings always marshal
	return string(body)
}

// operation names the API call of r: JSON protocols put it in X-Amz-Target
// ("DynamoDB_20120810.TransactWriteItems"), query protocols in the Action
// parameter.
func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, perr := url.ParseQuery(string(body)); err == nil && perr == nil && v.Get("Action") != "" {
			return v.Get("Action")
		}
	}
	return r.Method + " " + r.URL.Path
}
