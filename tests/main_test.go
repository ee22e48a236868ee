// Package tests holds the integration tests: the real AWS SDK against
// moto_server, which TestMain starts on a free loopback port and stops.
package tests

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/require"

	"github.com/logalert/logalert/internal/awstest"
	"github.com/logalert/logalert/internal/provision"
	"github.com/logalert/logalert/internal/samtemplate"
)

// motoURL is the endpoint of the moto_server TestMain started.
var motoURL string

func TestMain(m *testing.M) {
	os.Exit(awstest.RunWithMoto(context.Background(), m, "tests", &motoURL))
}

// env is one test's view of moto: an SDK config that goes through its own
// proxy, and a fresh incidents table created from template.yaml.
type env struct {
	proxy *awstest.Proxy
	cfg   aws.Config
	table string
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	proxy, err := awstest.NewProxy(motoURL)
	require.NoError(tb, err)
	tb.Cleanup(func() { proxy.Close() })
	cfg := newConfig(tb, proxy.URL)
	tmpl, err := samtemplate.Load("../template.yaml")
	require.NoError(tb, err)
	table := awstest.Name(tb, "incidents")
	require.NoError(tb, provision.CreateTable(tb.Context(), dynamodb.NewFromConfig(cfg), tmpl, "IncidentsTable", table))
	proxy.ResetCounts()
	return &env{proxy: proxy, cfg: cfg, table: table}
}

// newConfig returns an SDK config for endpoint; each call gives separate
// clients, as two Lambda instances have.
func newConfig(tb testing.TB, endpoint string) aws.Config {
	tb.Helper()
	cfg, err := awstest.Config(tb.Context(), endpoint)
	require.NoError(tb, err)
	return cfg
}
