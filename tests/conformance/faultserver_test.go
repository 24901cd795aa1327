// Package conformance runs the conformance scenarios of scenarios/ on the
// Go host (go_test.go) and on the WASI command (wasi_test.go). The Node
// drivers beside them run the same scenarios on the JavaScript host and
// the edge worker; fault-server.mjs plays every scenario and check.mjs
// checks every host's run. See docs/conformance.md.
package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/cctoken/cctoken/internal/wasitest"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Scenario is one scenario as the fault server hands it out, placeholders
// replaced. Only what the Go drivers read is declared.
type Scenario struct {
	Name   string `json:"name"`
	About  string `json:"about"`
	Policy bool   `json:"policy"`
	Client struct {
		TimeoutMS int `json:"timeout_ms"`
	} `json:"client"`
	Preset        json.RawMessage   `json:"preset"`
	User          string            `json:"user"`
	Steps         []Step            `json:"steps"`
	NotApplicable map[string]string `json:"not_applicable"`
}

// Step is one thing the client is asked to do.
type Step struct {
	Do      string            `json:"do"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
	MS      int               `json:"ms"`
	Expect  map[string]any    `json:"expect"`
}

// timeout is the host's token request timeout for s.
func (s *Scenario) timeout() time.Duration {
	if s.Client.TimeoutMS > 0 {
		return time.Duration(s.Client.TimeoutMS) * time.Millisecond
	}
	return 10 * time.Second
}

// Outcome is what a host saw for one step.
type Outcome struct {
	AccessToken  string   `json:"access_token,omitempty"`
	TokenType    string   `json:"token_type,omitempty"`
	ExpirySource string   `json:"expiry_source,omitempty"`
	Status       int      `json:"status,omitempty"`
	Error        string   `json:"error,omitempty"`
	Message      string   `json:"message,omitempty"`
	Unobservable []string `json:"unobservable,omitempty"`
}

// Verdict is the fault server's check of one run.
type Verdict struct {
	Pass     bool     `json:"pass"`
	Failures []string `json:"failures"`
	Notes    []string `json:"notes"`
}

// faultServer is a running fault-server.mjs.
type faultServer struct {
	control string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
}

var (
	serverOnce sync.Once
	server     *faultServer
	serverErr  error
)

// startFaultServer starts fault-server.mjs once per test binary; it exits
// when its stdin closes (TestMain closes it, and so does this process
// dying).
func startFaultServer(t *testing.T) *faultServer {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = launch() })
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return server
}

func launch() (*faultServer, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("the conformance suite needs node on PATH to run fault-server.mjs: %v", err)
	}
	cmd := exec.Command(node, "fault-server.mjs")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		stdin.Close()
		cmd.Wait()
		return nil, fmt.Errorf("the fault server did not start: %v\n%s", err, stderr.String())
	}
	var ready struct{ Control string }
	if err := json.Unmarshal(line, &ready); err != nil {
		return nil, fmt.Errorf("the fault server's ready line %q: %v", line, err)
	}
	return &faultServer{control: ready.Control, cmd: cmd, stdin: stdin}, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.stdin.Close()
		server.cmd.Wait()
	}
	wasitest.Cleanup()
	os.Exit(code)
}

func (f *faultServer) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.control+path, body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("fault server %s %s: %s", method, path, b)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (f *faultServer) scenarios(t *testing.T) []Scenario {
	var all []Scenario
	if err := f.do("GET", "/scenarios", nil, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) < 25 {
		t.Fatalf("only %d scenarios in scenarios/", len(all))
	}
	return all
}

func (f *faultServer) reset(t *testing.T, name string) {
	if err := f.do("POST", "/reset/"+url.PathEscape(name), nil, nil); err != nil {
		t.Fatal(err)
	}
}

func (f *faultServer) check(t *testing.T, name, host string, outcomes []Outcome) Verdict {
	var v Verdict
	if err := f.do("POST", "/check/"+url.PathEscape(name)+"?host="+host, map[string]any{"outcomes": outcomes}, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// summary collects one host's results and prints them (always, not only
// with -v): which passed, failed and were not applicable, and why.
type summary struct {
	host string
	mu   sync.Mutex
	rows map[string][]string // result -> names
}

func newSummary(host string) *summary { return &summary{host: host, rows: map[string][]string{}} }

func (s *summary) add(sc *Scenario, result, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := sc.Name
	switch {
	case result == "n/a":
		line += ": " + detail
	case result == "fail" && sc.Policy:
		line += " (API answer policy)"
	}
	s.rows[result] = append(s.rows[result], line)
	tag := strings.ToUpper(result)
	if result == "n/a" {
		tag = "NOT APPLICABLE: " + detail
	}
	fmt.Printf("conformance %s: %s: %s\n", s.host, sc.Name, tag)
}

func (s *summary) print() {
	fmt.Printf("conformance %s: %d pass, %d fail, %d not applicable\n", s.host, len(s.rows["pass"]), len(s.rows["fail"]), len(s.rows["n/a"]))
	for _, r := range []string{"fail", "n/a"} {
		names := s.rows[r]
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("  %-4s %s\n", strings.ToUpper(r), n)
		}
	}
}

// runAll runs every scenario on host with run, which returns one outcome
// per step. A scenario the data marks not applicable for host is reported
// as such, with the reason.
func runAll(t *testing.T, host string, run func(t *testing.T, s *Scenario) []Outcome) {
	runBatch(t, host, func(t *testing.T, all []*Scenario) map[string][]Outcome {
		out := map[string][]Outcome{}
		for _, s := range all {
			out[s.Name] = run(t, s)
		}
		return out
	}, false)
}

// runBatch is runAll for a host that runs all applicable scenarios at once
// (batch returns each one's outcomes by name); each is then checked in a
// subtest of its own. With batch false, each scenario runs (and is reset)
// inside its own subtest.
func runBatch(t *testing.T, host string, run func(t *testing.T, all []*Scenario) map[string][]Outcome, batch bool) {
	f := startFaultServer(t)
	sum := newSummary(host)
	defer sum.print()
	scenarios := f.scenarios(t)
	var outcomes map[string][]Outcome
	if batch {
		var runnable []*Scenario
		for i := range scenarios {
			if scenarios[i].NotApplicable[host] == "" {
				f.reset(t, scenarios[i].Name)
				runnable = append(runnable, &scenarios[i])
			}
		}
		outcomes = run(t, runnable)
	}
	for i := range scenarios {
		s := &scenarios[i]
		t.Run(s.Name, func(t *testing.T) {
			if why := s.NotApplicable[host]; why != "" {
				sum.add(s, "n/a", why)
				t.Logf("not applicable on %s: %s", host, why)
				return
			}
			got := outcomes[s.Name]
			if !batch {
				f.reset(t, s.Name)
				got = run(t, []*Scenario{s})[s.Name]
			}
			v := f.check(t, s.Name, host, got)
			for _, n := range v.Notes {
				t.Log("note: " + n)
			}
			if v.Pass {
				sum.add(s, "pass", "")
				return
			}
			sum.add(s, "fail", "")
			policy := ""
			if s.Policy {
				policy = " (API answer policy, POLICY.md)"
			}
			t.Errorf("%s%s: %s\n  %s", s.Name, policy, s.About, strings.Join(v.Failures, "\n  "))
		})
	}
}

// root is the repository root.
var root = wasitest.Root
