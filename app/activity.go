package app

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localclient"
)

// activityTab lists who used the agent: time, process, pid, connection (by
// label) and what was done ("sign POST /api/v2/orders"), newest first. It
// loads when opened, then stays live: each access arrives as an "activity"
// event. The filter keeps the rows whose text contains it.
type activityTab struct {
	u      *ui
	all    []localclient.Activity // newest first, at most maxActivity
	rows   []localclient.Activity // all, filtered
	table  *widget.Table
	filter *widget.Entry
	note   *widget.Label
}

// maxActivity is how many accesses the tab keeps, as the agent does.
const maxActivity = 1000

func newActivityTab(u *ui) *activityTab { return &activityTab{u: u} }

// activityColumns are the table's headers and widths.
var activityColumns = []struct {
	title string
	width float32
}{{"Time", 90}, {"Process", 180}, {"PID", 70}, {"Connection", 200}, {"What", 260}}

func (a *activityTab) build() fyne.CanvasObject {
	a.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(a.rows), len(activityColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(a.rows) {
				o.(*widget.Label).SetText(a.cell(a.rows[id.Row], id.Col))
			}
		})
	a.table.ShowHeaderColumn = false
	a.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	a.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(activityColumns[id.Col].title)
		}
	}
	for i, c := range activityColumns {
		a.table.SetColumnWidth(i, c.width)
	}
	a.note = widget.NewLabel("")
	a.filter = widget.NewEntry()
	a.filter.PlaceHolder = "Filter: a script, a connection, POST, /orders…"
	a.filter.OnChanged = func(string) { a.apply() }
	return container.NewBorder(container.NewVBox(a.filter, a.note), nil, nil, nil, a.table)
}

// cell is the text of one cell.
func (a *activityTab) cell(r localclient.Activity, col int) string {
	switch col {
	case 0:
		return r.Time.Local().Format("15:04:05")
	case 1:
		if r.Exe == "" {
			return "?"
		}
		return filepath.Base(r.Exe)
	case 2:
		return fmt.Sprint(r.PID)
	case 3:
		return a.connName(r)
	case 4:
		return activityWhat(r)
	}
	return ""
}

// connName is the connection as people know it: its label now, else the
// label it had, else its id.
func (a *activityTab) connName(r localclient.Activity) string {
	if r.Connection == "" {
		return "—"
	}
	if c, ok := a.u.connection(r.Connection); ok && c.Label != "" {
		return c.Label
	}
	if r.Label != "" {
		return r.Label
	}
	return r.Connection
}

// activityWhat says what was done: "sign POST /api/v2/orders", "token".
func activityWhat(r localclient.Activity) string {
	return strings.TrimSpace(strings.Join([]string{r.Op, r.Method, r.Path}, " "))
}

// add shows one access that just happened, unless a reload already
// brought it: the event and the reloaded record may arrive in either order.
func (a *activityTab) add(r localclient.Activity) {
	for i := 0; i < len(a.all) && i < recentToCompare; i++ {
		if sameActivity(a.all[i], r) {
			return
		}
	}
	a.all = slices.Insert(a.all, 0, r)
	if len(a.all) > maxActivity {
		a.all = a.all[:maxActivity]
	}
	a.apply()
}

// recentToCompare is how many of the newest entries add compares a live
// event with: more than can arrive while one reload is on its way.
const recentToCompare = 64

// sameActivity reports whether x and y are one access.
func sameActivity(x, y localclient.Activity) bool {
	return x.Time.Equal(y.Time) && x.PID == y.PID && x.Exe == y.Exe && x.Connection == y.Connection &&
		x.Op == y.Op && x.Method == y.Method && x.Path == y.Path
}

// apply filters the rows and redraws the table.
func (a *activityTab) apply() {
	f := strings.ToLower(strings.TrimSpace(a.filter.Text))
	a.rows = a.all
	if f != "" {
		a.rows = nil
		for _, r := range a.all {
			text := strings.ToLower(strings.Join([]string{a.cell(r, 1), a.cell(r, 2), a.cell(r, 3), r.Connection, a.cell(r, 4)}, " "))
			if strings.Contains(text, f) {
				a.rows = append(a.rows, r)
			}
		}
	}
	switch {
	case f != "":
		a.note.SetText(fmt.Sprintf("%d of %d accesses match, newest first; new ones appear as they happen.", len(a.rows), len(a.all)))
	default:
		a.note.SetText(fmt.Sprintf("%d accesses, newest first; new ones appear as they happen.", len(a.all)))
	}
	if a.u.win.visible {
		a.table.Refresh() // a hidden window redraws nothing; show reloads
	}
}

// reload fetches the whole record; the events keep it current after.
func (a *activityTab) reload() {
	var rows []localclient.Activity
	a.u.call(func(ctx context.Context) (err error) {
		rows, err = a.u.client.Activity(ctx)
		return err
	}, func(err error) {
		if err != nil {
			a.note.SetText("The activity could not be read. " + a.u.say(err, ""))
			return
		}
		// Live events that arrived while the record was on its way are
		// newer than its newest entry: keep them on top.
		var newer []localclient.Activity
		for _, r := range a.all {
			if len(rows) > 0 && !r.Time.After(rows[0].Time) {
				break
			}
			newer = append(newer, r)
		}
		a.all = append(newer, rows...)
		if len(a.all) > maxActivity {
			a.all = a.all[:maxActivity]
		}
		a.apply()
	})
}
