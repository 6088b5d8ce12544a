package monitor

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

func TestUserNames(t *testing.T) {
	passwd := map[string]string{"0": "root", "33": "www-data"}
	lookups := map[string]int{}
	now := time.Unix(1_700_000_000, 0)
	u := userNames{
		lookup: func(uid string) (string, error) {
			lookups[uid]++
			if name, ok := passwd[uid]; ok {
				return name, nil
			}
			return "", user.UnknownUserIdError(0)
		},
		now: func() time.Time { return now },
	}
	for range 3 {
		if got := u.name(33); got != "www-data" {
			t.Fatalf("name(33) = %q, want www-data", got)
		}
		if got := u.name(4242); got != "4242" {
			t.Fatalf("name(4242) = %q, want the number", got)
		}
	}
	if lookups["33"] != 1 || lookups["4242"] != 1 {
		t.Errorf("lookups %v: each uid should be looked up once", lookups)
	}

	// A user added later gets its name, once the retry interval passed.
	passwd["4242"] = "alice"
	now = now.Add(userRetry - time.Second)
	if got := u.name(4242); got != "4242" || lookups["4242"] != 1 {
		t.Errorf("name(4242) within the retry interval = %q after %d lookups, want the number from the cache", got, lookups["4242"])
	}
	now = now.Add(time.Second)
	if got := u.name(4242); got != "alice" || lookups["4242"] != 2 {
		t.Errorf("name(4242) after the retry interval = %q after %d lookups, want alice from a second lookup", got, lookups["4242"])
	}
	now = now.Add(10 * userRetry)
	if got := u.name(4242); got != "alice" || lookups["4242"] != 2 {
		t.Errorf("a name found is kept: %q after %d lookups", got, lookups["4242"])
	}

	// A database that cannot be read leaves the number too.
	broken := userNames{lookup: func(string) (string, error) { return "", errors.New("open /etc/passwd: permission denied") }}
	if got := broken.name(0); got != "0" {
		t.Errorf("name(0) with an unreadable database = %q, want 0", got)
	}
}

// TestUserNamesOfThisHost asks the real passwd database: every Linux host
// names uid 0 root.
func TestUserNamesOfThisHost(t *testing.T) {
	var u userNames
	if got := u.name(0); got != "root" {
		t.Errorf("name(0) = %q, want root", got)
	}
}

// TestLookupUserAsksGetentForWhatPasswdLacks: a uid /etc/passwd does not
// name is asked of getent, which is what NSS (LDAP, sssd) answers through
// in a static build. The directory is played by a getent of the test's on
// PATH, since no NSS module can be configured here; the real getent is
// checked against /etc/passwd's root.
func TestLookupUserAsksGetentForWhatPasswdLacks(t *testing.T) {
	if _, err := exec.LookPath("getent"); err != nil {
		t.Fatal("getent is missing: apt-get install libc-bin")
	}
	if got, err := getentUser("0"); err != nil || got != "root" {
		t.Fatalf("getentUser(0) = %q, %v; want root", got, err)
	}
	const uid = "4199999" // named by no /etc/passwd
	if _, err := user.LookupId(uid); err == nil {
		t.Fatalf("uid %s has a name in /etc/passwd; pick another", uid)
	}
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$1 $2\" = \"passwd " + uid + "\" ] || exit 2\necho 'dir-alice:*:" + uid + ":100:Alice:/home/alice:/bin/sh'\n"
	if err := os.WriteFile(filepath.Join(dir, "getent"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	if got, err := lookupUser(uid); err != nil || got != "dir-alice" {
		t.Errorf("lookupUser(%s) = %q, %v; want dir-alice from getent", uid, got, err)
	}
	if _, err := lookupUser("4199998"); err == nil {
		t.Error("lookupUser of a uid getent does not know succeeded")
	}
	var u userNames
	if got := u.name(4199998); got != "4199998" {
		t.Errorf("name of an unknown uid = %q, want its number", got)
	}
}
