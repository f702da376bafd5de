package relay

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// Blob purposes (docs/relay.md §3). A blob sealed for one purpose never opens as another.
const (
	purposeTicket  = "ticket"
	purposeResult  = "result"
	purposeRefresh = "refresh"
)

const (
	sealVersion = 1
	// maxBlobLen bounds an encoded blob before any decoding work is done.
	maxBlobLen = 16 << 10
)

// errBadBlob is the one answer for a blob that does not open: forged, truncated,
// sealed under an unknown key, or for another purpose, provider or client.
var errBadBlob = errors.New("blob does not open")

var kidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

type sealKey struct {
	id   string
	aead cipher.AEAD
}

// sealer seals with its first key and opens with any of them. It is safe for
// concurrent use.
type sealer struct {
	keys []sealKey
}

// readSealKeys reads a seal keys file: lines "KID KEY", blank lines and # comments
// ignored. Errors name the line, never its content.
func readSealKeys(path string, log *slog.Logger) (*sealer, error) {
	data, err := readSecretFile(path, "seal_keys_file", log)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	s, err := parseSealKeys(data)
	if err != nil {
		return nil, fmt.Errorf("seal keys %s: %w", path, err)
	}
	return s, nil
}

func parseSealKeys(data []byte) (*sealer, error) {
	s := &sealer{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) != 2 {
			return nil, fmt.Errorf("line %d: want \"KID KEY\"", n)
		}
		kid := parts[0]
		if !kidPattern.MatchString(kid) {
			return nil, fmt.Errorf("line %d: key id must match [A-Za-z0-9_-]{1,16}", n)
		}
		if seen[kid] {
			return nil, fmt.Errorf("line %d: duplicate key id %q", n, kid)
		}
		seen[kid] = true
		key, err := base64.StdEncoding.Strict().DecodeString(parts[1])
		if err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("line %d: key must be standard base64 (padded) of 32 bytes", n)
		}
		aead, err := chacha20poly1305.NewX(key)
		clear(key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		s.keys = append(s.keys, sealKey{id: kid, aead: aead})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	if len(s.keys) == 0 {
		return nil, errors.New("no keys")
	}
	return s, nil
}

// associatedData binds a blob to its purpose, provider and client, each
// length-prefixed so no two triples encode alike.
func associatedData(purpose, providerID, clientID string) []byte {
	var ad []byte
	for _, part := range []string{purpose, providerID, clientID} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(part)))
		ad = append(ad, part...)
	}
	return ad
}

// seal encrypts plaintext under the first key: version ‖ len(kid) ‖ kid ‖ nonce ‖
// ciphertext, base64url without padding.
func (s *sealer) seal(purpose, providerID, clientID string, plaintext []byte) (string, error) {
	k := s.keys[0]
	out := make([]byte, 0, 2+len(k.id)+chacha20poly1305.NonceSizeX+len(plaintext)+k.aead.Overhead())
	out = append(out, sealVersion, byte(len(k.id)))
	out = append(out, k.id...)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal nonce: %w", err)
	}
	out = append(out, nonce...)
	out = k.aead.Seal(out, nonce, plaintext, associatedData(purpose, providerID, clientID))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open decrypts a blob made by seal with any known key; every failure is errBadBlob.
func (s *sealer) open(purpose, providerID, clientID, blob string) ([]byte, error) {
	if len(blob) == 0 || len(blob) > maxBlobLen {
		return nil, errBadBlob
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(blob)
	if err != nil || len(raw) < 2 || raw[0] != sealVersion {
		return nil, errBadBlob
	}
	kidLen := int(raw[1])
	rest := raw[2:]
	if kidLen == 0 || len(rest) < kidLen+chacha20poly1305.NonceSizeX {
		return nil, errBadBlob
	}
	kid := string(rest[:kidLen])
	rest = rest[kidLen:]
	for _, k := range s.keys {
		if k.id != kid {
			continue
		}
		if len(rest) < k.aead.NonceSize()+k.aead.Overhead() {
			return nil, errBadBlob
		}
		nonce, ct := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
		pt, err := k.aead.Open(nil, nonce, ct, associatedData(purpose, providerID, clientID))
		if err != nil {
			return nil, errBadBlob
		}
		return pt, nil
	}
	return nil, errBadBlob
}

// sealJSON seals v encoded as JSON.
func (s *sealer) sealJSON(purpose, providerID, clientID string, v any) (string, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", purpose, err)
	}
	defer clear(pt)
	return s.seal(purpose, providerID, clientID, pt)
}

// openJSON opens blob and decodes its JSON into v; any failure is errBadBlob.
func (s *sealer) openJSON(purpose, providerID, clientID, blob string, v any) error {
	pt, err := s.open(purpose, providerID, clientID, blob)
	if err != nil {
		return err
	}
	defer clear(pt)
	if err := json.Unmarshal(pt, v); err != nil {
		return errBadBlob
	}
	return nil
}
