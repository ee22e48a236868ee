package filterpattern_test

import (
	"fmt"

	"github.com/logalert/logalert/internal/filterpattern"
)

func ExampleParse() {
	p, err := filterpattern.Parse(`?ERROR ?"Task timed out"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{
		"[ERROR 500] INTERNAL SERVER ERROR",
		"Task timed out after 3.00 seconds",
		"INFO request done",
	} {
		fmt.Printf("%v %s\n", p.Match(msg), msg)
	}

	_, err = filterpattern.Parse(`[ip, user, status_code = 4*`)
	fmt.Println(err)
	// Output:
	// true [ERROR 500] INTERNAL SERVER ERROR
	// true Task timed out after 3.00 seconds
	// false INFO request done
	// filterpattern: at 27: expected "]" to close the space-delimited pattern that starts at 0
}

func ExamplePattern_Evaluate() {
	p, err := filterpattern.Parse(`[ip, server, username, timestamp, request, status_code, bytes > 1000]`)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := filterpattern.Transformation{
		MetricValue: "$bytes",
		Dimensions:  map[string]string{"server": "$server"},
	}
	if err := p.ValidateTransformation(tr); err != nil {
		fmt.Println(err)
		return
	}
	res, ok := p.Evaluate(`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`, tr)
	fmt.Println(ok, res.Value, res.Dimensions["server"])
	// Output:
	// true 1534 Prod
}
