package agent

import (
	"fmt"
	"time"
)

// Settings are the agent-wide settings, kept in the vault.
type Settings struct {
	// RefreshMargin is how long before expiry a key is refreshed. Each refresh
	// kills the old key pair at once, so a larger margin means keys that
	// scripts hold die earlier; a smaller one leaves less room for retries.
	RefreshMargin time.Duration `json:"refresh_margin"`
	// Autostart asks the desktop to start tokentray at login.
	Autostart bool `json:"autostart"`
	// ApproveApps reports whether token, sign and proxy need an app grant.
	// It is not kept with the settings: it comes from Config and the choice
	// saved in the vault's approve_apps entry (startApproveApps), and changes
	// only through SetApproveApps.
	ApproveApps bool `json:"-"`
}

// The bounds of RefreshMargin.
const (
	DefaultRefreshMargin = 10 * time.Minute
	MinRefreshMargin     = time.Minute
	MaxRefreshMargin     = 2 * time.Hour
)

func defaultSettings() Settings { return Settings{RefreshMargin: DefaultRefreshMargin} }

// SettingsPatch changes some settings; nil fields stay.
type SettingsPatch struct {
	RefreshMargin *time.Duration
	Autostart     *bool
}

// Settings returns the current settings.
func (a *Agent) Settings() Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings
}

// UpdateSettings validates and saves p. On error nothing changes.
func (a *Agent) UpdateSettings(p SettingsPatch) (Settings, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.settings
	if p.RefreshMargin != nil {
		m := *p.RefreshMargin
		if m < MinRefreshMargin || m > MaxRefreshMargin {
			return s, fmt.Errorf("%w: refresh_margin must be between %s and %s", ErrBadRequest, MinRefreshMargin, MaxRefreshMargin)
		}
		s.RefreshMargin = m
	}
	if p.Autostart != nil {
		s.Autostart = *p.Autostart
	}
	if err := a.putMeta(settingsKey, s); err != nil {
		return a.settings, err
	}
	a.settings = s
	a.wake()
	return s, nil
}
