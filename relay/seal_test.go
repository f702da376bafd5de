package relay

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newKeyLine returns a fresh "KID KEY" seal-keys line and the key's text.
func newKeyLine(t testing.TB, kid string) (line, key string) {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	key = base64.StdEncoding.EncodeToString(b)
	return kid + " " + key + "\n", key
}

func mustSealer(t testing.TB, lines ...string) *sealer {
	t.Helper()
	s, err := parseSealKeys([]byte(strings.Join(lines, "")))
	if err != nil {
		t.Fatalf("parseSealKeys: %v", err)
	}
	return s
}

func TestSealRoundTrip(t *testing.T) {
	line, _ := newKeyLine(t, "k1")
	s := mustSealer(t, line)
	blob, err := s.seal(purposeRefresh, "exchange", "cid", []byte("payload"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(blob, "=+/") {
		t.Errorf("blob %q is not base64url without padding", blob)
	}
	got, err := s.open(purposeRefresh, "exchange", "cid", blob)
	if err != nil || string(got) != "payload" {
		t.Fatalf("open = %q, %v; want payload", got, err)
	}
	other, _ := s.seal(purposeRefresh, "exchange", "cid", []byte("payload"))
	if other == blob {
		t.Error("two seals of one payload are equal; nonce not random")
	}
}

func TestSealBinding(t *testing.T) {
	line, _ := newKeyLine(t, "k1")
	s := mustSealer(t, line)
	blob, _ := s.seal(purposeTicket, "exchange", "cid", []byte("x"))
	tests := []struct {
		name                        string
		purpose, provider, clientID string
	}{
		{"other purpose", purposeResult, "exchange", "cid"},
		{"refresh purpose", purposeRefresh, "exchange", "cid"},
		{"other provider", purposeTicket, "other", "cid"},
		{"other client", purposeTicket, "exchange", "cid2"},
		{"shifted boundary", purposeTicket, "exchangec", "id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.open(tc.purpose, tc.provider, tc.clientID, blob); err != errBadBlob {
				t.Errorf("open(%s,%s,%s) = %v, want errBadBlob", tc.purpose, tc.provider, tc.clientID, err)
			}
		})
	}
}

func TestOpenRejectsDamage(t *testing.T) {
	line, _ := newKeyLine(t, "k1")
	s := mustSealer(t, line)
	blob, _ := s.seal(purposeResult, "p", "c", []byte("secret result"))
	raw, _ := base64.RawURLEncoding.DecodeString(blob)
	otherLine, _ := newKeyLine(t, "k1")
	foreign, _ := mustSealer(t, otherLine).seal(purposeResult, "p", "c", []byte("secret result"))
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	tests := []struct{ name, blob string }{
		{"empty", ""},
		{"not base64", "!!!" + blob},
		{"padded", blob + "=="},
		{"truncated", blob[:len(blob)-4]},
		{"header only", base64.RawURLEncoding.EncodeToString(raw[:4])},
		{"version", flip(0)},
		{"kid length", flip(1)},
		{"kid", flip(2)},
		{"nonce", flip(5)},
		{"ciphertext", flip(len(raw) - 20)},
		{"tag", flip(len(raw) - 1)},
		{"foreign key same kid", foreign},
		{"too long", strings.Repeat("A", maxBlobLen+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if pt, err := s.open(purposeResult, "p", "c", tc.blob); err != errBadBlob {
				t.Errorf("open(%s) = %q, %v; want errBadBlob", tc.name, pt, err)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldLine, _ := newKeyLine(t, "k2025")
	newLine, _ := newKeyLine(t, "k2026")
	before := mustSealer(t, oldLine)
	after := mustSealer(t, newLine, oldLine)
	oldBlob, _ := before.seal(purposeRefresh, "p", "c", []byte("rt"))
	if got, err := after.open(purposeRefresh, "p", "c", oldBlob); err != nil || string(got) != "rt" {
		t.Fatalf("old blob under rotated keys = %q, %v", got, err)
	}
	newBlob, _ := after.seal(purposeRefresh, "p", "c", []byte("rt"))
	raw, _ := base64.RawURLEncoding.DecodeString(newBlob)
	if kid := string(raw[2 : 2+raw[1]]); kid != "k2026" {
		t.Errorf("new blob sealed under %q, want the first key k2026", kid)
	}
	if _, err := before.open(purposeRefresh, "p", "c", newBlob); err != errBadBlob {
		t.Errorf("new blob opened without the new key: %v", err)
	}
}

func TestParseSealKeys(t *testing.T) {
	good, key := newKeyLine(t, "k1")
	tests := []struct {
		name, data, wantErr string
	}{
		{"ok", "# comment\n\n" + good, ""},
		{"two keys", good + strings.Replace(good, "k1", "k2", 1), ""},
		{"empty", "", "no keys"},
		{"one field", "k1\n", "line 1: want"},
		{"three fields", "k1 " + key + " extra\n", "line 1: want"},
		{"bad kid", "k/1 " + key + "\n", "line 1: key id"},
		{"long kid", strings.Repeat("k", 17) + " " + key + "\n", "line 1: key id"},
		{"duplicate", good + good, "line 2: duplicate"},
		{"unpadded", "k1 " + strings.TrimRight(key, "=") + "\n", "line 1: key must be"},
		{"url alphabet", "k1 " + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + "\n", "line 1: key must be"},
		{"short", "k1 " + base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n", "line 1: key must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseSealKeys([]byte(tc.data))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("parseSealKeys = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("parseSealKeys = %v, want error containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), strings.TrimRight(key, "=")[:16]) {
				t.Errorf("error %q shows key material", err)
			}
		})
	}
}

func TestReadSealKeysWarnsWhenOpen(t *testing.T) {
	line, _ := newKeyLine(t, "k1")
	path := filepath.Join(t.TempDir(), "seal.keys")
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	if _, err := readSealKeys(path, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "open to other users") {
		t.Errorf("no warning for a 0644 key file; log: %s", logs.String())
	}
	if _, err := readSealKeys(filepath.Join(t.TempDir(), "missing"), slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Error("missing key file: no error")
	}
}

// FuzzOpen checks that no input but a blob the sealer made opens, and none panics.
func FuzzOpen(f *testing.F) {
	line, _ := newKeyLine(f, "k1")
	s := mustSealer(f, line)
	valid, _ := s.seal(purposeRefresh, "p", "c", []byte("payload"))
	f.Add(valid)
	f.Add(valid[:len(valid)-1] + "A")
	f.Add("")
	f.Add("AQJrMQ")
	f.Add(strings.Repeat("A", 60))
	f.Fuzz(func(t *testing.T, blob string) {
		pt, err := s.open(purposeRefresh, "p", "c", blob)
		if err == nil && (blob != valid || string(pt) != "payload") {
			t.Fatalf("open(%q) = %q: a blob the sealer did not make opened", blob, pt)
		}
		var v refreshBlob
		if err := s.openJSON(purposeTicket, "p", "c", blob, &v); err == nil {
			t.Fatalf("openJSON(%q) opened a refresh blob as a ticket", blob)
		}
	})
}
