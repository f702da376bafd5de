package app

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/assets"
	"github.com/tokentray/tokentray/internal/appid"
	"github.com/tokentray/tokentray/internal/approval"
)

// promptDelay is how long a prompt's buttons stay disabled after it
// appears, so that a click or a key meant for another window cannot answer
// it.
const promptDelay = time.Second

// prompter asks the human about the apps that want a key: it subscribes to
// the agent's approval (so that requests wait for an answer), keeps the
// prompts waiting, and shows them one at a time in a window of their own.
//
// Background requests do not pop windows over the trader's charts. A
// prompt window opens by itself only while the tokentray window is shown
// (the user is looking at tokentray anyway), or while the user is going
// through the prompts: after picking "N requests waiting…" in the tray menu
// or "Open tokentray", and after answering one, the next one follows.
// Otherwise a prompt shows as a badge on the tray icon, a menu item
// "N requests waiting…" and one desktop notification per prompt (none
// while a prompt window is open: it counts the requests waiting). Closing a
// prompt window answers nothing: the request waits on (up to the agent's
// 60 s) behind the badge. A prompt that ends without an answer (timed out,
// its request left) closes its window.
type prompter struct {
	u           *ui
	ap          Approver
	unsubscribe func()
	send        func(*fyne.Notification) // fyne.App.SendNotification

	// Fyne thread.
	pending   []approval.Prompt // oldest first
	review    bool              // the user is going through the prompts: open the next one
	notified  map[string]bool   // prompt ids told to the desktop
	dismissed map[string]bool   // prompt ids whose window the user closed
	win       *promptWindow     // the prompt shown; nil when none
}

func newPrompter(u *ui, ap Approver) *prompter {
	return &prompter{u: u, ap: ap, send: u.app.SendNotification, notified: map[string]bool{}, dismissed: map[string]bool{}}
}

// start makes the tray an answerer and follows the prompts until u.ctx
// ends. The subscription is made here, before Run returns to the caller's
// Fyne loop, so a request that comes right after start already waits.
func (p *prompter) start() {
	changes, cancel := p.ap.Subscribe()
	p.unsubscribe = cancel
	ctx := p.u.ctx
	go func() {
		for {
			list := p.ap.Pending()
			p.u.do(func() { p.set(list) })
			select {
			case <-ctx.Done():
				return
			case <-changes:
			}
		}
	}()
}

// stop stops answering: the requests waiting get approval_required.
func (p *prompter) stop() {
	if p.unsubscribe != nil {
		p.unsubscribe()
	}
}

// waiting returns how many requests wait for an answer.
func (p *prompter) waiting() int {
	n := 0
	for _, pr := range p.pending {
		n += max(pr.Waiting, 1)
	}
	return n
}

// set takes the prompts now waiting: it closes the window of a prompt that
// ended, tells the desktop about new ones that do not open at once, opens
// the oldest when it may, and updates the tray.
func (p *prompter) set(list []approval.Prompt) {
	p.pending = list
	ids := map[string]bool{}
	for _, pr := range list {
		ids[pr.ID] = true
	}
	for _, m := range []map[string]bool{p.notified, p.dismissed} {
		for id := range m {
			if !ids[id] {
				delete(m, id)
			}
		}
	}
	if p.win != nil && !ids[p.win.prompt.ID] {
		p.win.close()
		p.win = nil
	}
	if len(list) == 0 {
		p.review = false
	}
	if p.win == nil {
		p.openNext(false)
	}
	if p.win != nil {
		i := slices.IndexFunc(list, func(x approval.Prompt) bool { return x.ID == p.win.prompt.ID })
		p.win.update(list[i], p.waiting())
	}
	for _, pr := range list {
		if p.notified[pr.ID] {
			continue
		}
		p.notified[pr.ID] = true
		if p.win != nil {
			continue // the user is at a prompt, which counts the others
		}
		p.send(fyne.NewNotification("An app asks for a key",
			fmt.Sprintf("%s asks for the connection %s. Pick “%s” in the tokentray menu to answer.",
				oneLine(pr.Request.App.Name), p.connName(pr.Request.Connection), waitingLabel(p.waiting()))))
	}
	if p.u.tray != nil {
		p.u.tray.update(p.u.conns)
	}
}

// openNext opens the oldest prompt the user did not put away, if the rule
// allows it now: the user asked (show), is going through the prompts, or
// has the tokentray window in front of them.
func (p *prompter) openNext(asked bool) {
	if p.win != nil || !(asked || p.review || p.u.win.visible) {
		return
	}
	for _, pr := range p.pending {
		if asked || !p.dismissed[pr.ID] {
			delete(p.dismissed, pr.ID)
			p.win = newPromptWindow(p, pr)
			p.notified[pr.ID] = true
			return
		}
	}
}

// show is the user asking to see the prompts: the menu's "N requests
// waiting…" or "Open tokentray".
func (p *prompter) show() {
	if len(p.pending) == 0 {
		return
	}
	p.review = true
	if p.win != nil {
		p.win.w.Show()
		p.win.w.RequestFocus()
		return
	}
	p.openNext(true)
}

// dismissed is the user closing the prompt window: no answer, and no new
// window until they ask.
func (p *prompter) dismiss(pw *promptWindow) {
	if p.win != pw {
		return
	}
	p.dismissed[pw.prompt.ID] = true
	p.review = false
	pw.close()
	p.win = nil
}

// connName names a connection for the human: its label and id.
func (p *prompter) connName(id string) string {
	if c, ok := p.u.connection(id); ok && c.Label != "" {
		return fmt.Sprintf("%s (%s)", oneLine(c.Label), id)
	}
	return id
}

// waitingLabel is "1 request waiting" or "N requests waiting".
func waitingLabel(n int) string {
	if n == 1 {
		return "1 request waiting"
	}
	return fmt.Sprintf("%d requests waiting", n)
}

// promptWindow is one prompt in its own window: who asks, for what, and
// Allow once / Always / Deny. All of it runs on the Fyne thread.
type promptWindow struct {
	p      *prompter
	prompt approval.Prompt
	w      fyne.Window

	once, always, deny *promptButton
	waiting            *widget.Label
	status             *widget.Label

	ready     bool        // promptDelay has passed
	busy      bool        // an answer or a confirmation is under way
	closed    bool        // the window is gone
	stopDelay func() bool // stops the delay's timer
}

func newPromptWindow(p *prompter, pr approval.Prompt) *promptWindow {
	u := p.u
	pw := &promptWindow{p: p, prompt: pr}
	app := pr.Request.App
	pw.w = u.app.NewWindow("tokentray: allow " + shorten(oneLine(app.Name), 60) + "?")
	pw.w.SetIcon(assets.Icon)

	pw.once = newPromptButton("Allow once", func() { pw.answer(approval.AnswerOnce) }, pw)
	pw.always = newPromptButton("Always", func() { pw.answer(approval.AnswerAlways) }, pw)
	pw.deny = newPromptButton("Deny", func() { pw.answer(approval.AnswerDeny) }, pw)
	if !pr.Grantable {
		pw.always.Hide()
	}
	pw.waiting = widget.NewLabel("")
	pw.status = widget.NewLabel("")
	pw.status.Wrapping = fyne.TextWrapWord
	pw.status.Importance = widget.DangerImportance
	pw.status.Hide()

	head := widget.NewLabel(fmt.Sprintf("%s asks for the connection %s.", oneLine(app.Name), p.connName(pr.Request.Connection)))
	head.Wrapping = fyne.TextWrapWord
	head.TextStyle.Bold = true
	var notes []fyne.CanvasObject
	note := func(text string, imp widget.Importance) {
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = imp
		notes = append(notes, l)
	}
	if pr.Changed {
		note("Changed since last approved: you approved this program for this connection with other content. "+
			"Allow it only if you changed it yourself.", widget.WarningImportance)
	}
	if !pr.Grantable {
		note("This app cannot be identified, so it can only be allowed once.", widget.WarningImportance)
	}
	if pr.GrantTTL > 0 {
		note(fmt.Sprintf("Always lasts %s for an interactive terminal, or until the screen locks.", ttlText(pr.GrantTTL)), widget.MediumImportance)
	}

	details := container.New(layout.NewFormLayout())
	for _, row := range promptRows(pr, p.connName(pr.Request.Connection)) {
		k := widget.NewLabel(row[0])
		k.TextStyle.Bold = true
		v := widget.NewLabel(row[1])
		v.Wrapping = fyne.TextWrapBreak
		details.Add(k)
		details.Add(v)
	}
	top := container.NewVBox(append([]fyne.CanvasObject{head}, notes...)...)
	buttons := container.NewHBox(pw.waiting, layout.NewSpacer(), pw.once, pw.always, pw.deny)
	bottom := container.NewVBox(pw.status, buttons)
	pw.w.SetContent(container.NewBorder(top, bottom, nil, nil, container.NewVScroll(details)))
	pw.w.Resize(fyne.NewSize(640, 480))
	pw.w.SetCloseIntercept(pw.closeRequested)
	pw.w.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape {
			pw.answer(approval.AnswerDeny)
		}
	})
	pw.update(pr, p.waiting())
	pw.setButtons()
	pw.w.Show()
	pw.w.RequestFocus()
	pw.stopDelay = u.after(promptDelay, func() {
		u.do(func() {
			if pw.closed {
				return
			}
			pw.ready = true
			pw.setButtons()
			pw.w.Canvas().Focus(pw.deny)
		})
	})
	return pw
}

// promptRows is what a prompt shows of the app and the request, as label
// and value.
func promptRows(pr approval.Prompt, conn string) [][2]string {
	a := pr.Request.App
	var rows [][2]string
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	add("App", fmt.Sprintf("%s (%s)", oneLine(a.Name), a.Kind))
	if a.Kind == appid.Unidentified {
		add("Not identified", oneLine(a.Reason))
	}
	exe := oneLine(a.Exe)
	if exe != "" && a.ExeSHA256 != "" {
		exe += "\nsha256 " + a.ExeSHA256
	}
	add("Path", exe)
	script := oneLine(a.Script)
	if script != "" && a.ScriptSHA256 != "" {
		script += "\nsha256 " + a.ScriptSHA256
	}
	add("Script", script)
	add("Command line", appid.ShowArgs(a.Args))
	add("Working folder", oneLine(a.Cwd))
	if a.PID > 0 {
		add("Process", strconv.Itoa(a.PID))
	}
	if a.Via != nil {
		add("Through", fmt.Sprintf("the tokentray CLI, pid %d: %s", a.Via.PID, appid.ShowArgs(a.Via.Args)))
	}
	var parents []string
	for _, q := range a.Parents {
		parents = append(parents, fmt.Sprintf("pid %d: %s", q.PID, appid.ShowArgs(q.Args)))
	}
	add("Parents", strings.Join(parents, "\n"))
	add("Connection", conn)
	add("Asks for", opText(pr.Request.Op))
	if a.Weak {
		add("Note", "identified after it connected (this kernel has no SO_PEERPIDFD): less sure")
	}
	return rows
}

// ttlText says how long a grant lasts: "4 h", "1 h 30 min", "45 min".
func ttlText(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	case h > 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d min", max(m, 1))
}

// opText says what an operation does with the key.
func opText(op string) string {
	switch op {
	case "token":
		return "the key itself (token)"
	case "sign":
		return "a request signed with the key (sign)"
	case "proxy":
		return "a request sent with the key (proxy)"
	}
	return oneLine(op)
}

// oneLine makes s safe to show on one line: control and format characters
// (newlines, bidirectional overrides) become "?", so a name cannot fake
// another line of the prompt.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

// shorten cuts s to n runes, with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// update shows pr's count of waiting requests.
func (pw *promptWindow) update(pr approval.Prompt, total int) {
	pw.prompt = pr
	text := waitingLabel(total)
	if pr.Waiting > 1 && pr.Waiting != total {
		text += fmt.Sprintf(" (%d from this app)", pr.Waiting)
	}
	pw.waiting.SetText(text)
}

// setButtons enables the buttons once the delay passed, while no answer is
// under way.
func (pw *promptWindow) setButtons() {
	for _, b := range []*promptButton{pw.once, pw.always, pw.deny} {
		if pw.ready && !pw.busy {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// say shows a problem in the prompt.
func (pw *promptWindow) say(text string) {
	pw.status.SetText(text)
	pw.status.Show()
}

// answer is a button (or Escape for Deny). "Always" asks ConfirmAlways
// first, when set, and grants nothing unless it confirms.
func (pw *promptWindow) answer(a approval.Answer) {
	if !pw.ready || pw.busy || pw.closed {
		return
	}
	u := pw.p.u
	pw.p.review = true
	pw.busy = true
	pw.setButtons()
	pw.status.Hide()
	confirm := u.opts.ConfirmAlways
	if a != approval.AnswerAlways || !pw.prompt.Grantable || confirm == nil {
		pw.send(a)
		return
	}
	app := pw.prompt.Request.App
	what := fmt.Sprintf("Always allow %s to use the connection %s", oneLine(app.Name), pw.p.connName(pw.prompt.Request.Connection))
	u.async(func() {
		err := confirm(u.ctx, what)
		u.do(func() {
			if pw.closed {
				return
			}
			if err != nil {
				u.log.Warn("the confirmation of an Always failed; nothing granted", "err", err)
				pw.busy = false
				pw.setButtons()
				pw.w.Canvas().Focus(pw.deny)
				pw.say("Not confirmed, so nothing was granted: " + err.Error())
				return
			}
			pw.send(a)
		})
	})
}

// send gives the agent the answer, off the Fyne thread (a grant is saved
// before Answer returns). The window closes when the prompt leaves the
// agent's list.
func (pw *promptWindow) send(a approval.Answer) {
	u := pw.p.u
	id := pw.prompt.ID
	u.async(func() {
		err := pw.p.ap.Answer(id, a)
		u.do(func() {
			if err == nil || pw.closed {
				return
			}
			pw.busy = false
			if errors.Is(err, approval.ErrNotFound) {
				pw.say("This request is no longer waiting: it timed out or its app gave up.")
				return
			}
			u.log.Warn("answer a prompt", "err", err)
			pw.setButtons()
			pw.say("The answer could not be given: " + err.Error())
		})
	})
}

// closeRequested is the user closing the window: no answer.
func (pw *promptWindow) closeRequested() { pw.p.dismiss(pw) }

// close closes the window and stops its timer.
func (pw *promptWindow) close() {
	if pw.closed {
		return
	}
	pw.closed = true
	if pw.stopDelay != nil {
		pw.stopDelay()
	}
	pw.w.Close()
}

// promptButton is a prompt's button: Escape on it denies, Return presses it.
type promptButton struct {
	widget.Button
	pw *promptWindow
}

func newPromptButton(label string, tapped func(), pw *promptWindow) *promptButton {
	b := &promptButton{pw: pw}
	b.Text = label
	b.OnTapped = tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey answers Deny on Escape and presses the button on Return or
// Enter, besides the Button's Space.
func (b *promptButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		b.pw.answer(approval.AnswerDeny)
	case fyne.KeyReturn, fyne.KeyEnter:
		b.Tapped(nil)
	default:
		b.Button.TypedKey(ev)
	}
}
