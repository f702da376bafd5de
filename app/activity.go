package app

import (
	"context"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/tokentray/tokentray/localapi"
)

// activityTab lists who used the agent: process, pid, connection, operation
// and time, newest first. It loads when opened or reloaded, never by itself.
type activityTab struct {
	u     *ui
	rows  []localapi.Activity
	table *widget.Table
	note  *widget.Label
}

func newActivityTab(u *ui) *activityTab { return &activityTab{u: u} }

// activityColumns are the table's headers and widths.
var activityColumns = []struct {
	title string
	width float32
}{{"Time", 90}, {"Process", 220}, {"PID", 70}, {"Connection", 160}, {"Operation", 110}}

func (a *activityTab) build() fyne.CanvasObject {
	a.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(a.rows), len(activityColumns) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(a.rows) {
				o.(*widget.Label).SetText(activityCell(a.rows[id.Row], id.Col))
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
	reload := widget.NewButton("Reload", a.reload)
	return container.NewBorder(container.NewBorder(nil, nil, nil, reload, a.note), nil, nil, nil, a.table)
}

// activityCell is the text of one cell.
func activityCell(r localapi.Activity, col int) string {
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
		if r.Connection == "" {
			return "—"
		}
		return r.Connection
	case 4:
		return r.Op
	}
	return ""
}

// reload fetches the activity.
func (a *activityTab) reload() {
	var rows []localapi.Activity
	a.u.call(func(ctx context.Context) (err error) {
		rows, err = a.u.client.Activity(ctx)
		return err
	}, func(err error) {
		if err != nil {
			a.note.SetText("Cannot read the activity: " + err.Error())
			return
		}
		a.rows = rows
		a.note.SetText(fmt.Sprintf("%d accesses, newest first", len(rows)))
		a.table.Refresh()
	})
}
