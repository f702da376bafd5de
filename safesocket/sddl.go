package safesocket

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The Windows socket folder's security, as SDDL strings. Building and
// checking them is plain string work, kept in a file without a build tag so
// it is tested on every system; socket_windows.go applies it.

// sidPattern matches a SID in string form (S-1-5-21-...).
var sidPattern = regexp.MustCompile(`^S-1-[0-9]+(-[0-9]+)+$`)

// sddlAliases maps the SDDL aliases Windows may print in place of a SID to
// the SID, for the accounts an agent may run as.
var sddlAliases = map[string]string{
	"SY": "S-1-5-18",     // LocalSystem
	"LS": "S-1-5-19",     // LocalService
	"NS": "S-1-5-20",     // NetworkService
	"BA": "S-1-5-32-544", // BUILTIN\Administrators (owner of what elevated admins create)
	"CO": "S-1-3-0",      // CREATOR OWNER: whoever creates the entry in the folder
}

// Who besides the user may appear in an existing folder's DACL: the system
// and the administrators, who can read any file anyway (Windows' root), and
// CREATOR OWNER, which on the socket means the agent's user. A folder made by
// os.MkdirTemp or under the profile inherits exactly these.
var tolerated = map[string]bool{
	"S-1-5-18":     true,
	"S-1-5-32-544": true,
	"S-1-3-0":      true,
}

// folderSDDL is the security descriptor of a new socket folder: owned by
// sid, with a protected DACL (nothing inherited from the parent) whose one
// entry grants sid full control, inherited by the socket inside (OICI).
func folderSDDL(sid string) (string, error) {
	if !sidPattern.MatchString(sid) {
		return "", fmt.Errorf("not a SID: %q", sid)
	}
	return "O:" + sid + "D:P(A;OICI;FA;;;" + sid + ")", nil
}

// sddlOwner matches the owner part of an SDDL string.
var sddlOwner = regexp.MustCompile(`^O:([A-Z0-9-]+?)(?:G:|D:|S:|$)`)

// checkFolderSDDL reports, as an error that says what is wrong, whether the
// folder described by sddl (owner and DACL, as GetNamedSecurityInfo prints
// them) is not private to sid: it must be owned by sid, and every entry that
// allows anything must allow it to sid, or to the system, the administrators
// or the creator-owner (tolerated). Deny entries are fine.
func checkFolderSDDL(sddl, sid string) error {
	m := sddlOwner.FindStringSubmatch(sddl)
	if m == nil {
		return errors.New("has no owner in its security descriptor")
	}
	if owner := resolveSID(m[1]); owner != sid {
		return fmt.Errorf("belongs to %s, not to you (%s)", owner, sid)
	}
	i := strings.Index(sddl, "D:")
	if i < 0 {
		return errors.New("has no access list (open to everyone)")
	}
	dacl := sddl[i+2:]
	if j := strings.Index(dacl, "S:"); j >= 0 && !strings.Contains(dacl[:j], "(") {
		dacl = dacl[:j] // flags only, then the SACL
	}
	if strings.HasPrefix(dacl, "NO_ACCESS_CONTROL") {
		return errors.New("has a null access list (open to everyone)")
	}
	var others []string
	for _, ace := range sddlACEs(dacl) {
		f := strings.Split(ace, ";")
		if len(f) < 6 {
			return fmt.Errorf("has an access entry Windows did not write: %q", ace)
		}
		switch f[0] {
		case "D", "OD", "XD": // deny entries only take away
			continue
		}
		if who := resolveSID(f[5]); who != sid && !tolerated[who] {
			others = append(others, who)
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("is open to others (%s)", strings.Join(others, ", "))
	}
	return nil
}

// sddlACEs returns the entries of a DACL string: the text inside each
// top-level pair of parentheses, up to the SACL if any.
func sddlACEs(dacl string) []string {
	var aces []string
	for {
		open := strings.IndexByte(dacl, '(')
		if open < 0 || strings.Contains(dacl[:open], "S:") {
			return aces
		}
		end := strings.IndexByte(dacl[open:], ')')
		if end < 0 {
			return append(aces, dacl[open+1:]) // unterminated: reported as malformed
		}
		aces = append(aces, dacl[open+1:open+end])
		dacl = dacl[open+end+1:]
	}
}

// resolveSID turns an SDDL alias into its SID; a SID or an unknown alias is
// returned as it is.
func resolveSID(s string) string {
	if sid, ok := sddlAliases[s]; ok {
		return sid
	}
	return s
}
