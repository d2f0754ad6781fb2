// Command echo prints word, which BuildBinaries' test sets with -ldflags.
package main

import "fmt"

var word = "unset"

func main() { fmt.Println(word) }
