package httpspec

import (
	"regexp"
	"strings"
)

// linkValue is Node's check of an early-hint Link value, without the
// backreference RE2 lacks: a parameter value is quoted on both sides or on
// neither.
var linkValue = regexp.MustCompile(`^<[^>]*>(?:\s*;\s*[^;"\s]+(?:=(?:"[^;"\s]*"|[^;"\s]*))?)*$`)

// EarlyHints checks the hints of writeEarlyHints — header names and values
// alternating — as Node does, and returns the fields of the 103 response:
// the Link values joined into one Link field first, then the other
// headers. With no Link value it returns no fields: nothing is sent.
func EarlyHints(hints []string) ([]string, error) {
	if len(hints)%2 != 0 {
		return nil, NewError(CodeInvalidArgValue, "The argument 'hints' is invalid")
	}
	var links, other []string
	for i := 0; i < len(hints); i += 2 {
		if EqualFoldASCII(hints[i], "link") {
			if !linkValue.MatchString(hints[i+1]) {
				return nil, NewError(CodeInvalidArgValue,
					"The argument 'hints' must be an array or string of format \"</styles.css>; rel=preload; as=style\". Received %q", hints[i+1])
			}
			links = append(links, hints[i+1])
			continue
		}
		if err := Validate(hints[i], hints[i+1:i+2]); err != nil {
			return nil, err
		}
		other = append(other, hints[i], hints[i+1])
	}
	if len(links) == 0 {
		return nil, nil
	}
	return append([]string{"Link", strings.Join(links, ", ")}, other...), nil
}
