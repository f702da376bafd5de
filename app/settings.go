package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/internal/humantime"
	"github.com/tokentray/tokentray/localclient"
)

// settingsTab shows the relay, the refresh margin, start at login, the
// appearance, app approval and its notification, and per connection whether
// scripts may read raw keys.
type settingsTab struct {
	u *ui

	relay      *widget.Label
	margin     *widget.Entry
	saveM      *widget.Button
	autostart  *widget.Check
	appearance *widget.RadioGroup
	rawKeys    *fyne.Container
	raw        map[string]*widget.Check
	approve    *widget.Check // "Approve each app": the Approver's switch
	approveWhy *widget.Label // why it cannot be changed here, when it cannot
	newApps    *widget.Check // the new-app notification
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

	approve := s.buildApprove()

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
		bold("Apps"), approve,
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
		s.showApprove(st.ApproveApps)
	})
}

// marginText is the agent's refresh margin (a Go duration) in words.
func marginText(goDuration string) string {
	if d, err := time.ParseDuration(goDuration); err == nil {
		return humantime.Words(d)
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
	d, err := humantime.Parse(s.margin.Text)
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

// buildApprove makes the "Approve each app" switch, its notes and the
// new-app notification's switch.
func (s *settingsTab) buildApprove() fyne.CanvasObject {
	s.approve = widget.NewCheck("Approve each app", s.onApprove)
	what := widget.NewLabel("On: the first time a program asks for a connection's keys, tokentray asks you, and remembers Always and Deny per app (the Apps tab lists them). " +
		"Off: any program of yours can read every key.")
	what.Importance = widget.LowImportance
	what.Wrapping = fyne.TextWrapWord
	s.approveWhy = widget.NewLabel("This window is attached to a tokentray agent running in another process, so it cannot change this: " +
		"only the window of the tray app that runs the agent itself can, and no socket call or command can. " +
		"That agent takes approve_apps from its config.toml, or keeps an \"on\" a tray app saved.")
	s.approveWhy.Wrapping = fyne.TextWrapWord
	s.approveWhy.Importance = widget.WarningImportance
	s.approveWhy.Hide()
	x11 := widget.NewLabel("On X11 any program of yours can send this window synthetic clicks, so a click alone does not prove you made it: " +
		"where a polkit agent runs, \"Always\" asks for your password too. " +
		"The security table in tokentray's README says what approval stops and what it cannot.")
	x11.Importance = widget.LowImportance
	x11.Wrapping = fyne.TextWrapWord
	s.newApps = widget.NewCheck("Tell me when a new app uses a trading connection", s.onNewApps)
	s.quiet = true
	s.newApps.SetChecked(s.u.newAppNotes())
	s.quiet = false
	s.showApprove(false)
	return container.NewVBox(s.approve, what, s.approveWhy, x11, s.newApps)
}

// showApprove shows the switch: the Approver's state when the agent runs
// in this process; else the agent's, from its settings (fromAgent), and
// disabled.
func (s *settingsTab) showApprove(fromAgent bool) {
	ap := s.u.opts.Approver
	if ap == nil {
		s.setQuietly(s.approve, fromAgent)
		s.approve.Disable()
		s.approveWhy.Show()
		return
	}
	s.setQuietly(s.approve, ap.ApproveApps())
	s.approve.Enable()
	s.approveWhy.Hide()
}

// onApprove switches app approval on at once, and off only after asking.
func (s *settingsTab) onApprove(on bool) {
	ap := s.u.opts.Approver
	if s.quiet || ap == nil {
		return
	}
	if on {
		s.setApprove(ap, true)
		return
	}
	s.setQuietly(s.approve, true) // stays on until confirmed
	d := dialog.NewConfirm("Turn off app approval?",
		"Any program of yours can then read every key and place orders with it, without asking: "+
			"a compromised package in a backtest, an install script, an AI coding agent. "+
			"The decisions in the Apps tab are kept for when you turn it on again.",
		func(ok bool) {
			if !ok {
				return
			}
			s.u.confirmHuman("Turn off app approval: any program may then read every key", func(err error) {
				if err != nil {
					s.u.log.Warn("the confirmation of approval off failed; it stays on", "err", err)
					s.status.Importance = widget.DangerImportance
					s.status.SetText("Not confirmed, so app approval stays on: " + err.Error())
					s.status.Show()
					return
				}
				s.setApprove(ap, false)
			})
		}, s.u.win.w)
	d.SetConfirmText("Turn off")
	d.SetDismissText("Keep it on")
	d.Show()
}

// setApprove sets the switch in the agent, then shows what it is.
func (s *settingsTab) setApprove(ap Approver, on bool) {
	s.approve.Disable()
	s.u.call(func(context.Context) error { return ap.SetApproveApps(on) }, func(err error) {
		s.showApprove(false)
		if err != nil {
			s.u.log.Warn("set approve_apps", "err", err)
			s.status.Importance = widget.DangerImportance
			s.status.SetText("App approval was not changed: " + lastPart(err.Error()) + ".")
			s.status.Show()
			return
		}
		s.say(nil, map[bool]string{true: "App approval is on: each app is asked about once.", false: "App approval is off: any program of yours can read every key."}[on])
	})
}

// onNewApps stores whether the new-app notification is wanted.
func (s *settingsTab) onNewApps(on bool) {
	if s.quiet {
		return
	}
	s.u.app.Preferences().SetBool(newAppNotesKey, on)
}
