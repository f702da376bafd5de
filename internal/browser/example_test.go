package browser_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tokentray/tokentray/internal/browser"
)

// The default opener follows $BROWSER, else the system's opener; it refuses
// what could read as a command-line option.
func ExampleFromEnv() {
	open := browser.FromEnv(os.Getenv, nil)
	err := open(context.Background(), "--help")
	fmt.Println(err)
	// Output:
	// url starts with '-': url refused
}
