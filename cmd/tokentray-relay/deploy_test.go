package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentray/tokentray/relay"
)

const deployDir = "../../deploy"

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSystemdUnitHardened(t *testing.T) {
	unit := readDeploy(t, "tokentray-relay.service")
	for _, want := range []string{
		"ExecStart=/usr/local/bin/tokentray-relay --config /etc/tokentray-relay/relay.toml",
		"DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
		"LoadCredential=seal.keys:", "LoadCredential=exchange.secret:", "KillSignal=SIGTERM",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	if regexp.MustCompile(`(?m)^(User|StateDirectory)=`).MatchString(unit) {
		t.Error("the unit names a User or a StateDirectory; it runs as a DynamicUser and keeps no state")
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit, its ExecStart
// pointed at a freshly built relay binary.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (apt-get install systemd)")
	}
	bin := relayBinary(t)
	dir := t.TempDir()
	unit := strings.ReplaceAll(readDeploy(t, "tokentray-relay.service"), "/usr/local/bin/tokentray-relay", bin)
	path := filepath.Join(dir, "tokentray-relay.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// Unknown or malformed settings are only warnings: any line about the unit fails.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "tokentray-relay.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}

	out, _ = exec.Command(analyze, "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for tokentray-relay\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Logf("systemd-analyze security --offline is not supported here:\n%s", out)
		return
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("exposure level %.1f, want at most 2.0 (systemd-analyze security --offline=yes)", level)
	}
}

func TestDockerfile(t *testing.T) {
	df := readDeploy(t, "Dockerfile")
	for _, want := range []string{
		"AS build", "CGO_ENABLED=0", "\nFROM scratch\n", "./cmd/tokentray-relay",
		"COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
		`ENTRYPOINT ["/usr/local/bin/tokentray-relay"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindStringSubmatch(df)
	if user == nil || user[1] == "root" || strings.HasPrefix(user[1], "0") {
		t.Errorf("the image's USER = %v, want a non-root uid", user)
	}
}

// TestExampleConfig loads deploy/relay.example.toml and checks it, TLS files, seal
// keys and secret included, once its paths point at real files.
func TestExampleConfig(t *testing.T) {
	example := readDeploy(t, "relay.example.toml")
	if _, err := relay.LoadConfig(filepath.Join(deployDir, "relay.example.toml")); err != nil {
		t.Fatalf("LoadConfig(example) = %v", err)
	}
	dir := t.TempDir()
	var keyLine bytes.Buffer
	if code := run(context.Background(), []string{"gen-key"}, &keyLine, &bytes.Buffer{}); code != 0 {
		t.Fatal("gen-key failed")
	}
	certPEM, keyPEM := selfSigned(t)
	for name, text := range map[string]string{
		"seal.keys": keyLine.String(), "exchange.secret": "s3cret", "tls.key": keyPEM, "fullchain.pem": certPEM,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := strings.NewReplacer(
		"/run/credentials/tokentray-relay.service/", dir+"/",
		"/etc/tokentray-relay/", dir+"/",
	).Replace(example)
	path := filepath.Join(dir, "relay.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config", path, "--check-config"}, &out, &errOut); code != 0 {
		t.Fatalf("--check-config on the example = %d: %s", code, errOut.String())
	}
}

// selfSigned returns a PEM certificate for 127.0.0.1 and its PEM key.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// TestKubernetesExample checks deploy/kubernetes: its relay.toml passes --check-config
// once the mounted secret files exist, it uses a shared store with a password file,
// and the manifests run three replicas, drain a pod whose store is unreachable and
// take every secret from files.
func TestKubernetesExample(t *testing.T) {
	text := readDeploy(t, "kubernetes/relay.toml")
	cfg, err := relay.LoadConfig(filepath.Join(deployDir, "kubernetes/relay.toml"))
	if err != nil {
		t.Fatalf("LoadConfig(kubernetes/relay.toml) = %v", err)
	}
	if cfg.SharedStore == "" || cfg.SharedStorePasswordFile == "" || cfg.RefreshAnswerWindow != 24*time.Hour {
		t.Errorf("shared_store %q, password file %q, window %s: want a store, a password file, 24h",
			cfg.SharedStore, cfg.SharedStorePasswordFile, cfg.RefreshAnswerWindow)
	}
	dir := t.TempDir()
	var keyLine bytes.Buffer
	if code := run(context.Background(), []string{"gen-key"}, &keyLine, &bytes.Buffer{}); code != 0 {
		t.Fatal("gen-key failed")
	}
	for name, content := range map[string]string{"seal.keys": keyLine.String(), "exchange.secret": "s3cret", "redis.pass": "pw"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "relay.toml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "/run/secrets/tokentray-relay/", dir+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config", path, "--check-config"}, &out, &errOut); code != 0 {
		t.Fatalf("--check-config on kubernetes/relay.toml = %d: %s", code, errOut.String())
	}

	manifests := readDeploy(t, "kubernetes/relay.yaml")
	for _, want := range []string{
		"kind: Deployment", "replicas: 3", "kind: Service", "readinessProbe:", "path: /healthz",
		"secretName: tokentray-relay", "mountPath: /run/secrets/tokentray-relay", "readOnlyRootFilesystem: true",
		"runAsNonRoot: true", `args: ["--config", "/etc/tokentray-relay/relay.toml"]`,
	} {
		if !strings.Contains(manifests, want) {
			t.Errorf("kubernetes/relay.yaml lacks %q", want)
		}
	}
	if strings.Contains(manifests, "secretKeyRef") || strings.Contains(manifests, "livenessProbe:\n            httpGet") {
		t.Error("kubernetes/relay.yaml passes a secret as an environment variable or restarts pods on /healthz")
	}
	store := readDeploy(t, "kubernetes/valkey.yaml")
	for _, want := range []string{"kind: Deployment", "kind: Service", "name: tokentray-valkey", "--requirepass", "/run/secrets/tokentray-relay/redis.pass"} {
		if !strings.Contains(store, want) {
			t.Errorf("kubernetes/valkey.yaml lacks %q", want)
		}
	}
	kust := readDeploy(t, "kubernetes/kustomization.yaml")
	for _, file := range []string{"relay.yaml", "valkey.yaml", "relay.toml"} {
		if !strings.Contains(kust, file) {
			t.Errorf("kustomization.yaml does not name %s", file)
		}
	}
}
