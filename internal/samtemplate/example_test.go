package samtemplate_test

import (
	"fmt"
	"log"

	"github.com/logalert/logalert/internal/samtemplate"
)

func ExampleParseOverrides() {
	ov, err := samtemplate.ParseOverrides(`AlarmEmail=ops@example.com ErrorPattern="?ERROR ?FATAL"`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ov["AlarmEmail"])
	fmt.Println(ov["ErrorPattern"])
	// Output:
	// ops@example.com
	// ?ERROR ?FATAL
}

func ExampleTemplate_ResolveProperties() {
	t, err := samtemplate.Parse([]byte(`
Parameters:
  Days: {Type: Number, Default: 14}
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/logalert/${AWS::StackName}/app"
      RetentionInDays: !Ref Days
`))
	if err != nil {
		log.Fatal(err)
	}
	if err := t.SetParameters(map[string]string{"Days": "30"}); err != nil {
		log.Fatal(err)
	}
	props, err := t.ResolveProperties("Logs", &samtemplate.Env{StackName: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(props["LogGroupName"], props["RetentionInDays"])
	// Output: /logalert/demo/app 30
}
