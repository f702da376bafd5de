package glfw

import (
	"runtime"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/internal/app"
	"fyne.io/fyne/v2/internal/async"
	"fyne.io/fyne/v2/internal/cache"
	"fyne.io/fyne/v2/internal/driver/common"
	"fyne.io/fyne/v2/internal/painter"
	"fyne.io/fyne/v2/internal/scale"
)

type funcData struct {
	f    func()
	done chan struct{} // Zero allocation signalling channel
}

// channel for queuing functions on the main thread
var (
	funcQueue        = async.NewUnboundedChan[funcData]()
	running, drained atomic.Bool

	// tokentray: queued counts the funcs put into funcQueue and not yet run,
	// so that a loop woken from idle mode runs them all, even those the
	// queue's goroutine has not moved to Out() yet. idling is set while the
	// loop may block in waitEvents, when a queued func must wake it.
	queued atomic.Int64
	idling atomic.Bool
)

// tokentray: after idleAfterFrames frames (~0.17 s) in which nothing happened,
// runGL stops its 60 Hz ticker and blocks in waitEvents, which input or a
// queued func ends at once, and an unannounced change after idleWait seconds.
const (
	idleAfterFrames = 10
	idleWait        = time.Second / 2
)

// Arrange that main.main runs on main thread.
func init() {
	runtime.LockOSThread()
	async.SetMainGoroutine()
}

// force a function f to run on the main thread
func runOnMain(f func()) {
	runOnMainWithWait(f, true)
}

// force a function f to run on the main thread and specify if we should wait for it to return
func runOnMainWithWait(f func(), wait bool) {
	// If we are on main before app run just execute - otherwise add it to the main queue and wait.
	// We also need to run it as-is if the app is in the process of shutting down as the queue will be stopped.
	if (!running.Load() && async.IsMainGoroutine()) || drained.Load() {
		f()
		return
	}

	if wait {
		done := common.DonePool.Get()
		defer common.DonePool.Put(done)

		queued.Add(1)
		funcQueue.In() <- funcData{f: f, done: done}
		wakeIfIdle()
		<-done
	} else {
		queued.Add(1)
		funcQueue.In() <- funcData{f: f}
		wakeIfIdle()
	}
}

// wakeIfIdle ends the loop's waitEvents, if it may be in one. Callers first
// count their func in queued: either the loop sees it before it blocks or
// they see idling set.
func wakeIfIdle() {
	if idling.Load() {
		wakeMain()
	}
}

// runQueued runs a func taken from funcQueue.
func runQueued(f funcData) {
	queued.Add(-1)
	f.f()
	if f.done != nil {
		f.done <- struct{}{}
	}
}

func decideRepaint(visible, ready bool, checkDirtyAndClear func() bool) bool {
	return visible && ready && checkDirtyAndClear()
}

// drawSingleFrame repaints the windows that need it, and reports whether it
// repainted any.
func (d *gLDriver) drawSingleFrame() (painted bool) {
	refreshed := false
	for _, win := range d.windowList() {
		w := win.(*window)
		if w.closing {
			continue
		}

		if decideRepaint(w.visible, w.frame.ready(), w.canvas.CheckDirtyAndClear) {
			painted = true
			w.RunWithContext(func() {
				if w.driver.repaintWindow(w) {
					refreshed = true
				}
			})
			w.updateAccessibility()
		} else {
			w.markCacheAlive()
		}
	}
	cache.Clean(refreshed)
	return painted
}

func (w *window) markCacheAlive() {
	threshold := time.Now().Add(10*time.Second - cache.ValidDuration)
	if w.lastWalkedTime.Before(threshold) {
		w.canvas.WalkTrees(nil, func(node *common.RenderCacheNode, _ fyne.Position) {
			_ = cache.GetCanvasForObject(node.Obj())
			if wid, ok := node.Obj().(fyne.Widget); ok {
				_, _ = cache.CachedRenderer(wid)
			}
		})
		w.lastWalkedTime = time.Now()
	}
}

func (d *gLDriver) applyThemeToWindow(w fyne.Window) {
	if win, ok := w.(*window); ok {
		win.setDarkMode()
	}
}

func (d *gLDriver) runGL() {
	if !running.CompareAndSwap(false, true) {
		return // Run was called twice.
	}

	d.init()
	if d.trayStart != nil {
		d.trayStart()
	}

	fyne.CurrentApp().Settings().AddListener(func(set fyne.Settings) {
		painter.ClearFontCache()
		cache.ResetThemeCaches()
		app.ApplySettingsWithCallback(set, fyne.CurrentApp(), func(w fyne.Window) {
			d.applyThemeToWindow(w)
			c, ok := w.Canvas().(*glCanvas)
			if !ok {
				return
			}
			c.applyThemeOutOfTreeObjects()
			c.reloadScale()
		})
	})

	if f := fyne.CurrentApp().Lifecycle().(*app.Lifecycle).OnStarted(); f != nil {
		f()
	}

	eventTick := time.NewTicker(time.Second / 60)
	quiet := 0 // frames in a row in which nothing happened
	for {
		select {
		case <-d.done:
			eventTick.Stop()
			d.Terminate()
			l := fyne.CurrentApp().Lifecycle().(*app.Lifecycle)
			if f := l.OnStopped(); f != nil {
				l.QueueEvent(f)
			}

			// as we are shutting down make sure we drain the pending funcQueue and close it out.
			for len(funcQueue.Out()) > 0 {
				f := <-funcQueue.Out()
				if f.done != nil {
					f.done <- struct{}{}
				}
			}
			drained.Store(true)
			funcQueue.Close()
			return
		case f := <-funcQueue.Out():
			runQueued(f)
			quiet = 0
		case <-eventTick.C:
			d.pollEvents()
			if d.frame() {
				quiet = 0
			} else if quiet++; idleSupported && quiet >= idleAfterFrames {
				eventTick.Stop()
				d.idle()
				quiet = 0
				eventTick.Reset(time.Second / 60)
			}
		}
	}
}

// idle is tokentray's idle mode: it blocks in waitEvents until input, a
// queued func or idleWait, then runs the queued funcs and one frame, and
// returns once something happened or d.done is closed.
func (d *gLDriver) idle() {
	for {
		idling.Store(true)
		start := time.Now()
		if queued.Load() == 0 {
			d.waitEvents(idleWait.Seconds())
		}
		idling.Store(false)
		woken := time.Since(start) < idleWait*9/10 // not by the timeout

		ran := false
		for queued.Load() > 0 { // announced, perhaps not yet in Out()
			select {
			case f := <-funcQueue.Out():
				runQueued(f)
				ran = true
			case <-d.done:
				return
			}
		}
		select {
		case <-d.done:
			return
		default:
		}
		if busy := d.frame(); busy || ran || woken {
			return
		}
	}
}

// frame is one tick of runGL after the events are processed: it closes,
// resizes and repaints the windows and ticks the animations. It reports
// whether anything happened.
func (d *gLDriver) frame() (busy bool) {
	for i := 0; i < len(d.windows); i++ {
		w := d.windows[i].(*window)
		w.ensurePositionProcessed()

		if w.viewport == nil {
			continue
		}

		if w.viewport.ShouldClose() {
			d.destroyWindow(w, i)
			busy = true
			i-- // Trailing windows are moved forward one step.
			continue
		}

		expand := w.shouldExpand
		fullScreen := w.fullScreen

		if expand && !fullScreen {
			busy = true
			w.fitContent()
			shouldExpand := w.shouldExpand
			w.shouldExpand = false
			view := w.viewport

			if shouldExpand && runtime.GOOS != "js" {
				view.SetSize(w.shouldWidth, w.shouldHeight)
			}
		}
	}

	d.animation.TickAnimations()
	busy = d.animation.Active() || busy
	return d.drawSingleFrame() || busy
}

func (d *gLDriver) destroyWindow(w *window, index int) {
	w.visible = false
	w.viewport.Destroy()
	w.destroy(d)

	if index < len(d.windows)-1 {
		copy(d.windows[index:], d.windows[index+1:])
	}
	d.windows[len(d.windows)-1] = nil
	d.windows = d.windows[:len(d.windows)-1]

	if len(d.windows) == 0 {
		d.Quit()
	}
}

func (d *gLDriver) repaintWindow(w *window) bool {
	canvas := w.canvas
	freed := false
	if canvas.EnsureMinSize() {
		w.shouldExpand = true
	}
	freed = canvas.FreeDirtyTextures() > 0

	updateGLContext(w)
	canvas.paint(canvas.Size())

	view := w.viewport
	visible := w.visible

	if view != nil && visible {
		w.frame.requestFrame()
		view.SwapBuffers()
	}

	// mark that we have walked the window and don't
	// need to walk it again to mark caches alive
	w.lastWalkedTime = time.Now()
	return freed
}

// refreshWindow requests that the specified window be redrawn
func refreshWindow(w *window) {
	w.canvas.SetDirty()
}

func updateGLContext(w *window) {
	canvas := w.canvas
	size := canvas.Size()

	// w.width and w.height are not correct if we are maximised, so figure from canvas
	winWidth := float32(scale.ToScreenCoordinate(canvas, size.Width)) * canvas.texScale
	winHeight := float32(scale.ToScreenCoordinate(canvas, size.Height)) * canvas.texScale

	canvas.Painter().SetFrameBufferScale(canvas.texScale)
	canvas.Painter().SetOutputSize(int(winWidth), int(winHeight))
}
