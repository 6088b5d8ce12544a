package watchlist_test

import (
	"fmt"

	"github.com/procwatch/procwatch/internal/watchlist"
)

func ExampleDocument_Validate() {
	err := watchlist.Document{Globs: []string{"nginx", "{a,b", ""}}.Validate()
	fmt.Println(err)
	// Output:
	// invalid glob "{a,b": glob: syntax error at 4: unclosed `{`
	// invalid glob "": empty pattern
}

func ExampleDocument_Add() {
	d := watchlist.Document{Globs: []string{"sshd"}}
	e, _ := d.Add("", []string{"nginx*", "sshd", "nginx*"})
	fmt.Println(d.Globs, e.Added, e.Present, e.Changed)
	// Output:
	// [sshd nginx*] [nginx*] [sshd] true
}
