package e2e

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// No Docker engine runs where these tests run, so the image itself is never
// built here. What can be checked without one is checked: the Dockerfile's
// own `go build` command, taken from the file, compiles both programs into
// static executables (every other test of this package then runs those very
// binaries), and the stages, user and entrypoint are what the image promises.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
	line int
}

// parseDockerfile splits a Dockerfile into instructions: comments and blank
// lines dropped, lines ending in a backslash joined to the next.
func parseDockerfile(path string) ([]instruction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out     []instruction
		cur     strings.Builder
		startAt int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			startAt = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: startAt})
		cur.Reset()
	}
	return out, sc.Err()
}

// shellName is what a variable expansion may name.
var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// shellWords splits a command line as sh would, for the simple commands a
// Dockerfile's RUN holds: single and double quotes and backslashes, with
// ${NAME} and $NAME expanded from vars (unset ones to ""). Anything fancier
// (pipes, &&, substitutions) is refused rather than misread.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		inTok bool
	)
	expand := func(s string, i int) (int, error) { // s[i] == '$'
		name, end := "", i+1
		if end < len(s) && s[end] == '{' {
			close := strings.IndexByte(s[end:], '}')
			if close < 0 {
				return 0, fmt.Errorf("unterminated ${ in %q", s)
			}
			name, end = s[end+1:end+close], end+close+1
		} else {
			for end < len(s) && (s[end] == '_' || 'A' <= s[end] && s[end] <= 'Z' || 'a' <= s[end] && s[end] <= 'z' || '0' <= s[end] && s[end] <= '9') {
				end++
			}
			name = s[i+1 : end]
		}
		if !shellName.MatchString(name) {
			return 0, fmt.Errorf("unsupported expansion in %q", s)
		}
		cur.WriteString(vars[name])
		return end, nil
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inTok {
				words = append(words, cur.String())
				cur.Reset()
				inTok = false
			}
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			inTok, i = true, i+end+2
		case c == '"':
			inTok = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '\\':
					i++
					if i < len(s) {
						cur.WriteByte(s[i])
					}
				case '$':
					end, err := expand(s, i)
					if err != nil {
						return nil, err
					}
					i = end - 1
				default:
					cur.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, fmt.Errorf(`unterminated " in %q`, s)
			}
			i++
		case c == '$':
			end, err := expand(s, i)
			if err != nil {
				return nil, err
			}
			inTok, i = true, end
		case strings.IndexByte("|&;<>()`*?[", c) >= 0:
			return nil, fmt.Errorf("%q needs a real shell (%q)", s, c)
		case c == '\\':
			if i+1 < len(s) {
				cur.WriteByte(s[i+1])
			}
			inTok, i = true, i+2
		default:
			cur.WriteByte(c)
			inTok, i = true, i+1
		}
	}
	if inTok {
		words = append(words, cur.String())
	}
	return words, nil
}

// goBuildCommand finds the Dockerfile's `RUN ... go build ...` and returns
// its environment assignments and go's arguments, with the ARGs declared
// before it expanded to their defaults.
func goBuildCommand(path string) (env, args []string, err error) {
	ins, err := parseDockerfile(path)
	if err != nil {
		return nil, nil, err
	}
	vars := map[string]string{}
	for _, in := range ins {
		switch in.cmd {
		case "ARG":
			name, def, _ := strings.Cut(in.args, "=")
			def = strings.Trim(def, `"`)
			vars[name] = def
		case "RUN":
			if !strings.Contains(in.args, "go build") {
				continue
			}
			words, err := shellWords(in.args, vars)
			if err != nil {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, in.line, err)
			}
			for len(words) > 0 && strings.Contains(words[0], "=") {
				env, words = append(env, words[0]), words[1:]
			}
			if len(words) < 2 || words[0] != "go" || words[1] != "build" {
				return nil, nil, fmt.Errorf("%s:%d: want [NAME=VALUE...] go build ..., got %q", path, in.line, in.args)
			}
			return env, words[2:], nil
		}
	}
	return nil, nil, fmt.Errorf("%s: no RUN with go build", path)
}

// dockerfileBuild runs the Dockerfile's go build in the repository at root,
// with its -o directory replaced by out.
func dockerfileBuild(root, out string) error {
	env, args, err := goBuildCommand(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return err
	}
	i := slices.Index(args, "-o")
	if i < 0 || i+1 >= len(args) || !strings.HasSuffix(args[i+1], "/") {
		return fmt.Errorf("the Dockerfile's go build has no -o DIR/: %q", args)
	}
	args = slices.Clone(args)
	args[i+1] = out + string(filepath.Separator)
	cmd := exec.Command(goTool(), append([]string{"build"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", strings.Join(env, " "), strings.Join(cmd.Args, " "), err, output)
	}
	return nil
}

func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	t.Parallel()
	env, args, err := goBuildCommand(repoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("the Dockerfile builds with %q; want CGO_ENABLED=0 for static binaries", env)
	}
	for _, pkg := range []string{"./cmd/procwatch", "./cmd/procctl"} {
		if !slices.Contains(args, pkg) {
			t.Errorf("the Dockerfile's go build %q does not build %s", args, pkg)
		}
	}

	b := binaries(t)
	t.Logf("built with the Dockerfile's command (%s, go build %s) in %s",
		strings.Join(env, " "), strings.Join(args, " "), built.duration.Round(100_000_000))
	for _, bin := range []string{b.procwatch, b.procctl} {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", bin, err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s has a %s program header: dynamically linked, it needs a libc the image does not have", filepath.Base(bin), p.Type)
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("%s imports shared libraries %q (%v)", filepath.Base(bin), libs, err)
		}
		f.Close()
		// The distroless image has no shell or libc: a static binary that
		// starts here starts there.
		if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil {
			t.Errorf("%s --help: %v\n%s", filepath.Base(bin), err, out)
		}
	}
}

func TestDockerfileImage(t *testing.T) {
	t.Parallel()
	ins, err := parseDockerfile(repoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d build stages; want a build stage and a runtime stage", len(stages))
	}
	final := stages[len(stages)-1]

	var user, entrypoint string
	var copied []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			if !strings.HasPrefix(in.args, "--from=") {
				t.Errorf("line %d: the runtime stage copies from the build context (%s); want only the built binaries", in.line, in.args)
			}
			f := strings.Fields(in.args)
			dest := f[len(f)-1]
			for _, src := range f[1 : len(f)-1] {
				copied = append(copied, filepath.Join(dest, filepath.Base(src)))
			}
		case "RUN":
			t.Errorf("line %d: RUN in the runtime stage; the distroless base has no shell", in.line)
		}
	}
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" || name == "0" {
		t.Errorf("the image runs as %q; want a non-root USER in the final stage", user)
	}
	for _, want := range []string{"/usr/local/bin/procwatch", "/usr/local/bin/procctl"} {
		if !slices.Contains(copied, want) {
			t.Errorf("the image has %q; want %s", copied, want)
		}
	}
	if entrypoint != `["/usr/local/bin/procwatch"]` {
		t.Errorf("ENTRYPOINT %s; want the agent, in exec form", entrypoint)
	}

	// .git would make the context large and the build depend on the
	// checkout; bin/ and .demo/ hold this machine's binaries.
	ignore, err := os.ReadFile(repoFile(t, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{".git", "bin", ".demo"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"VERSION": "1.2", "EMPTY": ""}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`CGO_ENABLED=0 go build -o /out/ ./cmd/a`, []string{"CGO_ENABLED=0", "go", "build", "-o", "/out/", "./cmd/a"}},
		{`go build -ldflags="-s -w -X main.version=${VERSION}" x`, []string{"go", "build", "-ldflags=-s -w -X main.version=1.2", "x"}},
		{`a '$VERSION' $VERSION "${EMPTY}" b\ c`, []string{"a", "$VERSION", "1.2", "", "b c"}},
	} {
		got, err := shellWords(tc.in, vars)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`a && b`, `echo "x`, `a $(b)`, `a | b`} {
		if got, err := shellWords(bad, vars); err == nil {
			t.Errorf("shellWords(%q) = %q; want an error", bad, got)
		}
	}
}
