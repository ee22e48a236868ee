// Package samtemplate reads an AWS SAM / CloudFormation template the way
// CloudFormation would, without calling AWS, so the local twin and the tests
// can take their settings from the same template.yaml that `sam deploy`
// ships.
//
// Load (or Parse) decodes the YAML with the short-form intrinsic tags (!Ref,
// !Sub, !GetAtt, !If, ...) turned into their long form ({"Ref": x},
// {"Fn::Sub": ...}), so every value in a Template is plain Go data:
// map[string]any, []any, string, int, float64, bool or nil.
//
// Parameters take their Default unless SetParameters overrides them; overrides
// come in the `sam deploy --parameter-overrides` syntax that ParseOverrides
// reads, and the Rules section is checked as CloudFormation checks it before
// a change set. Eval resolves intrinsic functions against an Env that
// supplies the pseudo parameters (AWS::StackName, AWS::Region, ...), the
// physical ids of resources (what Ref returns) and their attributes (what
// Fn::GetAtt returns). Conditions are evaluated on demand with the same Env.
//
// It evaluates what our templates use, no more: Ref, Fn::GetAtt, Fn::Sub,
// Fn::If, Fn::Join and Fn::ToJsonString in values; Condition, Fn::Equals, Fn::Not, Fn::And and
// Fn::Or in conditions, and Fn::Contains in rules. Any other function
// (Fn::Select, Fn::FindInMap, ...) parses but fails evaluation with an error
// that names it. The Fn::ForEach loops of the AWS::LanguageExtensions
// transform in the Resources section are expanded as CloudFormation expands
// them, with the parameters' effective values (again at every
// SetParameters).
//
// Props reads typed values (String, Int, Float, Bool, lists and nested
// mappings) from resolved properties by dotted path, and records every
// value that is missing or does not convert with its place, so that one
// error lists all that is wrong with a resource.
//
// Errors name where they happened, e.g.
//
//	resource IncidentsTable: Properties.KeySchema[0].AttributeName: Ref Nope: no parameter, pseudo parameter or resource named "Nope"
//
// The package imports no AWS SDK: package provision turns resolved
// properties into API calls.
package samtemplate
