package app

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestLaunchAgentPlist(t *testing.T) {
	tests := []struct{ name, exe, wantString, errText string }{
		{"app bundle", "/Applications/tokentray.app/Contents/MacOS/tokentray", "/Applications/tokentray.app/Contents/MacOS/tokentray", ""},
		{"markup escaped", "/Users/a/b&c/<t>", "/Users/a/b&c/<t>", ""},
		{"relative", "tokentray", "", "absolute"},
		{"newline", "/x\n</string><string>--evil", "", "control character"},
		{"bad UTF-8", "/x\xff", "", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := launchAgentPlist(tt.exe)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("launchAgentPlist(%q) = %v, want an error about %q", tt.exe, err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("launchAgentPlist(%q) = %v", tt.exe, err)
			}
			// Read it back as XML, as launchd would: one dict, the program alone.
			var doc struct {
				Dict struct {
					Keys   []string `xml:"key"`
					Values []string `xml:"string"`
					Array  struct {
						Strings []string `xml:"string"`
					} `xml:"array"`
				} `xml:"dict"`
			}
			if err := xml.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("launchAgentPlist(%q) is not XML: %v\n%s", tt.exe, err, got)
			}
			wantKeys := []string{"Label", "ProgramArguments", "RunAtLoad", "LimitLoadToSessionType", "ProcessType"}
			if strings.Join(doc.Dict.Keys, ",") != strings.Join(wantKeys, ",") {
				t.Errorf("keys = %v, want %v", doc.Dict.Keys, wantKeys)
			}
			if args := doc.Dict.Array.Strings; len(args) != 1 || args[0] != tt.wantString {
				t.Errorf("ProgramArguments = %q, want [%q]", args, tt.wantString)
			}
			if want := []string{launchAgentLabel, "Aqua", "Interactive"}; strings.Join(doc.Dict.Values, ",") != strings.Join(want, ",") {
				t.Errorf("string values = %q, want %q", doc.Dict.Values, want)
			}
			if !strings.Contains(got, "<key>RunAtLoad</key>\n\t<true/>") {
				t.Errorf("RunAtLoad is not true:\n%s", got)
			}
		})
	}
}

func TestRunValue(t *testing.T) {
	tests := []struct{ name, exe, want, errText string }{
		{"program files", `C:\Program Files\tokentray\tokentray.exe`, `"C:\Program Files\tokentray\tokentray.exe"`, ""},
		{"lower-case drive", `d:\t.exe`, `"d:\t.exe"`, ""},
		{"UNC share", `\\server\share\tokentray.exe`, `"\\server\share\tokentray.exe"`, ""},
		{"percent kept", `C:\100%\t.exe`, `"C:\100%\t.exe"`, ""},
		{"relative", `tokentray.exe`, "", "absolute"},
		{"drive-relative", `C:tokentray.exe`, "", "absolute"},
		{"unix path", `/usr/bin/tokentray`, "", "absolute"},
		{"quote", `C:\a" --evil "\t.exe`, "", "double quote"},
		{"newline", "C:\\a\n.exe", "", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runValue(tt.exe)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("runValue(%q) = %q, %v; want an error about %q", tt.exe, got, err, tt.errText)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("runValue(%q) = %q, %v; want %q", tt.exe, got, err, tt.want)
			}
		})
	}
	if runKeyPath != `Software\Microsoft\Windows\CurrentVersion\Run` || runValueName != "tokentray" {
		t.Errorf("Run key = %s value %s", runKeyPath, runValueName)
	}
}
