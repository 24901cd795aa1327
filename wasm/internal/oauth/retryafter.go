package oauth

import (
	"strconv"
	"strings"
	"time"
)

// httpDates are the date forms RFC 9110 §5.6.7 requires recipients to
// accept: IMF-fixdate, then the obsolete RFC 850 and asctime forms.
var httpDates = []string{
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Monday, 02-Jan-06 15:04:05 GMT",
	time.ANSIC,
}

// RetryAfter parses a Retry-After value (RFC 9110 §10.2.3), delta-seconds
// or an HTTP-date, relative to now. ok is false when v is empty or not
// understood. A date in the past (or a negative delta) gives 0; huge
// values are capped so they cannot overflow.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if digits := strings.TrimPrefix(v, "-"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		if v[0] == '-' {
			return 0, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxLifetime/time.Second) {
			return maxLifetime, true
		}
		return time.Duration(n) * time.Second, true
	}
	for _, layout := range httpDates {
		if t, err := time.Parse(layout, v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	return 0, false
}
