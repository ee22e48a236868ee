package awslogs_test

import (
	"os"
	"testing"
	"time"

	"github.com/logalert/logalert/internal/awslogs"
)

func TestMinParse(t *testing.T) {
	if os.Getenv("MINBENCH") == "" {
		t.Skip()
	}
	batch := realisticBatch(t)
	d := awslogs.NewDecoder(awslogs.DefaultLimits)
	var p awslogs.Payload
	best := time.Hour
	for range 400 {
		s := time.Now()
		_ = d.ParseJSON(batch.raw, &p)
		best = min(best, time.Since(s))
	}
	bestD := time.Hour
	for range 100 {
		s := time.Now()
		_ = d.Decode(batch.data, &p)
		bestD = min(bestD, time.Since(s))
	}
	var g gunzipper
	bestG := time.Hour
	for range 100 {
		s := time.Now()
		g.gunzip(t, batch.zip)
		bestG = min(bestG, time.Since(s))
	}
	mb := float64(len(batch.raw)) / 1e6
	t.Logf("parse min %v (%.0f MB/s)  decode min %v (%.0f MB/s)  gunzip min %v (%.0f MB/s) ratio %.3f", best, mb/best.Seconds(), bestD, mb/bestD.Seconds(), bestG, mb/bestG.Seconds(), bestG.Seconds()/bestD.Seconds())
}
