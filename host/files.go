package host

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// fileRead is the module's request for a credential file (wasm/ABI.md,
// "Credential files"): a client_assertion_file, or a certificate given as
// a path. The module decides what to do with the content.
type fileRead struct {
	Path  string `json:"path"`
	Field string `json:"field"`
}

type fileReply struct {
	Content string `json:"content"`
}

// maxCredentialFile bounds a read: a platform JWT or a certificate chain
// is a few kilobytes; anything larger is the wrong file.
const maxCredentialFile = 64 << 10

// readCredentialFile reads the file afresh each time, since the platform
// replaces it (by rename) while the program runs. The failure message names
// the path and the reason, never content.
func readCredentialFile(r *fileRead) (*fileReply, *httpFailure) {
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, &httpFailure{Kind: "file", Message: fileProblem(err)}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	if err != nil {
		return nil, &httpFailure{Kind: "file", Message: fileProblem(err)}
	}
	return &fileReply{Content: string(b)}, nil
}

func fileProblem(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it does not exist (relative paths are taken from the working directory)"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
