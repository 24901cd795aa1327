package preset

import "strings"

// Keys allowed at each level, in the order the documentation lists them.
var (
	settingKeys = []string{"auth_method", "basic_encoding", "assertion_audience", "dpop", "audience", "resource", "params", "refresh_skew", "default_ttl", "refresh_ahead", "tls_client_certificate", "tls_client_key", "certificate", "client_assertion_file"}
	presetKeys  = append([]string{"type", "name", "url", "issuer", "insecure", "users"}, settingKeys...)
	userKeys    = append([]string{"username", "client_id", "client_secret", "private_key", "kid", "alg", "scopes", "headers", "cookies"}, settingKeys...)
)

// aliases maps normalized spellings people bring from other tools to our
// key. Case, '-' and '_' differences are already handled by normalize.
var aliases = map[string]string{
	"scope":                    "scopes",
	"tokenurl":                 "url",
	"tokenuri":                 "url",
	"tokenendpoint":            "url",
	"endpoint":                 "url",
	"accesstokenurl":           "url",
	"issuerurl":                "issuer",
	"authorizationserver":      "issuer",
	"secret":                   "client_secret",
	"clientkey":                "client_id",
	"user":                     "users",
	"accounts":                 "users",
	"clients":                  "users",
	"credentials":              "users",
	"login":                    "username",
	"header":                   "headers",
	"cookie":                   "cookies",
	"param":                    "params",
	"parameters":               "params",
	"extraparams":              "params",
	"extraparameters":          "params",
	"tokenendpointauthmethod":  "auth_method",
	"clientauthmethod":         "auth_method",
	"authentication":           "auth_method",
	"resources":                "resource",
	"skew":                     "refresh_skew",
	"leeway":                   "refresh_skew",
	"ttl":                      "default_ttl",
	"expiresin":                "default_ttl",
	"refreshratio":             "refresh_ahead",
	"allowhttp":                "insecure",
	"tlscert":                  "tls_client_certificate",
	"clientcert":               "tls_client_certificate",
	"clientcertificate":        "tls_client_certificate",
	"tlsclientcert":            "tls_client_certificate",
	"tlsclientcertificatefile": "tls_client_certificate",
	"tlskey":                   "tls_client_key",
	"tlsclientkeyfile":         "tls_client_key",
}

func normalize(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
}

// suggest finds the key the author probably meant, among known; "" if none.
func suggest(key string, known []string) string {
	n := normalize(key)
	if a, ok := aliases[n]; ok && contains(known, a) {
		return a
	}
	best, bestD := "", 3
	for _, k := range known {
		if normalize(k) == n {
			return k
		}
		if d := distance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// distance is the Levenshtein edit distance, capped so a huge key cannot
// cost much: anything over 64 bytes is simply "far".
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
