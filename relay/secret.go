package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// maxSecretFileSize bounds a secret or key file read into memory.
const maxSecretFileSize = 64 << 10

// readSecretFile reads a file holding a secret, warning when others may read it. The
// error names the file, never its content.
func readSecretFile(path, what string, log *slog.Logger) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s %s: not a regular file", what, path)
	}
	if fi.Size() > maxSecretFileSize {
		return nil, fmt.Errorf("%s %s: larger than 64 KiB", what, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		log.Warn("secret file is open to other users; chmod 600 it", "what", what, "path", path, "mode", fi.Mode().Perm().String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return data, nil
}

// clientSecret returns the provider's client secret from ClientSecret, its file or its
// environment variable.
func (p *Provider) clientSecret(log *slog.Logger) (string, error) {
	switch {
	case p.ClientSecret != "":
		return p.ClientSecret, nil
	case p.ClientSecretFile != "":
		data, err := readSecretFile(p.ClientSecretFile, "client_secret_file", log)
		if err != nil {
			return "", err
		}
		s := strings.TrimSpace(string(data))
		clear(data)
		if s == "" {
			return "", fmt.Errorf("client_secret_file %s is empty", p.ClientSecretFile)
		}
		return s, nil
	case p.ClientSecretEnv != "":
		s := strings.TrimSpace(os.Getenv(p.ClientSecretEnv))
		if s == "" {
			return "", fmt.Errorf("client_secret_env %s is not set or empty", p.ClientSecretEnv)
		}
		return s, nil
	}
	return "", errors.New("no client secret source")
}

// storePassword returns the shared store's password from its file or environment
// variable, or "" when the config names neither.
func (c *Config) storePassword(log *slog.Logger) (string, error) {
	switch {
	case c.SharedStorePasswordFile != "":
		data, err := readSecretFile(c.SharedStorePasswordFile, "shared_store_password_file", log)
		if err != nil {
			return "", err
		}
		s := strings.TrimSpace(string(data))
		clear(data)
		if s == "" {
			return "", fmt.Errorf("shared_store_password_file %s is empty", c.SharedStorePasswordFile)
		}
		return s, nil
	case c.SharedStorePasswordEnv != "":
		s := strings.TrimSpace(os.Getenv(c.SharedStorePasswordEnv))
		if s == "" {
			return "", fmt.Errorf("shared_store_password_env %s is not set or empty", c.SharedStorePasswordEnv)
		}
		return s, nil
	}
	return "", nil
}
