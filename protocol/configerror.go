package protocol

import (
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ConfigRefused is how a plugin's Configure refuses its config table: an
// InvalidArgument status with the message, and, when the refusal is about
// one key, a BadRequest detail naming it (a dotted path in the table).
// hostd then reports the key as plugins.NAME.config.KEY.
func ConfigRefused(msg, key, reason string) error {
	st := status.New(codes.InvalidArgument, msg)
	if key == "" {
		return st.Err()
	}
	if withKey, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: key, Description: reason},
	}}); err == nil {
		st = withKey
	}
	return st.Err()
}

// RefusedKey returns the key and reason of a ConfigRefused error, if it
// names one.
func RefusedKey(err error) (key, reason string, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus {
		return "", "", false
	}
	for _, d := range st.Details() {
		if br, isBR := d.(*errdetails.BadRequest); isBR && len(br.FieldViolations) > 0 {
			v := br.FieldViolations[0]
			return v.Field, v.Description, true
		}
	}
	return "", "", false
}
