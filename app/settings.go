package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

// settingsTab shows the relay, the refresh margin, start at login, and per
// connection whether scripts may read raw keys.
type settingsTab struct {
	u *ui

	relay      *widget.Label
	margin     *widget.Entry
	saveM      *widget.Button
	autostart  *widget.Check
	appearance *widget.RadioGroup
	rawKeys    *fyne.Container
	raw        map[string]*widget.Check
	status     *widget.Label

	quiet bool // set while code, not the user, changes a check
}

func newSettingsTab(u *ui) *settingsTab { return &settingsTab{u: u, raw: map[string]*widget.Check{}} }

func (s *settingsTab) build() fyne.CanvasObject {
	relay := "No relay is set: only providers configured in config.toml can be connected."
	if s.u.opts.RelayURL != "" {
		relay = s.u.opts.RelayURL
	}
	s.relay = widget.NewLabel(relay)
	where := "Change it with $TOKENTRAY_RELAY or relay_url in config.toml"
	if s.u.opts.ConfigPath != "" {
		where = "Change it with $TOKENTRAY_RELAY or relay_url in " + s.u.opts.ConfigPath
	}
	hint := widget.NewLabel(where + ", then restart tokentray.")
	hint.Importance = widget.LowImportance
	hint.Wrapping = fyne.TextWrapWord

	s.margin = widget.NewEntry()
	s.margin.PlaceHolder = "10 minutes"
	s.margin.OnSubmitted = func(string) { s.onSaveMargin() }
	s.saveM = widget.NewButton("Save", s.onSaveMargin)
	marginHint := widget.NewLabel("How long before expiry a key is refreshed: 1 minute to 2 hours, written like \"10 minutes\" or \"10m\". A refresh ends the old key at once.")
	marginHint.Importance = widget.LowImportance
	marginHint.Wrapping = fyne.TextWrapWord

	s.autostart = widget.NewCheck("Start tokentray when I log in", s.onAutostart)
	s.autostart.SetChecked(autostartOn(s.u.opts.Getenv))

	s.appearance = widget.NewRadioGroup([]string{"System", "Light", "Dark"}, s.onAppearance)
	s.appearance.Horizontal = true
	s.appearance.Required = true
	s.quiet = true
	s.appearance.SetSelected(map[string]string{appearanceSystem: "System", appearanceLight: "Light", appearanceDark: "Dark"}[s.u.loadAppearance()])
	s.quiet = false

	s.rawKeys = container.NewVBox()
	rawHint := widget.NewLabel("Off: scripts get signed requests only, never the key itself.")
	rawHint.Importance = widget.LowImportance
	rawHint.Wrapping = fyne.TextWrapWord

	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Hide()

	bold := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	return container.NewVScroll(container.NewVBox(
		bold("Relay"), s.relay, hint,
		bold("Refresh margin"), container.NewBorder(nil, nil, nil, s.saveM, s.margin), marginHint,
		bold("Start at login"), s.autostart,
		bold("Appearance"), s.appearance,
		bold("Scripts may read raw keys"), s.rawKeys, rawHint,
		s.status,
	))
}

// reload reads the agent's settings.
func (s *settingsTab) reload() {
	var st *localclient.Settings
	s.u.call(func(ctx context.Context) (err error) {
		st, err = s.u.client.Settings(ctx)
		return err
	}, func(err error) {
		if err != nil {
			s.say(err, "")
			return
		}
		s.margin.SetText(marginText(st.RefreshMargin))
	})
}

// marginText is the agent's refresh margin (a Go duration) in words.
func marginText(goDuration string) string {
	if d, err := time.ParseDuration(goDuration); err == nil {
		return inWords(d)
	}
	return goDuration
}

// say shows an error, or a confirmation when err is nil.
func (s *settingsTab) say(err error, ok string) {
	switch {
	case err != nil:
		s.status.Importance = widget.DangerImportance
		s.status.SetText(s.u.say(err, ""))
	case ok != "":
		s.status.Importance = widget.SuccessImportance
		s.status.SetText(ok)
	default:
		s.status.Hide()
		return
	}
	s.status.Show()
}

// onSaveMargin sends the refresh margin; the agent checks its bounds.
func (s *settingsTab) onSaveMargin() {
	d, err := parseDuration(s.margin.Text)
	if err != nil {
		s.status.Importance = widget.DangerImportance
		s.status.SetText("The refresh margin was not saved: " + err.Error() + ".")
		s.status.Show()
		return
	}
	m := d.String()
	var st *localclient.Settings
	s.saveM.Disable()
	s.u.call(func(ctx context.Context) (err error) {
		st, err = s.u.client.UpdateSettings(ctx, localclient.SettingsPatch{RefreshMargin: &m})
		return err
	}, func(err error) {
		s.saveM.Enable()
		if err != nil {
			s.say(err, "")
			return
		}
		s.margin.SetText(marginText(st.RefreshMargin))
		s.say(nil, "Saved: keys are now refreshed "+marginText(st.RefreshMargin)+" before they expire.")
	})
}

// onAutostart writes or removes the autostart entry, then records the choice
// in the agent; if the entry cannot be written the box flips back.
func (s *settingsTab) onAutostart(on bool) {
	if s.quiet {
		return
	}
	if err := setAutostart(s.u.opts.Getenv, s.u.opts.Executable, on); err != nil {
		s.setQuietly(s.autostart, !on)
		s.u.log.Warn("autostart", "err", err)
		s.status.Importance = widget.DangerImportance
		s.status.SetText("Start at login could not be changed: " + lastPart(err.Error()) + ".")
		s.status.Show()
		return
	}
	s.u.call(func(ctx context.Context) error {
		_, err := s.u.client.UpdateSettings(ctx, localclient.SettingsPatch{Autostart: &on})
		return err
	}, func(err error) {
		if err != nil {
			s.status.Importance = widget.DangerImportance
			s.status.SetText("The login entry is written, but the agent did not record the choice: " + s.u.say(err, ""))
			s.status.Show()
			return
		}
		s.say(nil, map[bool]string{true: "tokentray will start when you log in.", false: "tokentray will not start at login."}[on])
	})
}

// onAppearance applies and stores System, Light or Dark.
func (s *settingsTab) onAppearance(choice string) {
	if s.quiet || choice == "" {
		return
	}
	if err := s.u.setAppearance(strings.ToLower(choice)); err != nil {
		s.u.log.Warn("store the appearance", "err", err)
		s.status.Importance = widget.DangerImportance
		s.status.SetText("The appearance is changed for now, but could not be saved for next time.")
		s.status.Show()
	}
}

func (s *settingsTab) setQuietly(c *widget.Check, v bool) {
	s.quiet = true
	c.SetChecked(v)
	s.quiet = false
}

// updateConns shows one raw-keys box per connection.
func (s *settingsTab) updateConns(conns []localclient.Connection) {
	objs := make([]fyne.CanvasObject, 0, len(conns))
	seen := map[string]bool{}
	for _, c := range conns {
		ch, ok := s.raw[c.ID]
		if !ok {
			id := c.ID
			ch = widget.NewCheck("", nil)
			ch.OnChanged = func(on bool) { s.onRawKeys(id, ch, on) }
			s.raw[id] = ch
		}
		ch.Text = c.Label
		s.setQuietly(ch, c.RawKeys)
		objs = append(objs, ch)
		seen[c.ID] = true
	}
	for id := range s.raw {
		if !seen[id] {
			delete(s.raw, id)
		}
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel("No connections."))
	}
	s.rawKeys.Objects = objs
	s.rawKeys.Refresh()
}

func (s *settingsTab) onRawKeys(id string, ch *widget.Check, on bool) {
	if s.quiet {
		return
	}
	ch.Disable()
	s.u.setRawKeys(id, on, func(err error) {
		ch.Enable()
		if err != nil {
			s.setQuietly(ch, !on)
		}
		s.say(err, "")
	})
}
