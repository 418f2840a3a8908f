package wsgi

import (
	"fmt"

	"github.com/gowsgi/gowsgi/internal/respcheck"
)

// parseStatus checks a PEP 3333 status ("200 OK") and returns its code.
// net/http writes its own reason phrase for the code.
func parseStatus(s string) (int, error) {
	d := respcheck.IsDigit
	if len(s) < 4 || s[3] != ' ' || !d(s[0]) || !d(s[1]) || !d(s[2]) {
		return 0, fmt.Errorf("start_response(): status %q is not a 3-digit code, a space and a reason (PEP 3333)", s)
	}
	code := int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
	if code < 200 {
		return 0, fmt.Errorf("start_response(): status %q: a 1xx status cannot end a response", s)
	}
	if respcheck.HasCTL(s) {
		return 0, fmt.Errorf("start_response(): status %q has a control or non-latin-1 character", s)
	}
	return code, nil
}
