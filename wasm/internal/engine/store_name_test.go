package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cctoken/cctoken/wasm/internal/httpmsg"
	"github.com/cctoken/cctoken/wasm/internal/jose"
	"github.com/cctoken/cctoken/wasm/internal/preset"
)

// Fields of preset.Account (and of the structs it points to) that cannot
// change what the token endpoint issues. Changing one must keep the store
// name, so that instances and users that differ only there share a token.
// Every other field must change the name: a field added later fails
// TestStoreNameCoversEveryField until it is covered or listed here.
var sameToken = map[string]string{
	"Preset":       "the preset's position in the document",
	"Index":        "the user's position in its preset",
	"PresetName":   "a label for people",
	"Username":     "what callers call the account; the same client asking the same thing gets the same token whatever it is called",
	"Insecure":     "permits an http:// url; the url itself is part of the name",
	"RefreshSkew":  "this instance's schedule, not the request",
	"DefaultTTL":   "this instance's guess at a lifetime the server did not give; the stored token carries the fetcher's expiry",
	"RefreshAhead": "this instance's schedule, not the request",
	"TLSCertField": "where the certificate was written, for error messages",
	"TLSKeyField":  "where the key was written, for error messages",
	// Credential files: a user with a client_assertion_file or a
	// certificate file is never shared (credential), so these two only
	// say where the field was written, and FileAssertion is the JWT read
	// for one request (set on a per-request copy, never on a loaded user).
	"CertificateField": "where the certificate was written, for error messages",
	"AssertionField":   "where client_assertion_file was written, for error messages",
	"FileAssertion":    "the JWT read from client_assertion_file for one request; such users are never shared",
}

// Fields the test does not change on their own, because a load never
// changes them without another field that the test does change.
var coveredBy = map[string]string{
	"Certificate.NotBefore": "the certificate's validity, checked at load; not sent",
	"Certificate.NotAfter":  "the certificate's validity, checked at load; not sent",
	"Certificate.keyAlg":    "the certificate's public key, checked against private_key at load; the thumbprints, which are sent and walked, cover the whole certificate",
	"Certificate.key":       "the certificate's public key, checked against private_key at load; the thumbprints, which are sent and walked, cover the whole certificate",
	"Key.priv":              "parsed from keyText (private_key), which the test changes",
	"Key.secret":            "the HS256 key of client_secret_jwt, made from ClientSecret, which the test changes",
}

// Other values worth trying for fields with a fixed set of values.
var alternatives = map[string][]string{
	"AuthMethod": {preset.ClientSecretBasic, preset.ClientSecretPost, preset.ClientSecretJWT, preset.PrivateKeyJWT,
		preset.TLSClientAuth, preset.SelfSignedTLSClientAuth, ""},
	"BasicEncoding":     {preset.BasicEncodingForm, preset.BasicEncodingRaw, ""},
	"AssertionAudience": {preset.AudienceTokenEndpoint, preset.AudienceIssuer, preset.AudienceBoth, ""},
}

const storeNameCert = "-----BEGIN CERTIFICATE-----\nMIIB-name-test\n-----END CERTIFICATE-----\n"

// storeNameAccounts loads one user of every auth method, each with every
// setting a preset can give it.
func storeNameAccounts(t *testing.T) map[string]*preset.Account {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyCert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}))
	common := `
    scopes: [read, write]
    audience: https://api.example.com
    resource: [https://api.example.com/a]
    params: {organization: org-a}
    headers: {X-Tenant: t1}
    cookies: {region: eu}`
	doc := `preset:
- type: oauth_client_credentials
  url: https://auth.example.com/token
  users:
  - username: basic
    client_id: id-1
    client_secret: secret-1
    basic_encoding: raw` + common + `
  - username: post
    client_id: id-1
    client_secret: secret-1
    auth_method: client_secret_post` + common + `
  - username: secretjwt
    client_id: id-1
    client_secret: secret-1
    auth_method: client_secret_jwt
    assertion_audience: token_endpoint` + common + `
  - username: keyjwt
    client_id: id-1
    private_key: ${env:KEY}
    kid: key-1
    certificate: ${env:KEYCERT}
    auth_method: private_key_jwt` + common + `
  - username: tls
    client_id: id-1
    auth_method: tls_client_auth
    tls_client_certificate: ${env:CERT}
    tls_client_key: ${env:TLSKEY}` + common + `
- type: oauth_client_credentials
  issuer: https://auth.example.com
  users:
  - username: discovered
    client_id: id-1
    client_secret: secret-1
    auth_method: client_secret_basic` + common + `
`
	e := New(nil)
	s := e.Load([]byte(doc))
	if s.Env != nil {
		s = e.Resume(s.Task, Input{Env: map[string]string{"KEY": key, "KEYCERT": keyCert, "CERT": storeNameCert, "TLSKEY": mtlsKeyPEM}})
	}
	if s.Error != nil {
		t.Fatalf("load: %s", s.Error.Message)
	}
	// A discovered user's token request goes to the endpoint its issuer's
	// metadata names.
	e.accounts["discovered"].TokenURL = "https://auth.example.com/token"
	return e.accounts
}

// storeNameOf is the name the engine gives acct's token in a fresh load
// ("" when the token is not shared at all).
func storeNameOf(acct *preset.Account) string {
	e := New(nil)
	e.SetStore(&StoreConfig{})
	names, ok := e.storeNames(acct)
	if !ok {
		return ""
	}
	return names.ID
}

// TestStoreNameCoversEveryField changes every field of every kind of
// account in turn, by reflection: unless the field is listed in sameToken,
// the token's store name must change (or the token must stop being
// shared), since two accounts with one name are served each other's
// tokens. A field the walk does not know how to change fails the test.
func TestStoreNameCoversEveryField(t *testing.T) {
	visited := map[string]bool{}
	for user, base := range storeNameAccounts(t) {
		want := storeNameOf(base)
		if want == "" {
			t.Fatalf("%s: not shared at all", user)
		}
		walkAccount(t, base, func(path string, mutated *preset.Account) {
			visited[path] = true
			got := storeNameOf(mutated)
			_, same := sameToken[path]
			switch {
			case same && got != want:
				t.Errorf("%s: changing %s (%s) changed the store name; instances that differ only there should share tokens", user, path, sameToken[path])
			case !same && got == want:
				t.Errorf("%s: changing %s kept the store name: another user would be served this token", user, path)
			}
		})
	}
	// The walk reached every field, those behind pointers included.
	for _, typ := range []reflect.Type{reflect.TypeOf(preset.Account{}), reflect.TypeOf(jose.Key{}), reflect.TypeOf(httpmsg.TLSClient{}), reflect.TypeOf(jose.Certificate{})} {
		prefix := map[string]string{"Account": "", "Key": "Key.", "TLSClient": "TLSClient.", "Certificate": "Certificate."}[typ.Name()]
		for i := range typ.NumField() {
			path := prefix + typ.Field(i).Name
			if _, covered := coveredBy[path]; !visited[path] && !covered {
				t.Errorf("the walk never changed %s", path)
			}
		}
	}
	if len(visited) < 30 {
		t.Errorf("the walk changed only %d fields", len(visited))
	}
}

// walkAccount calls fn with a copy of a for every change it makes to one
// field, named by its path (Key.Kid for a field of a pointed-to struct).
func walkAccount(t *testing.T, a *preset.Account, fn func(path string, mutated *preset.Account)) {
	t.Helper()
	walkStruct(t, reflect.ValueOf(a).Elem(), "", func(path string, set func(reflect.Value)) {
		cp := *a
		set(reflect.ValueOf(&cp).Elem())
		fn(path, &cp)
	})
}

// walkStruct visits every field of the struct v (whose path prefix is
// prefix); visit gets, for each change, a function that applies it to a
// copy of the outermost struct.
func walkStruct(t *testing.T, v reflect.Value, prefix string, visit func(path string, set func(reflect.Value))) {
	t.Helper()
	typ := v.Type()
	for i := range typ.NumField() {
		f := typ.Field(i)
		path := prefix + f.Name
		if _, ok := coveredBy[path]; ok {
			continue
		}
		cur := v.Field(i)
		// at finds this field in a copy of the outermost struct; pointers
		// on the way have been replaced by copies (see below).
		at := func(root reflect.Value) reflect.Value {
			x := root
			for _, name := range strings.Split(path, ".") {
				if x.Kind() == reflect.Pointer {
					x = x.Elem()
				}
				x = x.FieldByName(name)
			}
			return writable(x)
		}
		for _, nv := range changes(t, path, cur) {
			visit(path, func(root reflect.Value) {
				copyPointers(root, path)
				at(root).Set(nv)
			})
		}
		if cur.Kind() == reflect.Pointer && !cur.IsNil() && cur.Elem().Kind() == reflect.Struct {
			walkStruct(t, cur.Elem(), path+".", visit)
		}
	}
}

// copyPointers replaces each struct pointer on path (but the last field)
// in root by a pointer to a copy, so that changing a field behind it does
// not change the loaded account.
func copyPointers(root reflect.Value, path string) {
	names := strings.Split(path, ".")
	x := root
	for _, name := range names[:len(names)-1] {
		if x.Kind() == reflect.Pointer {
			x = x.Elem()
		}
		f := writable(x.FieldByName(name))
		cp := reflect.New(f.Type().Elem())
		cp.Elem().Set(f.Elem())
		f.Set(cp)
		x = f
	}
}

// writable makes an unexported field settable: the account's private
// fields (the private key text) matter as much as the exported ones.
func writable(v reflect.Value) reflect.Value {
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

// changes lists other values for the field at path whose value is cur.
func changes(t *testing.T, path string, cur reflect.Value) []reflect.Value {
	t.Helper()
	typ := cur.Type()
	var out []reflect.Value
	add := func(x any) { out = append(out, reflect.ValueOf(x).Convert(typ)) }
	switch typ.Kind() {
	case reflect.String:
		s := cur.String()
		for _, alt := range alternatives[path] {
			if alt != s {
				add(alt)
			}
		}
		add(s + "-changed")
		if s != "" {
			add("")
		}
	case reflect.Bool:
		add(!cur.Bool())
	case reflect.Int, reflect.Int64:
		if typ == reflect.TypeOf(time.Duration(0)) {
			add(time.Duration(cur.Int()) + time.Second)
		} else {
			add(cur.Int() + 1)
		}
	case reflect.Float64:
		add(cur.Float()/2 + 0.01)
	case reflect.Slice:
		if typ.Elem().Kind() != reflect.String {
			t.Fatalf("the walk does not know how to change %s (%s): teach it, or list the field in sameToken or coveredBy", path, typ)
		}
		xs := cur.Interface().([]string)
		add(append(append([]string(nil), xs...), "changed"))
		if len(xs) > 0 {
			ys := append([]string(nil), xs...)
			ys[0] += "-changed"
			add(ys)
		}
	case reflect.Map:
		if typ.Key().Kind() != reflect.String || typ.Elem().Kind() != reflect.String {
			t.Fatalf("the walk does not know how to change %s (%s): teach it, or list the field in sameToken or coveredBy", path, typ)
		}
		m := cur.Interface().(map[string]string)
		grown := map[string]string{"X-Changed": "1"}
		for k, v := range m {
			grown[k] = v
			changed := map[string]string{}
			for k2, v2 := range m {
				changed[k2] = v2
			}
			changed[k] = v + "-changed"
			add(changed)
		}
		add(grown)
	case reflect.Pointer:
		switch {
		case typ.Elem().Kind() != reflect.Struct:
			t.Fatalf("the walk does not know how to change %s (%s): teach it, or list the field in sameToken or coveredBy", path, typ)
		case cur.IsNil() && typ == reflect.TypeOf((*jose.Key)(nil)):
			add(jose.HS256([]byte("another key")))
		case cur.IsNil():
			out = append(out, reflect.New(typ.Elem()))
		default:
			out = append(out, reflect.Zero(typ)) // nil; its fields are walked one by one
		}
	default:
		t.Fatalf("the walk does not know how to change %s (%s): teach it, or list the field in sameToken or coveredBy", path, typ)
	}
	return out
}

// TestStoreNameSharedWhereItShould: users that differ only in what cannot
// change the token request share one name.
func TestStoreNameSharedWhereItShould(t *testing.T) {
	accts := storeNameAccounts(t)
	a := *accts["basic"]
	b := a
	b.Username, b.Preset, b.Index, b.RefreshSkew = "other-name", 3, 4, time.Hour
	b.Scopes = []string{"write", "read"} // a set
	if storeNameOf(&a) != storeNameOf(&b) {
		t.Fatal("users differing only in name, place, schedule and scope order got different store names")
	}
}

// TestStoreSecret: instances share tokens only with the same store
// secret; a short one is refused with the field named and nothing of it
// shown, and leaves the store as it was.
func TestStoreSecret(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := newMemStore(c)
	body := func() string { return `{"access_token":"tok-CANARY","token_type":"Bearer","expires_in":60}` }
	withSecret := func(secret string) *Engine {
		e := New(c.now)
		if err := e.SetStore(&StoreConfig{Secret: secret}); err != nil {
			t.Fatalf("secret %q refused: %s", secret, err.Message)
		}
		if s := e.Load([]byte(strings.Replace(storeDoc, "SECRET", "s3cret", 1))); s.Error != nil {
			t.Fatal(s.Error)
		}
		return e
	}
	for i, secret := range []string{"deployment-one-0123456789", "deployment-one-0123456789", "deployment-two-0123456789", ""} {
		e := withSecret(secret)
		st.drive(t, e, e.Token(TokenRequest{User: "svc"}), body)
		if want := []int{1, 1, 2, 3}[i]; st.hits != want {
			t.Fatalf("instance %d (secret %q): %d token requests, want %d", i, secret, st.hits, want)
		}
	}
	e := withSecret("deployment-one-0123456789")
	err := e.SetStore(&StoreConfig{Secret: "short-CANARY"})
	if err == nil || err.Field != "store.secret" || strings.Contains(err.Message, "CANARY") || !strings.Contains(err.Message, "16") {
		t.Fatalf("short secret: %+v", err)
	}
	if e.store == nil || string(e.store.secret) != "deployment-one-0123456789" {
		t.Fatal("a refused secret changed the store")
	}
}

// TestStoreNameAfterReload: the keys cached per username are dropped by a
// load, so a reload that changes a user's params names its tokens anew.
func TestStoreNameAfterReload(t *testing.T) {
	doc := func(org string) []byte {
		return []byte("preset:\n- type: oauth_client_credentials\n  url: https://auth.example.com/token\n  users:\n  - username: u\n    client_id: id\n    client_secret: s3cret\n    params: {organization: " + org + "}\n")
	}
	e := New(nil)
	e.SetStore(&StoreConfig{})
	var ids []string
	for _, org := range []string{"a", "b"} {
		if s := e.Load(doc(org)); s.Error != nil {
			t.Fatal(s.Error)
		}
		names, ok := e.storeNames(e.accounts["u"])
		if !ok {
			t.Fatal("not shared")
		}
		ids = append(ids, names.ID)
	}
	if ids[0] == ids[1] {
		t.Fatal("a reload with other params kept the store name")
	}
}
