package provision

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/logalert/logalert/internal/samtemplate"
)

// resolve checks the resource's type and returns a reader of its evaluated
// properties.
func resolve(t *samtemplate.Template, logicalID, typ string, env *samtemplate.Env) (*samtemplate.Props, error) {
	r, err := t.Resource(logicalID)
	if err != nil {
		return nil, err
	}
	if r.Type != typ {
		return nil, fmt.Errorf("resource %s: type %s, want %s", logicalID, r.Type, typ)
	}
	return t.Props(logicalID, env)
}

// unsupported reports an error that says the endpoint does not implement
// the operation (moto and other emulators answer so for APIs they lack).
func unsupported(err error) bool {
	if err == nil {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NotImplemented", "NotImplementedError", "UnknownOperationException", "InvalidAction", "UnsupportedOperation":
			return true
		}
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		return resp.HTTPStatusCode() == http.StatusNotImplemented
	}
	return false
}
