package monitor

import (
	"errors"
	"os/user"
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
