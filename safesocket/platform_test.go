package safesocket

import (
	"strings"
	"testing"
)

const testSID = "S-1-5-21-1004336348-1177238915-682003330-1001"

func TestFolderSDDL(t *testing.T) {
	tests := []struct{ name, sid, want, errText string }{
		{"user", testSID, "O:" + testSID + "D:P(A;OICI;FA;;;" + testSID + ")", ""},
		{"system", "S-1-5-18", "O:S-1-5-18D:P(A;OICI;FA;;;S-1-5-18)", ""},
		{"empty", "", "", "not a SID"},
		{"alias", "BA", "", "not a SID"},
		{"injection", testSID + ")(A;OICI;FA;;;WD", "", "not a SID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := folderSDDL(tt.sid)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("folderSDDL(%q) = %q, %v; want an error about %q", tt.sid, got, err, tt.errText)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("folderSDDL(%q) = %q, %v; want %q", tt.sid, got, err, tt.want)
			}
			// What we write passes our own check.
			if err := checkFolderSDDL(got, tt.sid); err != nil {
				t.Fatalf("checkFolderSDDL(folderSDDL(%q)) = %v, want nil", tt.sid, err)
			}
		})
	}
}

func TestCheckFolderSDDL(t *testing.T) {
	const other = "S-1-5-21-1004336348-1177238915-682003330-1002"
	tests := []struct{ name, sddl, errText string }{
		{"ours", "O:" + testSID + "D:P(A;OICI;FA;;;" + testSID + ")", ""},
		{"ours with group", "O:" + testSID + "G:" + testSID + "D:P(A;OICI;FA;;;" + testSID + ")", ""},
		{"ours, read by the user twice", "O:" + testSID + "D:PAI(A;OICI;FA;;;" + testSID + ")(A;;FR;;;" + testSID + ")", ""},
		{"deny everyone is fine", "O:" + testSID + "D:P(D;;FA;;;WD)(A;OICI;FA;;;" + testSID + ")", ""},
		{"no entries", "O:" + testSID + "D:P", ""},
		{"inherited from the profile (system, administrators)", "O:" + testSID + "D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;" + testSID + ")", ""},
		{"creator owner", "O:" + testSID + "D:(A;OICIIO;FA;;;CO)(A;;FA;;;" + testSID + ")", ""},
		{"users can read", "O:" + testSID + "D:AI(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)(A;OICIID;FA;;;" + testSID + ")", "open to others (BU)"},
		{"authenticated users", "O:" + testSID + "D:(A;OICIID;FA;;;S-1-5-11)", "open to others (S-1-5-11)"},
		{"everyone", "O:" + testSID + "D:(A;;FA;;;WD)", "open to others (WD)"},
		{"another user", "O:" + testSID + "D:(A;;FR;;;" + other + ")", "open to others (" + other + ")"},
		{"object ace", "O:" + testSID + "D:(OA;;FA;;;AU)", "open to others (AU)"},
		{"owned by administrators", "O:BAD:P(A;OICI;FA;;;" + testSID + ")", "belongs to S-1-5-32-544"},
		{"owned by another", "O:" + other + "D:P(A;OICI;FA;;;" + testSID + ")", "belongs to " + other},
		{"no owner", "D:P(A;OICI;FA;;;" + testSID + ")", "no owner"},
		{"no DACL", "O:" + testSID, "no access list"},
		{"null DACL", "O:" + testSID + "D:NO_ACCESS_CONTROL", "null access list"},
		{"malformed entry", "O:" + testSID + "D:(A;;FA)", "did not write"},
		{"unterminated entry", "O:" + testSID + "D:(A;;FA;;;WD", "open to others (WD"},
		{"SACL ignored", "O:" + testSID + "D:P(A;;FA;;;" + testSID + ")S:(AU;SA;FA;;;WD)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkFolderSDDL(tt.sddl, testSID)
			if tt.errText == "" {
				if err != nil {
					t.Fatalf("checkFolderSDDL(%q) = %v, want nil", tt.sddl, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("checkFolderSDDL(%q) = %v, want an error with %q", tt.sddl, err, tt.errText)
			}
		})
	}
}

func TestCheckFolderSDDLAsSystem(t *testing.T) {
	// An agent running as LocalSystem sees its own SID printed as "SY".
	if err := checkFolderSDDL("O:SYD:P(A;OICI;FA;;;SY)", "S-1-5-18"); err != nil {
		t.Fatalf("checkFolderSDDL(alias of self) = %v, want nil", err)
	}
}

func FuzzCheckFolderSDDL(f *testing.F) {
	f.Add("O:" + testSID + "D:P(A;OICI;FA;;;" + testSID + ")")
	f.Add("O:" + testSID + "D:(A;;FA;;;WD)")
	f.Add("O:BAD:NO_ACCESS_CONTROL")
	f.Fuzz(func(t *testing.T, sddl string) {
		if checkFolderSDDL(sddl, testSID) != nil {
			return
		}
		// Accepted: then no allow entry names anyone but testSID.
		for _, ace := range sddlACEs(sddl[strings.Index(sddl, "D:")+2:]) {
			fs := strings.Split(ace, ";")
			if fs[0] != "D" && fs[0] != "OD" && fs[0] != "XD" && resolveSID(fs[5]) != testSID && !tolerated[resolveSID(fs[5])] {
				t.Fatalf("checkFolderSDDL(%q) accepted an entry for %s", sddl, fs[5])
			}
		}
	})
}

func TestParseProcArgs2(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"typical", []byte("\x02\x00\x00\x00/usr/bin/python3\x00\x00\x00\x00python3\x00x.py\x00HOME=/Users/a\x00"), "/usr/bin/python3", false},
		{"spaces", []byte("\x01\x00\x00\x00/Applications/My App.app/Contents/MacOS/app\x00"), "/Applications/My App.app/Contents/MacOS/app", false},
		{"empty", nil, "", true},
		{"argc only", []byte{1, 0, 0, 0}, "", true},
		{"unterminated", []byte("\x01\x00\x00\x00/bin/sh"), "", true},
		{"empty path", []byte("\x01\x00\x00\x00\x00/bin/sh\x00"), "", true},
		{"relative path", []byte("\x01\x00\x00\x00./tool\x00./tool\x00"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcArgs2(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("parseProcArgs2(%q) = %q, %v; want %q (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSameUser(t *testing.T) {
	tests := []struct {
		name        string
		peer, owner Peer
		want        bool
	}{
		{"same uid", Peer{UID: 1000}, Peer{UID: 1000}, true},
		{"root owner, root peer", Peer{UID: 0}, Peer{UID: 0}, true},
		{"other uid", Peer{UID: 65534}, Peer{UID: 1000}, false},
		{"unknown uids", Peer{UID: -1}, Peer{UID: -1}, false},
		{"same SID", Peer{UID: -1, SID: testSID}, Peer{UID: -1, SID: testSID}, true},
		{"other SID", Peer{UID: -1, SID: "S-1-5-18"}, Peer{UID: -1, SID: testSID}, false},
		{"peer SID unknown", Peer{UID: -1}, Peer{UID: -1, SID: testSID}, false},
		{"owner SID unknown", Peer{UID: -1, SID: testSID}, Peer{UID: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameUser(tt.peer, tt.owner); got != tt.want {
				t.Fatalf("sameUser(%+v, %+v) = %v, want %v", tt.peer, tt.owner, got, tt.want)
			}
		})
	}
}

func FuzzParseProcArgs2(f *testing.F) {
	f.Add([]byte("\x02\x00\x00\x00/usr/bin/python3\x00\x00python3\x00"))
	f.Add([]byte("\x01\x00\x00\x00./tool\x00"))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		exe, err := parseProcArgs2(b)
		if err != nil {
			return
		}
		if exe == "" || exe[0] != '/' || strings.ContainsRune(exe, 0) || len(exe) > len(b)-5 {
			t.Fatalf("parseProcArgs2(%q) = %q: not one absolute path from the buffer", b, exe)
		}
	})
}
