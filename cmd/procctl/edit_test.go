package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// editorScript writes an executable shell script standing in for the
// operator's editor; it is called with the file to edit as its last argument.
func editorScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nset -e\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// editEnv is the environment of an edit run: this server, a temp dir of its
// own (so kept files can be found and leftovers seen) and the editor.
func (f *fixture) editEnv(t *testing.T, root, editor string) (envMap, string) {
	tmp := t.TempDir()
	env := f.env(root)
	env["TMPDIR"] = tmp
	env["EDITOR"] = editor
	return env, tmp
}

// tempFiles lists what edit left in its temp dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "procctl-edit-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// keptFile checks that a failed edit named exactly one kept file holding
// want, and returns its path.
func keptFile(t *testing.T, r result, dir, want string) string {
	t.Helper()
	files := tempFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("want one kept file in %s, got %v\n%s", dir, files, r)
	}
	if !strings.Contains(r.stderr, "your edit is kept in "+files[0]+"\n") {
		t.Errorf("stderr does not name the kept file %s:\n%s", files[0], r.stderr)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("kept file holds %q, want %q", b, want)
	}
	return files[0]
}

func TestEdit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	root := "/procwatch"
	mustRun(t, f.env(root), "init", "sshd", "nginx*")

	t.Run("the change lands; EDITOR may carry arguments", func(t *testing.T) {
		seen := filepath.Join(t.TempDir(), "seen.json")
		editor := editorScript(t, fmt.Sprintf(`[ "$1" = "-w" ] && shift
cp "$1" %s
sed -i 's/"sshd"/"sshd*"/' "$1"`, seen))
		env, tmp := f.editEnv(t, root, editor+" -w")
		r := mustRun(t, env, "edit")
		if want := "saved version 1 (you edited version 0)\n"; r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		shown, _ := os.ReadFile(seen)
		if want := "{\n  \"globs\": [\n    \"sshd\",\n    \"nginx*\"\n  ]\n}\n"; string(shown) != want {
			t.Errorf("the editor was shown %q, want the pretty-printed payload %q", shown, want)
		}
		if doc, v := f.payload(root); string(doc) != `{"globs":["sshd*","nginx*"]}` || v != 1 {
			t.Errorf("payload v%d %s", v, doc)
		}
		if left := tempFiles(t, tmp); len(left) != 0 {
			t.Errorf("temp files left after success: %v", left)
		}
	})

	t.Run("json output", func(t *testing.T) {
		env, _ := f.editEnv(t, root, editorScript(t, `sed -i 's/"nginx\*"/"nginx"/' "$1"`))
		r := mustRun(t, env, "edit", "-o", "json")
		if diff := cmp.Diff(map[string]any{"version": 2.0, "changed": true}, decodeAny(t, []byte(r.stdout))); diff != "" {
			t.Errorf("json (-want +got):\n%s", diff)
		}
	})

	t.Run("unchanged or only reformatted writes nothing", func(t *testing.T) {
		for name, editor := range map[string]string{
			"untouched":   "true",
			"reformatted": editorScript(t, `tr -d ' \n' < "$1" > "$1.c"; mv "$1.c" "$1"`),
		} {
			_, before := f.payload(root)
			env, tmp := f.editEnv(t, root, editor)
			r := mustRun(t, env, "edit")
			if want := fmt.Sprintf("no changes; still at version %d\n", before); r.stdout != want {
				t.Errorf("%s: stdout = %q, want %q", name, r.stdout, want)
			}
			if _, after := f.payload(root); after != before {
				t.Errorf("%s: version %d -> %d", name, before, after)
			}
			if left := tempFiles(t, tmp); len(left) != 0 {
				t.Errorf("%s: temp files left: %v", name, left)
			}
		}
	})

	t.Run("invalid input is refused with exit 2 and kept", func(t *testing.T) {
		for _, tc := range []struct{ content, want string }{
			{`{"globs": [`, "the edited document is not valid JSON: line 1, column 12: unexpected end of JSON input; nothing was written"},
			{`{"globs": ["ok",]}`, "the edited document is not valid JSON: line 1, column 17: invalid character ']' looking for beginning of value"},
			{`["sshd"]`, `the edited document is not a JSON object like {"globs": ["sshd"]}; nothing was written`},
			{`{"globs": "sshd"}`, `the edited document is not a procwatch document like {"globs": ["sshd"]}: line 1, column 17: "globs" must be an array of strings, not a string`},
			{`{"globs": ["ok", "[x"]}`, `invalid glob "[x": syntax error at 2: unexpected end of input; nothing was written`},
			{`{"globs": ["a", "b", "a"]}`, `glob "a" appears more than once`},
			{`{}`, `the edited document is invalid: "globs" is missing or null: the payload must hold an array of globs, [] for none; nothing was written`},
			{`{"globs": null}`, `the edited document is invalid: "globs" is missing or null`},
			{`{"glob": ["sshd"]}`, `the edited document is invalid: "globs" is missing or null`},
			{`{"Globs": ["sshd"]}`, `the edited document is invalid: key "Globs" at the top level matches the field "globs" only when case is ignored; write it "globs"; nothing was written`},
			{`{"globs": ["sshd"], "globs": []}`, `the edited document is invalid: duplicate key "globs" at the top level; nothing was written`},
			{`{"globs": [], "note": {"a": 1, "a": 2}}`, `the edited document is invalid: duplicate key "a" in /note; nothing was written`},
			{`{"globs": ` + mustMarshal(t, manyGlobs(2001, "g")) + `}`, `the edited document is invalid: 2001 globs in one payload, more than the limit of 2000; nothing was written`},
		} {
			doc, before := f.payload(root)
			editor := editorScript(t, fmt.Sprintf("printf '%%s' '%s' > \"$1\"", tc.content))
			env, tmp := f.editEnv(t, root, editor)
			r := run(t, env, "edit")
			label := tc.content
			if len(label) > 60 {
				label = label[:60] + "…"
			}
			if r.code != exitUsage {
				t.Errorf("%s: exit %d, want 2\n%s", label, r.code, r)
				continue
			}
			if !strings.HasPrefix(r.stderr, "procctl: "+tc.want) {
				t.Errorf("%s: stderr = %q, want prefix %q", label, r.stderr, tc.want)
			}
			keptFile(t, r, tmp, tc.content)
			if doc2, after := f.payload(root); after != before || string(doc2) != string(doc) {
				t.Errorf("%s: payload changed", label)
			}
		}
	})

	t.Run("a failing editor writes nothing and keeps the file", func(t *testing.T) {
		_, before := f.payload(root)
		env, tmp := f.editEnv(t, root, editorScript(t, `echo half-typed > "$1"; exit 3`))
		r := run(t, env, "edit")
		if r.code != exitFailure || !strings.HasPrefix(r.stderr, "procctl: the editor failed (exit status 3); nothing was written\n") {
			t.Errorf("%s", r)
		}
		keptFile(t, r, tmp, "half-typed\n")
		if _, after := f.payload(root); after != before {
			t.Errorf("version %d -> %d", before, after)
		}
	})

	t.Run("a concurrent procctl globs add makes the edit refused", func(t *testing.T) {
		bin := procctlBinary(t)
		_, before := f.payload(root)
		// The editor itself runs another procctl while "the operator types".
		editor := editorScript(t, fmt.Sprintf(`%s --zk %s --path %s globs add 'concurrent*' >/dev/null
sed -i 's/"sshd\*"/"sshd-edited"/' "$1"`, bin, f.servers, root))
		env, tmp := f.editEnv(t, root, editor)
		r := run(t, env, "edit")
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		want := fmt.Sprintf("procctl: someone changed /procwatch while you were editing (you edited version %d, it is now at version %d); nothing was written — run `procctl edit` again and re-apply your change\n", before, before+1)
		if !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr = %q, want prefix %q", r.stderr, want)
		}
		keptFile(t, r, tmp, "{\n  \"globs\": [\n    \"sshd-edited\",\n    \"nginx\"\n  ]\n}\n")
		if doc, v := f.payload(root); string(doc) != `{"globs":["sshd*","nginx","concurrent*"]}` || v != before+1 {
			t.Errorf("payload v%d %s: the concurrent add must stand and the edit must not land", v, doc)
		}
	})

	t.Run("a concurrent raw ZooKeeper write makes the edit refused", func(t *testing.T) {
		dir := t.TempDir()
		ready, proceed := filepath.Join(dir, "ready"), filepath.Join(dir, "proceed")
		for _, p := range []string{ready, proceed} {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// The editor tells the test it holds the file, waits until the test
		// has written behind its back, then saves.
		editor := editorScript(t, fmt.Sprintf(`echo ready > %s
read x < %s
sed -i 's/"nginx"/"nginx-edited"/' "$1"`, ready, proceed))
		env, tmp := f.editEnv(t, root, editor)
		done := make(chan result, 1)
		go func() { done <- run(t, env, "edit") }()

		line, err := readFifoLine(ready)
		if err != nil || line != "ready" {
			t.Fatalf("editor handshake: %q %v", line, err)
		}
		_, shown := f.payload(root)
		written := f.setPayload(root, `{"globs":["sshd*","nginx","concurrent*","raw"]}`)
		if err := writeFifoLine(proceed, "go"); err != nil {
			t.Fatal(err)
		}
		var r result
		select {
		case r = <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("edit did not return")
		}
		if r.code != exitFailure {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		want := fmt.Sprintf("procctl: someone changed /procwatch while you were editing (you edited version %d, it is now at version %d)", shown, written)
		if !strings.HasPrefix(r.stderr, want) {
			t.Errorf("stderr = %q, want prefix %q", r.stderr, want)
		}
		keptFile(t, r, tmp, "{\n  \"globs\": [\n    \"sshd*\",\n    \"nginx-edited\",\n    \"concurrent*\"\n  ]\n}\n")
		if doc, _ := f.payload(root); string(doc) != `{"globs":["sshd*","nginx","concurrent*","raw"]}` {
			t.Errorf("payload %s: the raw write must stand", doc)
		}
	})

	t.Run("repairs a payload another client broke", func(t *testing.T) {
		broken := f.setPayload(root, `{"globs": [1`)
		env, tmp := f.editEnv(t, root, editorScript(t, `grep -q '"globs": \[1' "$1"; printf '{"globs": ["fixed"]}' > "$1"`))
		r := mustRun(t, env, "edit")
		if !strings.Contains(r.stderr, "warning: the payload at /procwatch/payload") {
			t.Errorf("no warning about the broken payload:\n%s", r)
		}
		if want := fmt.Sprintf("saved version %d (you edited version %d)\n", broken+1, broken); r.stdout != want {
			t.Errorf("stdout = %q, want %q", r.stdout, want)
		}
		if doc, _ := f.payload(root); string(doc) != `{"globs":["fixed"]}` {
			t.Errorf("payload %s", doc)
		}
		if left := tempFiles(t, tmp); len(left) != 0 {
			t.Errorf("temp files left: %v", left)
		}
	})
}

// readFifoLine opens a FIFO (blocking until the other side opens it) and
// reads one line, bounded so a broken script fails the test.
func readFifoLine(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			ch <- res{"", err}
			return
		}
		defer f.Close()
		s, err := bufio.NewReader(f).ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func writeFifoLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(line + "\n")
	return err
}

// TestEditFallsBackToVi runs the built binary without EDITOR: it must run
// `vi` from PATH, here a script standing in for it.
func TestEditFallsBackToVi(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	env := f.env("/procwatch")
	mustRun(t, env, "init", "sshd")

	bin := t.TempDir()
	vi := filepath.Join(bin, "vi")
	if err := os.WriteFile(vi, []byte("#!/bin/sh\nsed -i 's/\"sshd\"/\"sshd-by-vi\"/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env["PATH"] = bin + ":" + os.Getenv("PATH")
	env["TMPDIR"] = t.TempDir()
	r := runBinary(t, env, "edit", "-o", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	if diff := cmp.Diff(map[string]any{"version": 1.0, "changed": true}, decodeAny(t, []byte(r.stdout))); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	if doc, _ := f.payload("/procwatch"); string(doc) != `{"globs":["sshd-by-vi"]}` {
		t.Errorf("payload %s", doc)
	}
	if left := tempFiles(t, env["TMPDIR"]); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}
